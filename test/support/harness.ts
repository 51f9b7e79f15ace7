import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { FlexSandbox } from '../../sandbox/flex';
import { ShopifySimulator } from '../../sandbox/shopify';
import type { AppTuning } from '../../src/app/composition-root';
import { startApp, type RunningApp } from '../../src/app/start-app';
import { loadConfig, type AppConfig } from '../../src/config';
import { openDatabase, type Database } from '../../src/db/database';
import { readMigrations } from '../../src/db/migrate';
import { AdjustableClock } from '../../src/lib/clock';
import type { PaymentId } from '../../src/lib/ids';
import { createLogger } from '../../src/lib/logger';
import { SHOPIFY_WEBHOOK_TOPICS } from '../../src/merchant/shopify-webhooks/handle-shopify-webhook';
import { ADMIN_API_SCOPES } from '../../src/shopify/access-scopes';
import { SessionProxy } from './session-proxy';
import { normalizeShopDomain } from '../../src/lib/shop-domain';
import { ORDER_WEBHOOK_TOPICS } from '../../src/orders/order-webhooks';

/**
 * Everything an integration test needs, for real: a fresh database (PostgreSQL or the embedded
 * PGlite, per jest project), the Flex sandbox and the Shopify simulator as HTTP servers, and the app
 * listening on a port, wired to them only through configuration, exactly as in production.
 */

export const ADMIN_DATABASE_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** The PostgreSQL server's host and port, for a proxy in front of it. */
export function postgresServer(): { host: string; port: number } {
  const server = new URL(ADMIN_DATABASE_URL);
  return { host: server.hostname, port: Number(server.port || 5432) };
}

/** A `routeDatabase` that sends the app's database connections to a proxy listening on 127.0.0.1:`port()`. */
export function throughProxy(port: () => number): (url: string) => string {
  return (url) => {
    const routed = new URL(url);
    routed.hostname = '127.0.0.1';
    routed.port = String(port());
    return routed.toString();
  };
}

export interface HarnessOptions {
  env?: Record<string, string>;
  tuning?: AppTuning;
  /** Flex sandbox options (webhook retry schedule, refund settling). */
  flexOptions?: ConstructorParameters<typeof FlexSandbox>[0];
  /** Extra config applied after parsing (mTLS in the mTLS test). */
  configure?: (config: AppConfig) => void;
  shopifyClientTls?: { cert: string; key: string; ca?: string };
  /**
   * Shopify sends the order webhooks the app subscribes to (shopify.app.toml) for real. Off by
   * default: the other files count Flex calls and stored state, which order sync would add to.
   */
  orderWebhooks?: boolean;
  /** The URL the app is given for its database, from the test database's (a TCP proxy in between, say). */
  routeDatabase?: (url: string) => string;
}

export interface RegisteredShop {
  domain: string;
  accessToken: string;
  flexAccountId: string;
  liveKey: string;
  testKey: string;
}

export class Harness {
  app!: RunningApp;
  readonly logs: string[] = [];
  readonly clock = new AdjustableClock();
  config!: AppConfig;
  /** Environment changes made by the test, applied from the next start of the app on. */
  private readonly envChanges: Record<string, string> = {};

  /** The TLS proxy in front of the session listener (proxy mode, the harness's default). */
  readonly sessionProxy: SessionProxy;
  private readonly proxySecret = randomBytes(32).toString('hex');

  private constructor(
    readonly flex: FlexSandbox,
    readonly shopify: ShopifySimulator,
    private readonly database: TestDatabase,
    private readonly options: HarnessOptions,
    private appPort: number,
  ) {
    this.sessionProxy = new SessionProxy(() => this.app.servers.sessionsUrl!, this.proxySecret);
  }

  /** Whether Shopify's session requests reach the app over its own mutual TLS listener. */
  private get mtls(): boolean {
    return Boolean(this.options.env?.PAYMENTS_MTLS_CA);
  }

  get port(): number {
    return this.appPort;
  }

