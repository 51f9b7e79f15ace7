import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { summarizeCpuProfile } from './lib/cpu-profile';
import { runLoad } from './lib/load';
import { machineInfo } from './lib/machine';
import { PgCountingProxy } from './lib/pg-counting-proxy';
import { measureQueryCost } from './lib/query-cost';
import { createBenchDatabase, postgresVersion, type BenchDatabase } from './lib/postgres';
import { baseEnv, freePort, memoryOf, runNode, sampleRss, startServer, stopServer, waitUntilIdle, type ServerProcess } from './lib/processes';
import {
  renderReport,
  type BenchResults,
  type LoadCell,
  type LoadRunRecord,
  type MemoryRecord,
  type StartupRecord,
  type TargetInfo,
  type TargetName,
  type WebhookCell,
  type WebhookRunRecord,
} from './lib/report';
import { SandboxHost } from './lib/sandbox-client';
import { round, spread, summarizeLatencies } from './lib/stats';

/**
 * `npm run bench`: the payment path, measured side by side with its floor. See bench/README.md.
 *
 * Process layout: this runner (autocannon, orchestration) · a sandbox host (Flex sandbox + Shopify
 * simulator) · the floor · the app on the embedded database · the app on PostgreSQL, each app the
 * compiled `node dist/src/main.js` started as in production, configured by environment only.
 */

const REPO = path.resolve(__dirname, '..', '..');
const DIST = path.resolve(__dirname, '..');
const APP_MAIN = path.join(DIST, 'src', 'main.js');
const CLI_MAIN = path.join(DIST, 'src', 'cli', 'main.js');
const FLOOR_MAIN = path.join(__dirname, 'floor.js');
const RESULTS_DIR = path.join(REPO, 'bench', 'results');
const AMOUNT = '49.99';
const AMOUNT_MINOR = 4999;
const POOL_SIZE = 10;
const LOG_LEVEL = 'info';

const list = (text: string) => text.split(',').map((v) => Number(v.trim())).filter((v) => Number.isFinite(v));

function parseOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      concurrency: { type: 'string' },
      latency: { type: 'string' },
      'webhook-rates': { type: 'string' },
      'webhook-seconds': { type: 'string' },
      'startup-runs': { type: 'string' },
      targets: { type: 'string' },
      'postgres-url': { type: 'string' },
      profile: { type: 'string' },
      'no-save': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'update-readme': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`npm run bench -- [--quick] [--runs 3] [--duration 4] [--warmup 3] [--concurrency 1,8,32] [--latency 0,50]
  [--webhook-rates 5,20] [--webhook-seconds 5] [--startup-runs 3] [--targets floor,embedded,postgres]
  [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres] [--no-save] [--keep (the scratch directory: logs)]
  [--update-readme (puts the table in README.md, between the bench markers of its Performance section)]
npm run bench -- --profile postgres|embedded [--concurrency 8] [--duration 10]
  CPU-profiles the app under load (node --cpu-prof) and counts database round trips per request.
`);
    process.exit(0);
  }
  const quick = values.quick;
  const targets = (values.targets ?? 'floor,embedded,postgres').split(',').map((t) => t.trim()) as TargetName[];
  for (const t of targets) if (!['floor', 'embedded', 'postgres'].includes(t)) throw new Error(`unknown target ${t}`);
  const profile = values.profile as TargetName | undefined;
  if (profile && profile !== 'embedded' && profile !== 'postgres') throw new Error('--profile takes embedded or postgres');
  return {
    quick,
    runs: Number(values.runs ?? (quick ? 1 : 3)),
    durationSeconds: Number(values.duration ?? (profile ? 10 : quick ? 2 : 4)),
    warmupSeconds: Number(values.warmup ?? (quick ? 1 : 3)),
    concurrency: list(values.concurrency ?? (profile ? '8' : quick ? '1,8' : '1,8,32')),
    flexLatencyMs: list(values.latency ?? '0,50'),
    webhookRates: list(values['webhook-rates'] ?? (quick ? '10' : '5,20')),
    webhookSeconds: Number(values['webhook-seconds'] ?? (quick ? 2 : 5)),
    startupRuns: Number(values['startup-runs'] ?? (quick ? 1 : 3)),
    targets: profile ? [profile] : targets.includes('floor') ? targets : (['floor', ...targets] as TargetName[]),
    postgresUrl: values['postgres-url'] ?? process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    profile,
    save: !values['no-save'],
    keep: values.keep,
    updateReadme: values['update-readme'],
  };
}

