import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AMOUNT, AMOUNT_MINOR, APP_MAIN, CLI_MAIN, FLOOR_MAIN, log, LOG_LEVEL, MB, POOL_SIZE, type BenchContext, type RunningTarget } from './context';
import type { CpuSource } from './lib/cpu';
import { BENCH_API_SECRET, BENCH_API_VERSION } from './lib/payment-request';
import { createBenchDatabase, type BenchDatabase } from './lib/postgres';
import { EMBEDDED_DATABASE_NODE_FLAGS } from '../src/db/embedded-node-flags';
import { baseEnv, freePort, memoryOf, runNode, startServer, stopServer, type ServerProcess } from './lib/processes';
import type { TargetInfo, TargetName } from './lib/report';
import type { AppEndpoint } from './buyers';

/**
 * The servers under load, each with its own Flex account (and, for the apps, its own shop), so no
 * webhook reaches the wrong one: the floor (floor.ts), and the app on the embedded database and on
 * PostgreSQL, started exactly as in production (`node dist/src/main.js`, configured by environment
 * only: NODE_ENV=production, Shopify credentials set so sandbox mode is off, Flex and Shopify
 * pointing at the sandboxes, session requests authenticated in proxy mode) with its shop registered
 * through the operator CLI (`shops:add`, secrets in its environment).
 */

export type AppName = Exclude<TargetName, 'floor' | 'durable-floor'>;

/** The floor and the durable floor: bench/floor.ts, not the app. */
export function isFloor(name: TargetName): name is 'floor' | 'durable-floor' {
  return name === 'floor' || name === 'durable-floor';
}

/** A day: no checkout made during a run comes due for the reconciler before the run ends. */
const RECONCILE_AFTER_SECONDS = 86_400;

const LABELS: Record<TargetName, string> = { floor: 'floor', 'durable-floor': 'durable floor · PostgreSQL', embedded: 'app · embedded', postgres: 'app · PostgreSQL' };

export function targetInfo(ctx: BenchContext, name: TargetName, pgVersion: string | null): TargetInfo {
  const database: Record<TargetName, string> = {
    floor: 'none (no persistence)',
    'durable-floor': `PostgreSQL ${pgVersion ?? '?'} at ${hostOf(ctx.options.postgresUrl)} (pool ${POOL_SIZE}, same machine; six statements per payment, bench/floor-store.ts)`,
    embedded: `PGlite ${ctx.machine.pglite} (embedded, WASM, inside the app process, one connection)`,
    postgres: `PostgreSQL ${pgVersion ?? '?'} at ${hostOf(ctx.options.postgresUrl)} (pool ${POOL_SIZE}, same machine)`,
  };
  return { name, label: LABELS[name], database: database[name] };
}

/**
 * The floor, or the durable floor on a PostgreSQL database of its own (its backends' CPU counted as
 * the app's are). `execArgv`: Node flags for the floor's process (--profile floor starts it under the
 * CPU profiler).
 */
export async function startFloor(ctx: BenchContext, info: TargetInfo, execArgv: string[] = []): Promise<RunningTarget> {
  const account = await ctx.host.createAccount(`bench ${info.name}`);
  const shop = `bench-${info.name}.myshopify.com`;
  let db: BenchDatabase | undefined;
  if (info.name === 'durable-floor') {
    const made = (db = await createBenchDatabase(ctx.options.postgresUrl, 'floor'));
    ctx.cleanup.add(`database ${made.name}`, () => made.drop());
  }
  const installed = await ctx.host.createShop(shop);
  const catalog = await ctx.host.createCatalog(shop);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...baseEnv(),
    FLEX_API_URL: ctx.flexUrl,
    FLEX_API_KEY: account.liveKey,
    APP_URL: url,
    AMOUNT_MINOR: String(AMOUNT_MINOR),
    SHOPIFY_API_ORIGIN: ctx.shopifyUrl,
    SHOPIFY_API_VERSION: BENCH_API_VERSION,
    SHOP_ACCESS_TOKEN: installed.accessToken,
    SHOPIFY_API_SECRET: BENCH_API_SECRET,
    BENCH_CATALOG: JSON.stringify(catalog),
    ...(db ? { FLOOR_DATABASE_URL: db.url, FLOOR_POOL_SIZE: String(POOL_SIZE) } : {}),
  };
  const { server } = await startServer({ name: info.name, script: FLOOR_MAIN, port, env, logFile: path.join(ctx.tmpRoot, `${info.name}.log`), execArgv });
  ctx.cleanup.add(info.name, () => stopServer(server));
  // One listener: the floor authenticates nothing (no proxy header is sent to it).
  return {
    info,
    flexAccountId: account.accountId,
    server,
    endpoint: { appUrl: url, sessionsUrl: url },
    cpu: { pids: [server.pid], ...(db ? { postgres: { adminUrl: ctx.options.postgresUrl, database: db.name } } : {}) },
    shop,
    idleRssMB: (memoryOf(server.pid)?.rssBytes ?? 0) / MB,
    loadPeakRssMB: 0,
  };
}