  static async start(options: HarnessOptions = {}): Promise<Harness> {
    const database = await createTestDatabase();
    const flex = new FlexSandbox({ port: 0, webhookRetryDelaysMs: [0, 100, 300, 1000], refundSettleDelayMs: 100, ...options.flexOptions });
    await flex.start();
    const shopify = new ShopifySimulator({ port: 0, apiVersion: '2026-10' });
    await shopify.start();
    const harness = new Harness(flex, shopify, database, options, await freePort());
    await harness.sessionProxy.start();
    // Another process may take the free port before the app binds it: pick another and try again.
    for (let attempt = 1; ; attempt++) {
      try {
        await harness.startAppOnce();
        return harness;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw error;
        harness.appPort = await freePort();
      }
    }
  }

  get appUrl(): string {
    return this.config.appUrl;
  }

  get prisma() {
    return this.app.components.database.prisma;
  }

  /** The running app's parts (repositories, worker, use cases), as the composition root built them. */
  get components() {
    return this.app.components;
  }

  /** The shop `useHarness` registered for the test file. */
  get shop(): RegisteredShop {
    if (!this.defaultShop) throw new Error('no shop was registered for this harness (useHarness({ shop: false }))');
    return this.defaultShop;
  }

  defaultShop: RegisteredShop | undefined;

  /**
   * A fingerprint of everything the app has stored (every table but the migrations'), to prove that
   * a refused request changed nothing.
   */
  async storedState(): Promise<Record<string, string>> {
    const { pool } = this.app.components.database;
    // First let the work already under way finish (the jobs an install or a payment queued): what
    // it writes is not what the request under test wrote.
    await eventually(
      async () => {
        // Due now or within seconds (a catalog page waiting out Shopify's bucket); later ones (a
        // reconciliation check, an order poll) stay put while a test runs.
        const { rows } = await pool.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM "Job" WHERE status = 'RUNNING' OR (status = 'QUEUED' AND "runAt" <= now() + interval '10 seconds')`,
        );
        return rows[0]!.n === '0';
      },
      30_000,
      'the background jobs under way finished',
    );
    const { rows: tables } = await pool.query<{ name: string }>(
      `SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY tablename`,
    );
    const state: Record<string, string> = {};
    for (const { name } of tables) {
      const { rows } = await pool.query<{ digest: string | null; count: string }>(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest, count(*)::text AS count FROM "${name}" t`);
      state[name] = `${rows[0]!.count}:${rows[0]!.digest ?? ''}`;
    }
    return state;
  }

  /** A payment's timeline (by our payment id, as stored in the PaymentSession row). */
  timelineOf(paymentId: string) {
    return this.components.repos.payments.listEvents(paymentId as PaymentId);
  }

  /** Puts the sandboxes back to behaving normally (after a test injected faults). */
  resetFaults(): void {
    this.flex.faults.reset();
    this.flex.setRefundBehaviour('auto_succeed');
    this.shopify.faults.reset();
  }

