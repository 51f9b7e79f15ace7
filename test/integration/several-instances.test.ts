import { randomBytes } from 'node:crypto';
import { readMigrations } from '../../src/db/migrate';
import { runCli } from '../../src/cli/cli';
import { ADMIN_API_SCOPES } from '../../src/shopify/access-scopes';
import { FlexSandbox } from '../../sandbox/flex';
import { ShopifySimulator } from '../../sandbox/shopify';
import { AppProcess } from '../support/app-processes';
import { createTestDatabase, eventually, type TestDatabase } from '../support/harness';
import { PATIENCE_MS, patientPayment, patientRefund } from '../support/patient-clients';
import { RoundRobin } from '../support/round-robin';
import { SessionProxy } from '../support/session-proxy';
import { Client } from 'pg';

/**
 * Three app processes started at the same moment on one empty PostgreSQL database, behind a load
 * balancer: the migrations are applied once (an advisory lock), the instances share the work, one
 * is killed (SIGKILL) in the middle of payments and refunds, and every payment and refund still
 * reaches Shopify and Flex exactly once. (PostgreSQL only: the embedded database is one process's.)
 */
const onPostgres = process.env.TEST_DATABASE === 'embedded' ? describe.skip : describe;

onPostgres('several instances on one database', () => {
  const shopDomain = `several-${randomBytes(4).toString('hex')}.myshopify.com`;
  const proxySecret = randomBytes(32).toString('hex');
  let database: TestDatabase;
  let flex: FlexSandbox;
  let shopify: ShopifySimulator;
  let balancer: RoundRobin;
  let sessions: SessionProxy;
  let apps: AppProcess[] = [];
  let db: Client;
  const live = () => apps.filter((app) => app.alive);
  let turn = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    flex = new FlexSandbox({ port: 0, webhookRetryDelaysMs: [0, 200, 500, 1000, 2000, 4000], refundSettleDelayMs: 100 });
    await flex.start();
    shopify = new ShopifySimulator({ port: 0, apiVersion: '2026-10' });
    await shopify.start();
    balancer = new RoundRobin(() => live().map((app) => app.httpUrl));
    await balancer.start();
    sessions = new SessionProxy(() => live()[turn++ % live().length]!.sessionsUrl, proxySecret);
    await sessions.start();

    const env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: '0',
      HOST: '127.0.0.1',
      APP_URL: balancer.url,
      DATABASE_URL: database.url!,
      DATA_DIR: database.dataDir,
      ENCRYPTION_KEY: database.encryptionKey,
      SHOPIFY_API_KEY: 'test-api-key',
      SHOPIFY_API_SECRET: 'test-api-secret',
      SHOPIFY_API_ORIGIN: shopify.url,
      FLEX_API_URL: flex.url,
      FLEX_TIMEOUT_MS: '2000',
      SHOPIFY_TIMEOUT_MS: '1500',
      RECONCILE_AFTER_SECONDS: '3600',
      PAYMENTS_PROXY_SECRET: proxySecret,
      PAYMENTS_PROXY_HOST: '127.0.0.1',
      PAYMENTS_PROXY_PORT: '0',
      METRICS_PORT: '0',
    };
    // A killed instance's claimed jobs come back once their lease runs out: 8 s here, not 60.
    const tuning = {
      workerPollIntervalMs: 50,
      reconcileIntervalMs: 200,
      reconcileCheckIntervalMs: 200,
      outboxLeaseMs: 8_000,
      checkoutLeaseMs: 3_000,
      retryPolicy: { baseDelayMs: 50, maxDelayMs: 400, maxAgeMs: 26 * 60 * 60 * 1000, jitter: 0 },
    };
    // All three at the same moment, on the empty database.
    const spawned = ['a', 'b', 'c'].map((name) => AppProcess.spawn(name, env, tuning));
    apps = spawned.map((s) => s.process);
    await Promise.all(spawned.map((s) => s.ready));
    shopify.configureApp({ url: balancer.url, paymentsUrl: sessions.url, apiKey: 'test-api-key', apiSecret: 'test-api-secret' });

    db = new Client({ connectionString: database.url });
    await db.connect();

    // The operator registers the shop (npm run cli -- shops:add), beside the running instances.
    const account = flex.createAccount({ name: shopDomain });
    const installed = shopify.createShop(shopDomain, { scopes: [...ADMIN_API_SCOPES] });
    const err: string[] = [];
    const code = await runCli(['shops:add', '--shop', shopDomain], {
      env: {
        ...env,
        LOG_LEVEL: 'silent',
        // The instances' short timeouts are for what this test kills; the operator's one-off key check
        // may wait longer for a sandbox on a busy machine.
        FLEX_TIMEOUT_MS: '15000',
        SHOPIFY_TIMEOUT_MS: '15000',
        SHOP_ACCESS_TOKEN: installed.accessToken,
        FLEX_API_KEY: account.liveKey,
        FLEX_TEST_API_KEY: account.testKey,
      },
      stdout: () => undefined,
      stderr: (text) => err.push(text),
    });
    if (code !== 0) throw new Error(`shops:add failed: ${err.join('')}`);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await db?.end();
    await sessions?.stop();
    await balancer?.stop();
    await shopify?.stop();
    await flex?.stop();
    await database?.drop();
  });

  const payment = (amount: string) => patientPayment(shopify, shopDomain, amount);
  const refund = (paymentId: string, amount: string) => patientRefund(shopify, shopDomain, paymentId, amount);
  const count = async (sql: string, params: unknown[] = []) => Number((await db.query<{ n: string }>(sql, params)).rows[0]!.n);

  it('applies the migrations once, shares the work, survives a killed instance, and moves every payment and refund exactly once', async () => {
    // Migrations: each applied once, by whichever instance held the lock; the others found them done.
    const migrations = readMigrations();
    const applied = await db.query<{ migration_name: string; n: string }>(
      'SELECT migration_name, count(*) AS n FROM "_prisma_migrations" WHERE finished_at IS NOT NULL GROUP BY migration_name',
    );
    expect(applied.rows.map((r) => r.migration_name).sort()).toEqual(migrations.map((m) => m.name));
    expect(applied.rows.every((r) => r.n === '1')).toBe(true);
    const appliedLines = apps.flatMap((app) => app.logs.filter((l) => l.msg === 'applied database migration').map((l) => l.migration as string));
    expect(appliedLines.sort()).toEqual(migrations.map((m) => m.name));

    // Paid before the kill; refunded while it happens, next to new payments.
    const sales = [];
    for (const amount of ['30.00', '40.00', '50.00']) sales.push({ amount, ...(await payment(amount)) });
    const refunds = sales.map((sale) => refund(sale.session.id, sale.amount));
    const payments = ['11.00', '12.00', '13.00', '14.00', '15.00', '16.00'].map((amount) => payment(amount));
    await eventually(async () => (await count('SELECT count(*) AS n FROM "RefundSession"')) >= 1, 20_000, 'the first refund stored');
    const victim = apps[1]!;
    await victim.kill();

    const done = await Promise.all(payments);
    const refunded = await Promise.all(refunds);
    for (const { session } of [...sales, ...done]) expect((await shopify.waitForPaymentSession(session.id, { timeoutMs: PATIENCE_MS })).status).toBe('resolved');
    for (const session of refunded) expect((await shopify.waitForFollowUpSession(session.id, { timeoutMs: PATIENCE_MS })).status).toBe('resolved');
    await eventually(
      async () => {
        const open = await db.query<{ kind: string; status: string }>(`SELECT kind, status::text FROM "Job" WHERE status <> 'SUCCEEDED'`);
        if (open.rows.length > 0) throw new Error(`still open: ${open.rows.map((r) => `${r.kind} ${r.status}`).join(', ')}`);
        return true;
      },
      PATIENCE_MS,
      'every job done',
    );

    // The work was shared: every instance answered requests and ran jobs (the victim until it died).
    const ranJobs = apps.filter((app) => app.logs.some((l) => l.msg === 'outbox job succeeded'));
    expect(ranJobs.length).toBeGreaterThanOrEqual(2);
    for (const app of apps) expect(app.logs.some((l) => l.msg === 'request')).toBe(true);

    // Jobs run again only if the killed instance held them: they come back after their lease.
    const reclaimed = new Set(
      (await db.query<{ subjectId: string }>(`SELECT "subjectId" FROM "Job" WHERE attempts > 1`)).rows.map((r) => r.subjectId),
    );
    const mutations = (name: string, gid: string) => shopify.mutations.filter((m) => m.name === name && (m.variables as { id?: string } | null)?.id === gid && !m.failed);

    for (const { session } of [...sales, ...done]) {
      const payment = (await db.query<{ id: string }>('SELECT id FROM "PaymentSession" WHERE "shopifyId" = $1', [session.id])).rows[0]!;
      // Decided once, whoever decided it (return page, webhook or reconciler, on any instance).
      expect(await count(`SELECT count(*) AS n FROM "PaymentEvent" WHERE "paymentSessionId" = $1 AND type LIKE 'decided_%'`, [payment.id])).toBe(1);
      // One Flex checkout per payment, however many pay pages were opened on however many instances.
      expect(flex.checkoutSessions({ clientReferenceId: session.id })).toHaveLength(1);
      // Shopify heard it once; a second time only from a job the killed instance held, which Shopify
      // takes as "already in that state" (counted as at most one more).
      const sent = mutations('paymentSessionResolve', session.gid).length;
      expect(sent).toBeGreaterThanOrEqual(1);
      expect(sent).toBeLessThanOrEqual(reclaimed.has(payment.id) ? 2 : 1);
      expect(mutations('paymentSessionReject', session.gid)).toHaveLength(0);
    }
    for (const [index, session] of refunded.entries()) {
      const sale = sales[index]!;
      const row = (await db.query<{ id: string }>('SELECT id FROM "RefundSession" WHERE "shopifyId" = $1', [session.id])).rows[0]!;
      // Flex moved the money once: one refund object, one refund call that was not a replay.
      expect(flex.refunds({ checkoutSessionId: sale.checkoutId })).toHaveLength(1);
      const posts = flex.requests.filter((r) => r.method === 'POST' && r.path === `/v1/checkout/sessions/${sale.checkoutId}/refund` && !r.replayed);
      expect(posts).toHaveLength(1);
      const sent = mutations('refundSessionResolve', session.gid).length;
      expect(sent).toBeGreaterThanOrEqual(1);
      expect(sent).toBeLessThanOrEqual(reclaimed.has(row.id) ? 2 : 1);
    }
    process.stdout.write(`several instances: jobs run by ${ranJobs.map((a) => a.name).join(', ')}; reclaimed from the killed instance: ${reclaimed.size}\n`);
  }, 240_000);
});