/** Everything one app target needs before it starts: its Flex account, shop, port and environment. */
export interface AppLaunch {
  name: AppName;
  info: TargetInfo;
  account: { accountId: string; liveKey: string; testKey: string };
  shop: string;
  accessToken: string;
  port: number;
  /** The private listener for Shopify's session requests (proxy mode) and the proxy's shared secret. */
  sessionsPort: number;
  proxySecret: string;
  logFile: string;
  /** The app's production environment on this data directory / PostgreSQL database. */
  env(dataDir: string, databaseUrl: string | undefined): Record<string, string>;
}

export async function prepareApp(ctx: BenchContext, info: TargetInfo): Promise<AppLaunch> {
  const name = info.name as AppName;
  const account = await ctx.host.createAccount(`bench ${name}`);
  const port = await freePort();
  const sessionsPort = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const shop = `bench-${name}.myshopify.com`;
  const installed = await ctx.host.createShop(shop);
  // The bench catalog, in Shopify before the app is put in service: shops:add starts its sync.
  await ctx.host.createCatalog(shop);
  const encryptionKey = randomBytes(32).toString('hex');
  const proxySecret = randomBytes(32).toString('hex');
  return {
    name,
    info,
    account,
    shop,
    accessToken: installed.accessToken,
    port,
    sessionsPort,
    proxySecret,
    logFile: path.join(ctx.tmpRoot, `app-${name}.log`),
    env: (dataDir, databaseUrl) => ({
      ...baseEnv(),
      NODE_ENV: 'production',
      LOG_LEVEL,
      HOST: '127.0.0.1',
      APP_URL: appUrl,
      DATA_DIR: dataDir,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: String(POOL_SIZE) } : {}),
      ENCRYPTION_KEY: encryptionKey,
      SHOPIFY_API_KEY: 'bench-api-key',
      SHOPIFY_API_SECRET: BENCH_API_SECRET,
      SHOPIFY_API_ORIGIN: ctx.shopifyUrl,
      FLEX_API_URL: ctx.flexUrl,
      // Proxy mode (README "Authenticating Shopify's session requests"): in production a TLS proxy
      // verifies Shopify's client certificate and forwards to this private listener with the secret.
      // The benchmark sends there directly with the header: the proxy's own cost is not the app's.
      PAYMENTS_PROXY_SECRET: proxySecret,
      PAYMENTS_PROXY_HOST: '127.0.0.1',
      PAYMENTS_PROXY_PORT: String(sessionsPort),
      // The pay page scenario opens thousands of checkouts nobody pays; without this the reconciler
      // would read them back from Flex in the middle of later measurements (a bench artefact, not a
      // cost of the payments measured). The reconciler has its own measurement (--only reconcile-backlog).
      RECONCILE_AFTER_SECONDS: String(RECONCILE_AFTER_SECONDS),
    }),
  };
}

/**
 * Until the server joins the buyer's cart: one probe payment with the bench cart up to the pay page
 * (not paid), again until Flex's checkout is made of the cart's lines (`metadata.cart: 'cart'`). For
 * an app that is its catalog sync having put every bench variant in Flex (CatalogVariant rows with
 * their Flex price); until then each probe waits the app's cart wait (3 s) and falls back. Not
 * measured; the probes' checkouts stay unpaid.
 */
