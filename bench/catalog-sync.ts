// Catalog sync benchmark (README "Catalog sync", issue 10 point 1): how long the app takes to mirror
// a catalog of 1,000 and 20,000 variants in Flex, and how much memory it holds while doing it, next to
// a floor measured in the same run (catalog-sync-floor.ts: the same Admin API pages and Flex calls,
// nothing else).
//
//   npm run bench:catalog                                 # 1,000 and 20,000 variants, embedded and PostgreSQL
//   npm run bench:catalog -- --variants 1000 --databases postgres --shopify-rate 1000
//
// Process layout: this runner hosts the Flex sandbox and the Shopify simulator; the app runs as
// `node dist/src/main.js` with production settings (its own process, so its RSS is its own), with its
// shop put in service by the operator CLI (`shops:add`, live key only: one mode to sync); the floor is
// a process of its own too. The app's time runs from /healthz answering (the sync was queued by
// shops:add) to the moment Flex holds a product and a price for every variant, and then to the last
// eligibility metafield written. RSS is sampled every 100 ms; VmHWM is the kernel's high-water mark.
//
// Shopify's cost-based limit is lifted by default (`--shopify-rate unlimited`), so the figures are the
// app's own; the report also gives the Admin API points the sync spent, from which the time at a plan's
// restore rate follows (Standard 100, Advanced 200, Plus 1000 points/s).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FlexSandbox } from '../sandbox/flex';
import { ShopifySimulator } from '../sandbox/shopify';
import { ADMIN_API_SCOPES } from '../src/shopify/access-scopes';
import { machineInfo } from './lib/machine';
import { createBenchDatabase, postgresVersion, type BenchDatabase } from './lib/postgres';
import { baseEnv, freePort, memoryOf, sampleRss, startServer, stopServer } from './lib/processes';
import { EMBEDDED_DATABASE_NODE_FLAGS } from '../src/db/embedded-node-flags';

const REPO = path.resolve(__dirname, '..', '..');
const APP_MAIN = path.join(REPO, 'dist', 'src', 'main.js');
const CLI_MAIN = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
const FLOOR_MAIN = path.join(__dirname, 'catalog-sync-floor.js');
const RESULTS_DIR = path.join(REPO, 'bench', 'results');
const MB = 1024 * 1024;
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Options {
  variants: number[];
  databases: Array<'embedded' | 'postgres'>;
  /** Admin API restore rate in points/s, or null for no limit. */
  shopifyRate: number | null;
  postgresUrl: string;
  save: boolean;
  timeoutMs: number;
  /** Directory for a CPU profile of each app run (`--cpu-prof-dir`), to see where its time goes. */
  cpuProfileDir: string | undefined;
  /** `--max-old-space-size` of the app (MB): a sync that completes under a small heap holds little. */
  appHeapMB: number | undefined;
}

function parseOptions(argv: string[]): Options {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (argv.includes('--help')) {
    log('npm run bench:catalog -- [--variants 1000,20000] [--databases embedded,postgres] [--shopify-rate unlimited|<points/s>] [--postgres-url URL] [--no-save] [--cpu-prof-dir DIR] [--app-heap-mb MB]');
    process.exit(0);
  }
  const rate = value('--shopify-rate') ?? 'unlimited';
  return {
    variants: (value('--variants') ?? '1000,20000').split(',').map(Number).filter((n) => n > 0),
    databases: (value('--databases') ?? 'embedded,postgres').split(',').filter((d): d is 'embedded' | 'postgres' => d === 'embedded' || d === 'postgres'),
    shopifyRate: rate === 'unlimited' ? null : Number(rate),
    postgresUrl: value('--postgres-url') ?? process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    save: !argv.includes('--no-save') && value('--cpu-prof-dir') === undefined,
    cpuProfileDir: value('--cpu-prof-dir'),
    appHeapMB: value('--app-heap-mb') === undefined ? undefined : Number(value('--app-heap-mb')),
    timeoutMs: 60 * 60 * 1000,
  };
}