type Options = ReturnType<typeof parseOptions>;

interface RunningTarget {
  info: TargetInfo;
  flexAccountId: string;
  /** PostgreSQL only: the app's database, directly (not through the profiling proxy). */
  databaseUrl?: string;
  server: ServerProcess;
  shop: string;
  idleRssMB: number;
  loadPeakRssMB: number;
}

const MB = 1024 * 1024;
const log = (line: string) => process.stderr.write(`${line}\n`);

class Cleanup {
  private readonly tasks: Array<{ label: string; run: () => Promise<unknown> | unknown }> = [];
  add(label: string, run: () => Promise<unknown> | unknown): void {
    this.tasks.push({ label, run });
  }
  async runAll(): Promise<void> {
    while (this.tasks.length > 0) {
      const task = this.tasks.pop()!;
      try {
        await task.run();
      } catch (error) {
        log(`cleanup (${task.label}) failed: ${(error as Error).message}`);
      }
    }
  }
}

async function main(): Promise<void> {
  const options = parseOptions();
  const machine = machineInfo();
  const startedAt = new Date();
  const warnings: string[] = [];
  let interrupted = false;
  const onSignal = (signal: string) => {
    if (interrupted) return;
    interrupted = true;
    log(`\n${signal}: stopping the servers and dropping the benchmark databases…`);
    void cleanup.runAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  let targets = options.targets;
  const pgVersion = targets.includes('postgres') ? await postgresVersion(options.postgresUrl) : null;
  if (targets.includes('postgres') && !pgVersion) {
    warnings.push(`PostgreSQL did not answer at ${redact(options.postgresUrl)}: the PostgreSQL figures are missing.`);
    targets = targets.filter((t) => t !== 'postgres');
    if (options.profile) throw new Error('PostgreSQL is needed for --profile postgres');
  }
  if (machine.loadAverage.start > machine.cores * 0.5) {
    warnings.push(`The machine was busy when the run started (load average ${machine.loadAverage.start} on ${machine.cores} cores): figures are lower and noisier than on a quiet machine.`);
  }

  const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'flex-bench-'));
  if (!options.keep) cleanup.add('temporary files', () => rmSync(tmpRoot, { recursive: true, force: true }));
  log(`flex bench: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; scratch ${tmpRoot}`);

  const host = await SandboxHost.start();
  cleanup.add('sandboxes', () => host.stop());
  const { flexUrl, shopifyUrl } = await host.urls();

  const dbLabel: Record<TargetName, string> = {
    floor: 'none (no persistence)',
    embedded: `PGlite ${machine.pglite} (embedded, WASM, inside the app process, one connection)`,
    postgres: `PostgreSQL ${pgVersion ?? '?'} at ${hostOf(options.postgresUrl)} (pool ${POOL_SIZE}, same machine)`,
  };
  const labels: Record<TargetName, string> = { floor: 'floor', embedded: 'app · embedded', postgres: 'app · PostgreSQL' };
  const running: RunningTarget[] = [];
  const startup: StartupRecord[] = [];
  let profileProxy: PgCountingProxy | undefined;
  const profileDir = path.join(tmpRoot, 'profile');

  // ---- start the servers ----
  for (const name of targets) {
    const info: TargetInfo = { name, label: labels[name], database: dbLabel[name] };
    const account = await host.createAccount(`bench ${name}`);
    const port = await freePort();
    const appUrl = `http://127.0.0.1:${port}`;
    if (name === 'floor') {
      const env = { ...baseEnv(), FLEX_API_URL: flexUrl, FLEX_API_KEY: account.liveKey, APP_URL: appUrl, AMOUNT_MINOR: String(AMOUNT_MINOR) };
      const { server } = await startServer({ name, script: FLOOR_MAIN, port, env, logFile: path.join(tmpRoot, 'floor.log') });
      cleanup.add('floor', () => stopServer(server));
      running.push({ info, flexAccountId: account.accountId, server, shop: 'bench-floor.myshopify.com', idleRssMB: (memoryOf(server.pid)?.rssBytes ?? 0) / MB, loadPeakRssMB: 0 });
      continue;
    }
    const shop = `bench-${name}.myshopify.com`;
    const installed = await host.createShop(shop);
    const encryptionKey = randomBytes(32).toString('hex');
    const appEnv = (dataDir: string, databaseUrl: string | undefined): Record<string, string> => ({
      ...baseEnv(),
      NODE_ENV: 'production',
      LOG_LEVEL,
      HOST: '127.0.0.1',
      APP_URL: appUrl,
      DATA_DIR: dataDir,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: String(POOL_SIZE) } : {}),
      ENCRYPTION_KEY: encryptionKey,
      SHOPIFY_API_KEY: 'bench-api-key',
      SHOPIFY_API_SECRET: 'bench-api-secret',
      SHOPIFY_API_ORIGIN: shopifyUrl,
      FLEX_API_URL: flexUrl,
    });
    const logFile = path.join(tmpRoot, `app-${name}.log`);

    // Start-up on a new, empty database: the migrations run.
    if (!options.profile) {
      for (let i = 0; i < options.startupRuns; i++) {
        const dataDir = path.join(tmpRoot, `${name}-fresh-${i}`);
        const db = name === 'postgres' ? await createBenchDatabase(options.postgresUrl, 'fresh') : undefined;
        if (db) cleanup.add(`database ${db.name}`, () => db.drop());
        const { server, startupMs } = await startServer({ name, script: APP_MAIN, port, env: appEnv(dataDir, db?.url), logFile });
        await stopServer(server);
        await db?.drop();
        rmSync(dataDir, { recursive: true, force: true });
        startup.push({ target: name, kind: 'new-database', ms: round(startupMs, 1) });
        log(`start-up ${name}, new database: ${Math.round(startupMs)} ms`);
      }
    }

    // The database the load runs use: the shop registered with the operator CLI first.
    const dataDir = path.join(tmpRoot, `${name}-data`);
    let db: BenchDatabase | undefined;
    let databaseUrl: string | undefined;
    if (name === 'postgres') {
      db = await createBenchDatabase(options.postgresUrl, 'load');
      const bench = db;
      cleanup.add(`database ${db.name}`, () => bench.drop());
      databaseUrl = db.url;
    }
    runNode(
      CLI_MAIN,
      ['shops:add', '--shop', shop, '--access-token', installed.accessToken, '--flex-api-key', account.liveKey, '--flex-test-api-key', account.testKey],
      { ...appEnv(dataDir, databaseUrl), LOG_LEVEL: 'warn' },
    );
    let execArgv: string[] | undefined;
    if (options.profile && db) {
      // Through a counting proxy, to measure database round trips per request.
      const target = new URL(db.url);
      profileProxy = await PgCountingProxy.start(target.hostname, Number(target.port || 5432));
      const proxied = new URL(db.url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(profileProxy.port);
      databaseUrl = proxied.toString();
      const proxy = profileProxy;
      cleanup.add('pg proxy', () => proxy.stop());
    }
    if (options.profile) {
      mkdirSync(profileDir, { recursive: true });
      execArgv = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
    }
    const restarts = options.profile ? 1 : options.startupRuns;
    let server: ServerProcess | undefined;
    for (let i = 0; i < restarts; i++) {
      if (server) await stopServer(server);
      const started = await startServer({ name, script: APP_MAIN, port, env: appEnv(dataDir, databaseUrl), logFile, execArgv });
      server = started.server;
      if (!options.profile) {
        startup.push({ target: name, kind: 'existing-database', ms: round(started.startupMs, 1) });
        log(`start-up ${name}, existing database: ${Math.round(started.startupMs)} ms`);
      }
    }
    const appServer = server!;
    cleanup.add(name, () => stopServer(appServer));
    running.push({ info, flexAccountId: account.accountId, databaseUrl: db?.url, server: appServer, shop, idleRssMB: (memoryOf(appServer.pid)?.rssBytes ?? 0) / MB, loadPeakRssMB: 0 });
  }

  const load = (t: RunningTarget, connections: number, durationSeconds: number) =>
    runLoad({ url: t.server.url, shop: t.shop, amount: AMOUNT, shopifyUrl, connections, durationSeconds });

  // ---- warm-up: JIT, connection pools, and the app's first request creates the catch-all price ----
  await host.setFlexLatency(0);
  for (const t of running) {
    // One request alone first: it creates the app's catch-all price. A burst of first requests for
    // a new amount races to record that price, and the losers answer 500 (a known issue), which
    // is not what this benchmark measures.
    await runLoad({ url: t.server.url, shop: t.shop, amount: AMOUNT, shopifyUrl, connections: 1, durationSeconds: 1 });
    await waitUntilIdle([t.server.pid, host.pid]);
    await host.clearRecords();
    const warm = await load(t, 8, options.warmupSeconds);
    await waitUntilIdle([t.server.pid, host.pid]);
    // Sanity check of the comparison: the floor and the app make the same Flex calls per request.
    const calls = await host.flexCalls(t.flexAccountId);
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    t.info.flexCallsPerRequest = round(total / Math.max(1, warm.sent), 3);
    t.info.flexCalls = calls;
    log(`warm-up ${t.info.name}: ${Math.round(warm.rps)} req/s, ${warm.non2xx} non-2xx, ${warm.errors} errors; Flex calls per request ${t.info.flexCallsPerRequest} (${Object.entries(calls).map(([k, v]) => `${k} ×${v}`).join(', ')})`);
    if (warm.latency.count === 0) throw new Error(`${t.info.name} answered no request with 2xx during warm-up; see ${t.server.logFile}`);
  }

  if (options.profile) {
    await runProfile(options, running[0], load, profileProxy, profileDir, machine, startedAt, warnings, startup, cleanup, host);
    return;
  }

  // ---- payment session requests, floor and apps alternating ----
  const runs: LoadRunRecord[] = [];
  for (const latency of options.flexLatencyMs) {
    await host.setFlexLatency(latency);
    for (const concurrency of options.concurrency) {
      for (let run = 1; run <= options.runs; run++) {
        for (const t of running) {
          const sampler = sampleRss(t.server.pid);
          const result = await load(t, concurrency, options.durationSeconds);
          const peakRssMB = sampler.stop() / MB;
          t.loadPeakRssMB = Math.max(t.loadPeakRssMB, peakRssMB);
          runs.push({
            target: t.info.name,
            flexLatencyMs: latency,
            concurrency,
            run,
            rps: round(result.rps, 1),
            p50: round(result.latency.p50, 2),
            p95: round(result.latency.p95, 2),
            p99: round(result.latency.p99, 2),
            max: round(result.latency.max, 2),
            answered: result.latency.count,
            non2xx: result.non2xx,
            errors: result.errors,
            timeouts: result.timeouts,
            peakRssMB: round(peakRssMB, 1),
          });
          log(
            `Flex ${latency} ms, c=${concurrency}, run ${run}/${options.runs}, ${t.info.name.padEnd(8)}: ${result.rps.toFixed(0).padStart(5)} req/s  p50 ${result.latency.p50.toFixed(1)}  p99 ${result.latency.p99.toFixed(1)} ms${result.non2xx + result.errors ? `  (${result.non2xx} non-2xx, ${result.errors} errors)` : ''}`,
          );
          // Let whatever the server still has in hand finish before the next server is loaded.
          await waitUntilIdle([t.server.pid, host.pid]);
        }
      }
    }
  }
  await host.setFlexLatency(0);

  // ---- webhook to resolve ----
  const webhookRuns: WebhookRunRecord[] = [];
  const apps = running.filter((t) => t.info.name !== 'floor');
  for (const rate of options.webhookRates) {
    for (let run = 1; run <= options.runs; run++) {
      for (const t of apps) {
        const sampler = sampleRss(t.server.pid);
        const result = await host.webhookRun({ appUrl: t.server.url, shop: t.shop, amount: AMOUNT, rate, durationMs: options.webhookSeconds * 1000, resolveTimeoutMs: 30_000 });
        t.loadPeakRssMB = Math.max(t.loadPeakRssMB, sampler.stop() / MB);
        const lat = summarizeLatencies(result.webhookToResolveMs);
        const ack = summarizeLatencies(result.webhookAckMs);
        webhookRuns.push({
          target: t.info.name,
          rate,
          run,
          started: result.started,
          resolved: result.resolved,
          measured: lat.count,
          p50: round(lat.p50, 2),
          p99: round(lat.p99, 2),
          max: round(lat.max, 2),
          ackP50: round(ack.p50, 2),
          retriedDeliveries: result.retriedDeliveries,
          errors: result.errors,
        });
        (webhookSamples[`${t.info.name}/${rate}`] ??= []).push(...result.webhookToResolveMs);
        log(`webhook ${rate}/s run ${run}/${options.runs} ${t.info.name.padEnd(8)}: ${lat.count}/${result.started} resolved, p50 ${lat.p50.toFixed(1)} p99 ${lat.p99.toFixed(1)} ms${result.errors.length ? `  (${result.errors.join('; ')})` : ''}`);
        if (result.retriedDeliveries > 0) warnings.push(`webhook ${rate}/s, ${t.info.label}: ${result.retriedDeliveries} checkout.session.completed deliveries needed a retry (their time includes Flex's retry delay)`);
        await waitUntilIdle([t.server.pid, host.pid]);
      }
    }
  }

  // ---- memory, then stop everything ----
  const hostMemory = await host.memory();
  if (hostMemory.rss > 3 * 1024 * MB) warnings.push(`The sandbox process grew to ${Math.round(hostMemory.rss / MB)} MB (it keeps every checkout session): shorten the run if the machine swaps.`);
  const memory: MemoryRecord[] = running.map((t) => {
    const m = memoryOf(t.server.pid);
    return {
      target: t.info.name,
      idleRssMB: round(t.idleRssMB, 1),
      loadPeakRssMB: round(t.loadPeakRssMB, 1),
      lifetimePeakRssMB: m?.peakRssBytes ? round(m.peakRssBytes / MB, 1) : null,
    };
  });
  for (const t of running) warnings.push(...appLogProblems(t));
  await cleanup.runAll();
  machine.loadAverage.end = Math.round(os.loadavg()[0] * 100) / 100;

  const results: BenchResults = {
    format: 'flex-bench/1',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    wallSeconds: round((Date.now() - startedAt.getTime()) / 1000, 1),
    machine,
    settings: settingsOf(options, running.map((t) => t.info)),
    targets: running.map((t) => t.info),
    load: { cells: loadCells(runs), runs },
    webhook: { cells: webhookCells(webhookRuns), runs: webhookRuns },
    startup: { records: startup },
    memory,
    warnings,
  };
  publish(results, options, 'latest');
}