  /**
   * Starts the app on this harness's port (a restart must keep it: the sandboxes know its URL). A
   * free port can be taken for a moment by another test file's outgoing connection (the same
   * ephemeral range): wait and try again, with a new port for the proxy listener each time.
   */
  async startApp(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startAppOnce();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw error;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  private async startAppOnce(): Promise<void> {
    const env: Record<string, string | undefined> = {
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'debug',
      PORT: String(this.port),
      HOST: '127.0.0.1',
      APP_URL: `http://127.0.0.1:${this.port}`,
      DATABASE_URL: this.database.url && this.options.routeDatabase ? this.options.routeDatabase(this.database.url) : this.database.url,
      DATA_DIR: this.database.dataDir,
      ENCRYPTION_KEY: this.database.encryptionKey,
      SHOPIFY_API_KEY: 'test-api-key',
      SHOPIFY_API_SECRET: 'test-api-secret',
      SHOPIFY_API_ORIGIN: this.shopify.url,
      FLEX_API_URL: this.flex.url,
      // As long as production's: on a busy machine (the suite beside a benchmark) a sandbox can take
      // seconds to answer, and a test that needs a call to time out sets a short timeout itself.
      FLEX_TIMEOUT_MS: '10000',
      SHOPIFY_TIMEOUT_MS: '10000',
      RECONCILE_AFTER_SECONDS: '3600',
      // Its own listener, on any free port (servers.metricsUrl says which).
      METRICS_PORT: '0',
      ...(this.mtls ? {} : { PAYMENTS_PROXY_SECRET: this.proxySecret, PAYMENTS_PROXY_HOST: '127.0.0.1', PAYMENTS_PROXY_PORT: String(await freePort()) }),
      ...this.options.env,
      ...this.envChanges,
    };
    this.config = loadConfig(env);
    this.options.configure?.(this.config);
    const logger = createLogger({
      level: this.config.logLevel,
      destination: {
        write: (line: string) => {
          this.logs.push(line);
          if (process.env.TEST_ECHO_LOGS) process.stdout.write(line);
        },
      },
    });
    this.app = await startApp({
      config: this.config,
      logger,
      tuning: {
        clock: this.clock,
        retryPolicy: { baseDelayMs: 50, maxDelayMs: 400, maxAgeMs: 26 * 60 * 60 * 1000, jitter: 0 },
        workerPollIntervalMs: 50,
        reconcileIntervalMs: 100,
        // Sessions sent without a cart (most tests) fall back to the catch-all line without a long wait.
        cartWaitMs: 500,
        reconcileCheckIntervalMs: 200,
        uninstallRecheckMs: 200,
        // The order poller and the payout reader run only where a test asks (they call Shopify and Flex).
        orderPollIntervalMs: 60 * 60 * 1000,
        payoutSyncIntervalMs: 60 * 60 * 1000,
        ...this.options.tuning,
      },
    });
    this.shopify.configureApp({
      url: this.app.servers.httpUrl,
      paymentsUrl: this.mtls ? this.app.servers.sessionsUrl : this.sessionProxy.url,
      apiKey: 'test-api-key',
      apiSecret: 'test-api-secret',
      clientTls: this.options.shopifyClientTls,
      // The app's subscriptions (shopify.app.toml): the webhooks Shopify sends by itself go only to these.
      // Orders only where a test asks (linking an order calls Shopify and Flex, which other tests count).
      webhookTopics: [...SHOPIFY_WEBHOOK_TOPICS, ...(this.options.orderWebhooks ? ORDER_WEBHOOK_TOPICS : [])],
    });
  }

  /** Changes the app's environment (new encryption keys, say) from its next start on; '' unsets a variable. */
  setEnv(changes: Record<string, string>): void {
    Object.assign(this.envChanges, changes);
  }

  /**
   * Runs `work` with the app restarted on other Flex/Shopify timeouts, restored after: shorter than
   * the suite's (which are long, for a busy machine) for a test that needs a hanging call to give up
   * soon, or longer for one that holds a call until it lets it go.
   */
  async withTimeouts<T>(timeouts: { flexMs?: number; shopifyMs?: number }, work: () => Promise<T>): Promise<T> {
    const long = { FLEX_TIMEOUT_MS: this.config.flex.timeoutMs, SHOPIFY_TIMEOUT_MS: this.config.shopify.timeoutMs };
    this.setEnv({ FLEX_TIMEOUT_MS: String(timeouts.flexMs ?? long.FLEX_TIMEOUT_MS), SHOPIFY_TIMEOUT_MS: String(timeouts.shopifyMs ?? long.SHOPIFY_TIMEOUT_MS) });
    await this.restartApp();
    try {
      return await work();
    } finally {
      this.setEnv({ FLEX_TIMEOUT_MS: String(long.FLEX_TIMEOUT_MS), SHOPIFY_TIMEOUT_MS: String(long.SHOPIFY_TIMEOUT_MS) });
      await this.restartApp();
    }
  }

  async restartApp(): Promise<void> {
    await this.app.stop();
    await this.startApp();
  }

  /**
   * Stops the app, lets `work` change the database as a crash would have left it, and starts the
   * app again on the same database.
   */
  async whileStopped(work: (db: Database) => Promise<void>): Promise<void> {
    await this.withAppStopped(async () => {
      const db = await openDatabase({ databaseUrl: this.config.databaseUrl, dataDir: this.config.dataDir, poolSize: 1, migrate: false });
      try {
        await work(db);
      } finally {
        await db.close();
      }
    });
  }

  /** Stops the app (releasing the embedded database), runs `work`, starts the app again. */
  async withAppStopped(work: () => Promise<void>): Promise<void> {
    await this.app.stop();
    try {
      await work();
    } finally {
      await this.startApp();
    }
  }

  /** Installs a shop in the simulator and registers it with the app the way an operator would. */
  async registerShop(domain = `shop-${randomUUID().slice(0, 8)}.myshopify.com`): Promise<RegisteredShop> {
    const account = this.flex.createAccount({ name: domain });
    // Installed as through OAuth: granted the scopes the app asks for.
    const installed = this.shopify.createShop(domain, { scopes: [...ADMIN_API_SCOPES] });
    const result = await this.components.registerShop.execute({
      shopDomain: normalizeShopDomain(domain)!,
      accessToken: installed.accessToken,
      flexApiKey: account.liveKey,
      flexTestApiKey: account.testKey,
    });
    if (!result.ok) throw new Error(`registerShop failed: ${result.problems.join('; ')}`);
    return { domain, accessToken: installed.accessToken, flexAccountId: account.accountId, liveKey: account.liveKey, testKey: account.testKey };
  }

  async stop(): Promise<void> {
    await this.app?.stop().catch(() => undefined);
    await this.sessionProxy.stop();
    await this.shopify.stop();
    await this.flex.stop();
    await this.database.drop();
  }
}

export interface TestDatabase {
  url: string | undefined;
  dataDir: string;
  encryptionKey: string;
  drop(): Promise<void>;
}

/** A database of its own for each test file: a new PostgreSQL database, or a new PGlite directory. */
/**
 * An embedded database with every migration applied, made once per set of migrations and kept in the
 * temp directory: applying them to PGlite takes seconds, copying its files a fraction of one, and
 * each integration file starts on a fresh database. Workers racing to make it each build their own
 * and the first rename wins.
 */
async function migratedEmbeddedTemplate(): Promise<string> {
  const digest = createHash('sha256');
  for (const migration of readMigrations()) digest.update(`${migration.name}\n${migration.checksum}\n`);
  const dir = path.join(os.tmpdir(), `flex-app-pglite-template-${digest.digest('hex').slice(0, 16)}`);
  if (existsSync(path.join(dir, 'complete'))) return path.join(dir, 'pglite');
  const building = mkdtempSync(path.join(os.tmpdir(), 'flex-app-pglite-building-'));
  const database = await openDatabase({ databaseUrl: undefined, dataDir: building, poolSize: 1 });
  await database.close();
  writeFileSync(path.join(building, 'complete'), '');
  try {
    renameSync(building, dir);
  } catch {
    rmSync(building, { recursive: true, force: true });
  }
  return path.join(dir, 'pglite');
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'flex-app-test-'));
  const encryptionKey = randomBytes(32).toString('hex');
  if (process.env.TEST_DATABASE === 'embedded') {
    // A copy of a database the migrations already made: the app finds them applied, as after a restart.
    cpSync(await migratedEmbeddedTemplate(), path.join(dataDir, 'pglite'), { recursive: true });
    return { url: undefined, dataDir, encryptionKey, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `flex_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dataDir,
    encryptionKey,
    async drop() {
      const client = new Client({ connectionString: ADMIN_DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The preamble of an integration test file: a harness started before its tests (with a registered
 * shop unless `shop: false`), the sandboxes' faults reset after each test, everything stopped after
 * the file. Both values are usable from inside tests and hooks (they stand for what `beforeAll` made).
 */
export function useHarness(
  options: (HarnessOptions & { shop?: boolean }) | (() => Promise<HarnessOptions & { shop?: boolean }>) = {},
): { h: Harness; shop: RegisteredShop } {
  let instance: Harness | undefined;
  beforeAll(async () => {
    const resolved = typeof options === 'function' ? await options() : options;
    instance = await Harness.start(resolved);
    if (resolved.shop !== false) instance.defaultShop = await instance.registerShop();
    // Migrating a fresh database and starting the app and both sandboxes: seconds on a quiet machine,
    // much longer on a busy one.
  }, 180_000);
  afterEach(() => instance?.resetFaults());
  afterAll(() => instance?.stop(), 60_000);
  const current = (): Harness => {
    if (!instance) throw new Error('the harness is started in beforeAll; use it inside tests and hooks');
    return instance;
  };
  return { h: standIn(current), shop: standIn(() => current().shop) };
}

/** An object that forwards every property to what `get` returns at the time of use. */
function standIn<T extends object>(get: () => T): T {
  return new Proxy({} as T, {
    get: (_target, property) => {
      const target = get();
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    set: (_target, property, value) => Reflect.set(get(), property, value),
    has: (_target, property) => Reflect.has(get(), property),
  });
}

/** Polls until `probe` returns a truthy value or the time is up. */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, label = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