interface RunResult {
  target: 'floor' | 'embedded' | 'postgres';
  variants: number;
  products: number;
  /** App: spawn to /healthz 200 (migrations included). */
  startupMs: number | null;
  /** Every variant a product and a price in Flex. */
  flexMs: number;
  /** Every eligibility metafield written to Shopify (app only). */
  metafieldsMs: number | null;
  rssAtStartMB: number;
  peakRssMB: number;
  hwmMB: number | null;
  flexCalls: number;
  adminApiPoints: number;
  /** RSS when Flex held 10 %, 20 %, … 100 % of the catalog's products (app only): flat, or growing with the catalog? */
  rssByProgressMB: number[];
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const machine = machineInfo();
  const startedAt = new Date();
  const pg = options.databases.includes('postgres') ? await postgresVersion(options.postgresUrl) : null;
  if (options.databases.includes('postgres') && !pg) {
    log(`No PostgreSQL at ${options.postgresUrl}: leaving it out.`);
    options.databases = options.databases.filter((d) => d !== 'postgres');
  }
  const flex = new FlexSandbox({ port: 0, recordLimit: 10_000 });
  await flex.start();
  const counting = setInterval(() => flexRequestCount(flex), 50);
  const shopify = new ShopifySimulator({ port: 0, apiVersion: '2026-10' });
  await shopify.start();
  const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'flex-bench-catalog-'));
  const results: RunResult[] = [];
  try {
    for (const variants of options.variants) {
      results.push(await runFloor(flex, shopify, options, variants));
      for (const database of options.databases) results.push(await runApp(flex, shopify, options, tmpRoot, database, variants));
    }
  } finally {
    clearInterval(counting);
    await shopify.stop();
    await flex.stop();
    rmSync(tmpRoot, { recursive: true, force: true });
  }
  const loadAtEnd = Math.round(os.loadavg()[0] * 100) / 100;
  const report = render(results, options, machine, pg, startedAt, loadAtEnd);
  process.stdout.write(`${report}\n`);
  if (options.save) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `catalog-sync-${startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.json`);
    writeFileSync(file, `${JSON.stringify({ startedAt, options: { ...options, postgresUrl: undefined }, machine: { ...machine, loadAverage: { start: machine.loadAverage.start, end: loadAtEnd } }, postgres: pg, results, report }, null, 2)}\n`);
    log(`saved ${path.relative(REPO, file)}`);
  }
}

/** A shop with a seeded catalog and a Flex account of its own. */
function prepareShop(flex: FlexSandbox, shopify: ShopifySimulator, options: Options, label: string, variants: number) {
  const domain = `bench-catalog-${label}-${variants}-${randomBytes(3).toString('hex')}.myshopify.com`;
  const account = flex.createAccount({ name: domain });
  const installed = shopify.createShop(domain, { scopes: [...ADMIN_API_SCOPES] });
  const seeded = shopify.seedCatalog(domain, { variants });
  const unlimited = 1_000_000_000;
  shopify.setAdminThrottle(domain, options.shopifyRate === null ? { maximumAvailable: unlimited, restoreRate: unlimited, currentlyAvailable: unlimited } : { maximumAvailable: 2 * options.shopifyRate, restoreRate: options.shopifyRate });
  return { domain, account, accessToken: installed.accessToken, products: seeded.products };
}

function flexCountsOf(flex: FlexSandbox, accountId: string): { products: number; prices: number } {
  const account = (flex.summary().accounts as Array<{ accountId: string; live: { products: number; prices: number } }>).find((a) => a.accountId === accountId)!;
  return account.live;
}

function adminPoints(shopify: ShopifySimulator, domain: string): number {
  return shopify.adminCalls.filter((c) => c.shop === domain).reduce((sum, c) => sum + (c.cost?.actualQueryCost ?? 0), 0);
}

async function runFloor(flex: FlexSandbox, shopify: ShopifySimulator, options: Options, variants: number): Promise<RunResult> {
  log(`floor: ${variants} variants…`);
  const shop = prepareShop(flex, shopify, options, 'floor', variants);
  const requestsBefore = flexRequestCount(flex);
  const child = spawn(process.execPath, [FLOOR_MAIN], {
    env: {
      ...baseEnv(),
      FLOOR_SHOPIFY_URL: `${shopify.url}/admin/api/2026-10/graphql.json`,
      FLOOR_SHOPIFY_TOKEN: shop.accessToken,
      FLOOR_FLEX_URL: flex.url,
      FLOOR_FLEX_KEY: shop.account.liveKey,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rssAtStart = (memoryOf(child.pid!)?.rssBytes ?? 0) / MB;
  const sampler = sampleRss(child.pid!);
  let hwm: number | null = null;
  const hwmTimer = setInterval(() => (hwm = memoryOf(child.pid!)?.peakRssBytes ?? hwm), 100);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(hwmTimer);
  const peak = sampler.stop() / MB;
  if (code !== 0) throw new Error(`the floor exited with ${code}`);
  const { ms } = JSON.parse(output) as { ms: number };
  const counts = flexCountsOf(flex, shop.account.accountId);
  if (counts.products !== variants || counts.prices !== variants) throw new Error(`the floor left ${JSON.stringify(counts)} in Flex for ${variants} variants`);
  return {
    target: 'floor',
    variants,
    products: shop.products,
    startupMs: null,
    flexMs: ms,
    metafieldsMs: null,
    rssAtStartMB: rssAtStart,
    peakRssMB: peak,
    hwmMB: hwm === null ? null : hwm / MB,
    flexCalls: flexRequestCount(flex) - requestsBefore,
    adminApiPoints: adminPoints(shopify, shop.domain),
    rssByProgressMB: [],
  };
}

let flexRequestsSeen = 0;
/** Flex calls so far: flex.requests keeps only the newest entries, so they are counted as they come (every 50 ms, and here). */
function flexRequestCount(flex: FlexSandbox): number {
  flexRequestsSeen += flex.requests.length;
  flex.clearRecords();
  return flexRequestsSeen;
}

function runCli(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    // Not spawnSync: the sandboxes the CLI talks to live in this process.
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`shops:add failed (${code}):\n${output}`))));
  });
}