const webhookSamples: Record<string, number[]> = {};
const cleanup = new Cleanup();

function settingsOf(options: Options, targets: TargetInfo[]): BenchResults['settings'] {
  const servers = targets.map((t) => (t.name === 'floor' ? 'the floor' : `the app on ${t.name === 'embedded' ? 'the embedded database' : 'PostgreSQL'}`));
  return {
    quick: options.quick,
    runs: options.runs,
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    concurrency: options.concurrency,
    flexLatencyMs: options.flexLatencyMs,
    webhookRates: options.webhookRates,
    webhookSeconds: options.webhookSeconds,
    startupRuns: options.startupRuns,
    amount: AMOUNT,
    logLevel: LOG_LEVEL,
    postgresPoolSize: POOL_SIZE,
    layout: `Processes, all on this one machine: load generator (autocannon) · sandboxes (Flex sandbox + Shopify simulator) · ${servers.join(' · ')}; the app is \`node dist/src/main.js\` started with production settings (NODE_ENV=production, LOG_LEVEL=info, logs to a file); RSS is read from /proc for each server process alone`,
  };
}

function loadCells(runs: LoadRunRecord[]): LoadCell[] {
  const cells: LoadCell[] = [];
  const keys = [...new Set(runs.map((r) => `${r.flexLatencyMs}|${r.concurrency}|${r.target}`))];
  for (const key of keys) {
    const [latency, concurrency, target] = key.split('|');
    const mine = runs.filter((r) => `${r.flexLatencyMs}|${r.concurrency}|${r.target}` === key);
    const cell: LoadCell = {
      target: target as TargetName,
      flexLatencyMs: Number(latency),
      concurrency: Number(concurrency),
      rps: spread(mine.map((r) => r.rps)),
      p50: spread(mine.map((r) => r.p50)),
      p95: spread(mine.map((r) => r.p95)),
      p99: spread(mine.map((r) => r.p99)),
      non2xx: mine.reduce((a, r) => a + r.non2xx, 0),
      errors: mine.reduce((a, r) => a + r.errors, 0),
      peakRssMB: Math.max(...mine.map((r) => r.peakRssMB)),
    };
    if (target !== 'floor') {
      const pairs = mine
        .map((r) => ({ r, f: runs.find((x) => x.target === 'floor' && x.flexLatencyMs === r.flexLatencyMs && x.concurrency === r.concurrency && x.run === r.run) }))
        .filter((p): p is { r: LoadRunRecord; f: LoadRunRecord } => p.f !== undefined);
      if (pairs.length > 0) {
        cell.vsFloor = {
          throughputRatio: spread(pairs.map(({ r, f }) => round(r.rps / f.rps, 3))),
          addedP50Ms: spread(pairs.map(({ r, f }) => round(r.p50 - f.p50, 2))),
          addedP99Ms: spread(pairs.map(({ r, f }) => round(r.p99 - f.p99, 2))),
        };
      }
    }
    cells.push(cell);
  }
  return cells;
}