export async function awaitCartJoin(ctx: BenchContext, target: { info: TargetInfo; endpoint: AppEndpoint; shop: string }, timeoutMs = 120_000): Promise<void> {
  const started = Date.now();
  let last = '';
  for (let probe = 1; ; probe++) {
    const result = await ctx.host.probeCart({ endpoint: target.endpoint, shop: target.shop, amount: AMOUNT });
    if (result.cart === 'cart') {
      if (result.amountTotal !== AMOUNT_MINOR) throw new Error(`${target.info.label}: the cart's Flex checkout totals ${result.amountTotal}, not ${AMOUNT_MINOR}`);
      log(`${target.info.label}: the cart is joined (catalog synced; probe ${probe}, ${((Date.now() - started) / 1000).toFixed(1)} s, pay page ${Math.round(result.payPageMs)} ms)`);
      return;
    }
    last = result.cart;
    if (Date.now() - started > timeoutMs) throw new Error(`${target.info.label}: the buyer's cart never reached Flex within ${timeoutMs / 1000} s (the checkout was made of: ${last}); is the catalog synced?`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Where an app keeps its data during the load runs. */
export interface AppStore {
  dataDir: string;
  /** PostgreSQL only. */
  db?: BenchDatabase;
  /** What the app is given as DATABASE_URL (the database itself, or the profiling proxy in front of it). */
  databaseUrl?: string;
}

/** The database the load runs use, with the app's shop registered through the operator CLI. */
export async function createAppStore(ctx: BenchContext, app: AppLaunch): Promise<AppStore> {
  const dataDir = path.join(ctx.tmpRoot, `${app.name}-data`);
  let db: BenchDatabase | undefined;
  if (app.name === 'postgres') {
    const bench = (db = await createBenchDatabase(ctx.options.postgresUrl, 'load'));
    ctx.cleanup.add(`database ${bench.name}`, () => bench.drop());
  }
  // The operator CLI takes secrets from the environment (or stdin), never as flags.
  runNode(CLI_MAIN, ['shops:add', '--shop', app.shop], {
    ...app.env(dataDir, db?.url),
    LOG_LEVEL: 'warn',
    SHOP_ACCESS_TOKEN: app.accessToken,
    FLEX_API_KEY: app.account.liveKey,
    FLEX_TEST_API_KEY: app.account.testKey,
  });
  return { dataDir, db, databaseUrl: db?.url };
}

export interface LaunchOptions {
  execArgv?: string[];
  /** Added to the app's environment (e.g. RECONCILE_AFTER_SECONDS). */
  env?: Record<string, string>;
  /** Another instance of the same app: its own ports, the same database and APP_URL. */
  ports?: { port: number; sessionsPort: number };
  logFile?: string;
}

/** Spawns the app on a data directory / database; resolves once /healthz answers 200. */
export function launchApp(app: AppLaunch, dataDir: string, databaseUrl: string | undefined, options: LaunchOptions = {}): Promise<{ server: ServerProcess; startupMs: number }> {
  const port = options.ports?.port ?? app.port;
  const env = { ...app.env(dataDir, databaseUrl), ...options.env, ...(options.ports ? { PAYMENTS_PROXY_PORT: String(options.ports.sessionsPort) } : {}) };
  // As `npm start` runs it (scripts/entry-command.cjs): the embedded database's process with its V8 flags.
  const execArgv = [...(app.name === 'embedded' ? EMBEDDED_DATABASE_NODE_FLAGS : []), ...(options.execArgv ?? [])];
  return startServer({ name: app.name, script: APP_MAIN, port, env, logFile: options.logFile ?? app.logFile, execArgv });
}

/** The app, started on its load store, as a target of the measurements (stopped at cleanup). */
export function runningApp(ctx: BenchContext, app: AppLaunch, store: AppStore, server: ServerProcess): RunningTarget {
  ctx.cleanup.add(app.name, () => stopServer(server));
  return {
    info: app.info,
    flexAccountId: app.account.accountId,
    databaseUrl: store.db?.url,
    server,
    endpoint: appEndpoint(app),
    cpu: appCpuSource(ctx, store, [server.pid]),
    shop: app.shop,
    idleRssMB: (memoryOf(server.pid)?.rssBytes ?? 0) / MB,
    loadPeakRssMB: 0,
  };
}

export function appEndpoint(app: AppLaunch): AppEndpoint {
  return { appUrl: `http://127.0.0.1:${app.port}`, sessionsUrl: `http://127.0.0.1:${app.sessionsPort}`, proxySecret: app.proxySecret };
}

/** The app's processes and, on PostgreSQL, its database's backends. */
export function appCpuSource(ctx: BenchContext, store: AppStore, pids: number[]): CpuSource {
  return { pids, ...(store.db ? { postgres: { adminUrl: ctx.options.postgresUrl, database: store.db.name } } : {}) };
}

function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}`;
  } catch {
    return '?';
  }
}

/** Errors the app logged during the run (pino level ≥ 50), so a broken run does not pass as slow. */
export function appLogProblems(t: { info: TargetInfo; server: { logFile: string } }): string[] {
  if (isFloor(t.info.name)) return [];
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