async function runApp(flex: FlexSandbox, shopify: ShopifySimulator, options: Options, tmpRoot: string, database: 'embedded' | 'postgres', variants: number): Promise<RunResult> {
  log(`app · ${database}: ${variants} variants…`);
  const shop = prepareShop(flex, shopify, options, database, variants);
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpRoot, `${database}-`));
  let db: BenchDatabase | undefined;
  if (database === 'postgres') db = await createBenchDatabase(options.postgresUrl, 'catalog');
  const env: Record<string, string> = {
    ...baseEnv(),
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    APP_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    ...(db ? { DATABASE_URL: db.url, DATABASE_POOL_SIZE: '10' } : {}),
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    SHOPIFY_API_KEY: 'bench-api-key',
    SHOPIFY_API_SECRET: 'bench-api-secret',
    SHOPIFY_API_ORIGIN: shopify.url,
    FLEX_API_URL: flex.url,
    // Session requests are not part of this benchmark; production requires them authenticated.
    PAYMENTS_PROXY_SECRET: randomBytes(32).toString('hex'),
    PAYMENTS_PROXY_HOST: '127.0.0.1',
    PAYMENTS_PROXY_PORT: String(await freePort()),
  };
  shopify.configureApp({ url: `http://127.0.0.1:${port}`, apiKey: 'bench-api-key', apiSecret: 'bench-api-secret' });
  try {
    await runCli(['shops:add', '--shop', shop.domain], { ...env, LOG_LEVEL: 'warn', SHOP_ACCESS_TOKEN: shop.accessToken, FLEX_API_KEY: shop.account.liveKey });
    const requestsBefore = flexRequestCount(flex);
    const { server, startupMs } = await startServer({ name: `app-${database}`, script: APP_MAIN, port, env, logFile: path.join(tmpRoot, `app-${database}-${variants}.log`),
      execArgv: [
        // As `npm start` runs it (scripts/entry-command.cjs).
        ...(database === 'embedded' ? EMBEDDED_DATABASE_NODE_FLAGS : []),
        ...(options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : []),
        ...(options.appHeapMB ? [`--max-old-space-size=${options.appHeapMB}`] : []),
      ],
    });
    const ready = performance.now();
    const rssAtStart = (memoryOf(server.pid)?.rssBytes ?? 0) / MB;
    const sampler = sampleRss(server.pid);
    const expectedMetafields = 2 * (variants + shop.products);
    let flexMs: number | undefined;
    let metafields = 0;
    let seen = 0;
    const rssByProgress: number[] = [];
    try {
      for (;;) {
        await new Promise((r) => setTimeout(r, 100));
        if (flexMs === undefined) {
          const counts = flexCountsOf(flex, shop.account.accountId);
          while (rssByProgress.length < 10 && counts.products >= ((rssByProgress.length + 1) / 10) * variants) rssByProgress.push((memoryOf(server.pid)?.rssBytes ?? 0) / MB);
          if (counts.products >= variants && counts.prices >= variants) flexMs = performance.now() - ready;
        }
        for (; seen < shopify.adminCalls.length; seen++) {
          const call = shopify.adminCalls[seen]!;
          if (call.shop === shop.domain && call.name === 'metafieldsSet' && !call.failed && call.userErrors.length === 0) {
            metafields += ((call.variables as { metafields?: unknown[] } | null)?.metafields ?? []).length;
          }
        }
        if (flexMs !== undefined && metafields >= expectedMetafields) break;
        if (performance.now() - ready > options.timeoutMs) throw new Error(`app · ${database} did not finish ${variants} variants in time (log ${server.logFile})`);
      }
      const metafieldsMs = performance.now() - ready;
      const peak = sampler.stop() / MB;
      const hwm = memoryOf(server.pid)?.peakRssBytes ?? null;
      const counts = flexCountsOf(flex, shop.account.accountId);
      if (counts.products !== variants || counts.prices !== variants) throw new Error(`the app left ${JSON.stringify(counts)} in Flex for ${variants} variants`);
      return {
        target: database,
        variants,
        products: shop.products,
        startupMs,
        flexMs: flexMs!,
        metafieldsMs,
        rssAtStartMB: rssAtStart,
        peakRssMB: peak,
        hwmMB: hwm === null ? null : hwm / MB,
        flexCalls: flexRequestCount(flex) - requestsBefore,
        adminApiPoints: adminPoints(shopify, shop.domain),
        rssByProgressMB: rssByProgress,
      };
    } finally {
      sampler.stop();
      await stopServer(server);
    }
  } finally {
    await db?.drop();
  }
}