function webhookCells(runs: WebhookRunRecord[]): WebhookCell[] {
  const cells: WebhookCell[] = [];
  for (const key of [...new Set(runs.map((r) => `${r.target}/${r.rate}`))]) {
    const mine = runs.filter((r) => `${r.target}/${r.rate}` === key);
    const pooled = summarizeLatencies(webhookSamples[key] ?? []);
    cells.push({
      target: mine[0].target,
      rate: mine[0].rate,
      sessions: mine.reduce((a, r) => a + r.started, 0),
      unresolved: mine.reduce((a, r) => a + (r.started - r.measured), 0),
      p50: spread(mine.map((r) => r.p50)),
      p99: spread(mine.map((r) => r.p99)),
      pooled: { p50: round(pooled.p50, 2), p99: round(pooled.p99, 2), max: round(pooled.max, 2) },
      ackP50: spread(mine.map((r) => r.ackP50)),
    });
  }
  return cells;
}

/** Errors the app logged during the run (pino level ≥ 50), so a broken run does not pass as slow. */
function appLogProblems(t: RunningTarget): string[] {
  if (t.info.name === 'floor') return [];
  let text = '';
  try {
    text = readFileSync(t.server.logFile, 'utf8');
  } catch {
    return [];
  }
  const errors = text.split('\n').filter((line) => /"level":(50|60)/.test(line));
  if (errors.length === 0) return [];
  const first = (() => {
    try {
      return String((JSON.parse(errors[0]) as { msg?: string }).msg ?? errors[0]).slice(0, 200);
    } catch {
      return errors[0].slice(0, 200);
    }
  })();
  return [`${t.info.label} logged ${errors.length} error line(s); first: ${first}`];
}