function render(results: RunResult[], options: Options, machine: ReturnType<typeof machineInfo>, pg: string | null, startedAt: Date, loadAtEnd: number): string {
  const s = (ms: number | null) => (ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`);
  const mb = (v: number | null) => (v === null ? '–' : `${Math.round(v)} MB`);
  const label = { floor: 'floor', embedded: 'app · embedded', postgres: 'app · PostgreSQL' } as const;
  const lines = [
    `Catalog sync benchmark of ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM, ${machine.os}; load average (1 min) ${machine.loadAverage.start} at start, ${loadAtEnd} at end`,
    `- Node ${machine.node}; PGlite ${machine.pglite}${pg ? `; PostgreSQL ${pg} (same machine, pool 10)` : ''}; sandboxes in the runner's process, app and floor in their own`,
    `- Shopify Admin API limit: ${options.shopifyRate === null ? 'lifted (the app’s own speed)' : `${options.shopifyRate} points/s`}; app page size 100 variants, 4 Flex calls in flight; live mode only${options.appHeapMB ? `; app heap limited to ${options.appHeapMB} MB (--max-old-space-size)` : ''}`,
    '',
    '| variants | target | start-up | all in Flex | vs floor | metafields written | RSS at start | peak RSS (sampled) | VmHWM | Flex calls | Admin API points |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const floor = results.find((f) => f.target === 'floor' && f.variants === r.variants);
    const ratio = r.target === 'floor' || !floor ? '1×' : `${(r.flexMs / floor.flexMs).toFixed(2)}×`;
    lines.push(
      `| ${r.variants.toLocaleString('en-US')} | ${label[r.target]} | ${s(r.startupMs)} | ${s(r.flexMs)} | ${ratio} | ${s(r.metafieldsMs)} | ${mb(r.rssAtStartMB)} | ${mb(r.peakRssMB)} | ${mb(r.hwmMB)} | ${r.flexCalls.toLocaleString('en-US')} | ${Math.round(r.adminApiPoints).toLocaleString('en-US')} |`,
    );
  }
  const apps = results.filter((r) => r.target !== 'floor' && r.rssByProgressMB.length > 0);
  if (apps.length > 0) {
    lines.push('', 'App RSS as the catalog fills Flex (10 %, 20 %, … 100 % of the variants in Flex), MB:');
    for (const r of apps) lines.push(`- ${label[r.target]}, ${r.variants.toLocaleString('en-US')} variants: ${r.rssByProgressMB.map((v) => Math.round(v)).join(', ')}`);
  }
  const points = results.filter((r) => r.target !== 'floor');
  if (points.length > 0) {
    lines.push('', 'At a plan’s Admin API restore rate the sync cannot be faster than points ÷ rate:');
    for (const r of points) {
      lines.push(`- ${label[r.target]}, ${r.variants.toLocaleString('en-US')} variants: ${Math.round(r.adminApiPoints).toLocaleString('en-US')} points → Standard (100/s) ${s((r.adminApiPoints / 100) * 1000)}, Advanced (200/s) ${s((r.adminApiPoints / 200) * 1000)}, Plus (1000/s) ${s((r.adminApiPoints / 1000) * 1000)}`);
    }
  }
  if (machine.loadAverage.start > machine.cores * 0.5) lines.push('', `Warning: the machine was busy when the run started (load average ${machine.loadAverage.start} on ${machine.cores} cores): figures are lower and noisier than on a quiet machine.`);
  return lines.join('\n');
}

main().catch((error: unknown) => {
  log((error as Error).stack ?? String(error));
  process.exit(1);
});