function publish(results: BenchResults, options: Options, name: string): void {
  const report = renderReport(results);
  process.stdout.write(`\n${report}\n`);
  if (options.quick) {
    process.stdout.write('(--quick: a smoke run, not saved)\n');
    return;
  }
  if (!options.save) return;
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = `${JSON.stringify(results, null, 1)}\n`;
  writeFileSync(path.join(RESULTS_DIR, `${name}.json`), json);
  writeFileSync(path.join(RESULTS_DIR, `${name}.md`), `${report}\n`);
  const saved = [`${name}.json`, `${name}.md`];
  if (name === 'latest') {
    // A dated copy, so results can be compared over time.
    const stamp = results.startedAt.replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
    writeFileSync(path.join(RESULTS_DIR, `${stamp}.json`), json);
    saved.push(`${stamp}.json`);
  }
  process.stdout.write(`Saved ${saved.map((f) => path.join(path.relative(process.cwd(), RESULTS_DIR), f)).join(', ')}\n`);
  if (options.updateReadme && name === 'latest') updateReadme(report);
}

async function runProfile(
  options: Options,
  target: RunningTarget,
  load: (t: RunningTarget, c: number, s: number) => ReturnType<typeof runLoad>,
  proxy: PgCountingProxy | undefined,
  profileDir: string,
  machine: ReturnType<typeof machineInfo>,
  startedAt: Date,
  warnings: string[],
  startup: StartupRecord[],
  cleanup: Cleanup,
  host: SandboxHost,
): Promise<void> {
  const concurrency = options.concurrency[0] ?? 8;
  const before = proxy?.roundTrips ?? 0;
  proxy?.resetStatements();
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const result = await load(target, concurrency, options.durationSeconds);
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const roundTrips = proxy ? proxy.roundTrips - before : undefined;
  log(`profiled ${target.info.name}: ${Math.round(result.rps)} req/s at c=${concurrency}${roundTrips !== undefined ? `, ${(roundTrips / Math.max(1, result.requests)).toFixed(1)} DB round trips per request` : ''}`);
  // Requests autocannon gave up on at the end may still be running in the app: let them finish,
  // then stop it gracefully (the profile is written on a normal exit only).
  await waitUntilIdle([target.server.pid]);
  const exit = await stopServer(target.server);
  if (exit === 'SIGKILL') warnings.push(`${target.info.label} did not exit within 15 s of SIGTERM and was killed`);
  await host.stop();
  // With the app stopped: what one query costs through Prisma and through pg, in this process.
  const queryCost = target.databaseUrl ? await measureQueryCost(target.databaseUrl, target.shop) : undefined;
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written in ${profileDir}`);
  const summary = summarizeCpuProfile(path.join(profileDir, file), { windowUs: [fromUs, toUs] });
  if (!summary.windowed) warnings.push('Could not cut the CPU profile to the load window: it covers the whole process life (start-up and warm-up included).');
  const keep = path.join(os.tmpdir(), `flex-bench-${target.info.name}-${Date.now()}.cpuprofile`);
  writeFileSync(keep, readFileSync(path.join(profileDir, file)));
  await cleanup.runAll();
  machine.loadAverage.end = Math.round(os.loadavg()[0] * 100) / 100;
  const results: BenchResults = {
    format: 'flex-bench/1',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    wallSeconds: round((Date.now() - startedAt.getTime()) / 1000, 1),
    machine,
    settings: { ...settingsOf(options, [target.info]), flexLatencyMs: [0] },
    targets: [target.info],
    load: { cells: [], runs: [] },
    webhook: { cells: [], runs: [] },
    startup: { records: startup },
    memory: [],
    profile: {
      ...summary,
      target: target.info.name,
      concurrency,
      seconds: options.durationSeconds,
      dbRoundTripsPerRequest: roundTrips !== undefined ? round(roundTrips / Math.max(1, result.requests), 2) : undefined,
      requests: result.requests,
      rps: round(result.rps, 1),
      queryCost: queryCost && {
        queries: queryCost.queries,
        prisma: { cpuMs: round(queryCost.prisma.cpuMs, 3), wallMs: round(queryCost.prisma.wallMs, 3) },
        pg: { cpuMs: round(queryCost.pg.cpuMs, 3), wallMs: round(queryCost.pg.wallMs, 3) },
      },
      cpuMsPerRequest: summary.windowed ? round(summary.busyMs / Math.max(1, result.requests), 2) : undefined,
      statementsPerRequest: proxy
        ? [...proxy.statements.entries()]
            .map(([sql, count]) => ({ sql, perRequest: round(count / Math.max(1, result.requests), 2) }))
            .filter((x) => x.perRequest >= 0.05)
            .sort((a, b) => b.perRequest - a.perRequest)
        : undefined,
    },
    warnings,
  };
  publish(results, { ...options, quick: false }, `profile-${target.info.name}`);
  process.stdout.write(`CPU profile kept at ${keep} (open it in Chrome DevTools → Performance, or speedscope)\n`);
}

/** Replaces what is between the markers in README.md's Performance section, and nothing else. */
function updateReadme(report: string): void {
  const file = path.join(REPO, 'README.md');
  const text = readFileSync(file, 'utf8');
  const start = '<!-- bench:start (npm run bench -- --update-readme) -->';
  const end = '<!-- bench:end -->';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) {
    process.stdout.write('README.md has no bench markers: not updated\n');
    return;
  }
  writeFileSync(file, `${text.slice(0, from + start.length)}\n${report}\n${text.slice(to)}`);
  process.stdout.write('README.md Performance table updated\n');
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return 'the configured URL';
  }
}

function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}`;
  } catch {
    return '?';
  }
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    await cleanup.runAll();
    process.exit(1);
  },
);
