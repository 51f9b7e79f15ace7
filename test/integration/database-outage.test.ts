import { eventually, postgresServer, throughProxy, useHarness } from '../support/harness';
import { PATIENCE_MS, patientPayment, patientRefund } from '../support/patient-clients';
import { TcpProxy } from '../support/tcp-proxy';

/**
 * PostgreSQL goes away in the middle of payments and refunds (a TCP proxy between the app and the
 * server: open connections destroyed, new ones refused) and comes back. Meanwhile the app answers
 * 503 and says it is not ready, without hanging or crashing, and its worker and periodic tasks say
 * so once and back off; afterwards every payment and refund reaches Shopify and Flex exactly once.
 * (PostgreSQL only: the embedded database lives inside the app's process.)
 */
const onPostgres = process.env.TEST_DATABASE === 'embedded' ? describe.skip : describe;

onPostgres('database outages', () => {
  let proxy: TcpProxy;
  const { h, shop } = useHarness(async () => {
    const server = postgresServer();
    proxy = await TcpProxy.start(server.host, server.port);
    return {
      // A pay page whose request died with the database holds the checkout lease until it runs out.
      tuning: { checkoutLeaseMs: 3_000 },
      routeDatabase: throughProxy(() => proxy.port),
    };
  });
  afterAll(() => proxy?.stop());

  const DEADLINE_MS = PATIENCE_MS;
  const logLines = () => h.logs.map((line) => JSON.parse(line) as Record<string, any>);
  // A failure names what the app logged as unhandled, the one clue a 500 leaves.
  const withAppErrors = <T>(work: Promise<T>): Promise<T> =>
    work.catch((error: Error) => {
      const unhandled = logLines().filter((l) => l.level === 'error' || l.level === 'fatal').map((l) => `${l.msg}: ${l.err?.type ?? ''} ${l.err?.code ?? ''} ${l.err?.message ?? ''}`);
      throw new Error(`${error.message}\napp errors:\n${unhandled.join('\n')}`);
    });
  const payment = (amount: string, first?: Parameters<typeof patientPayment>[3]) => withAppErrors(patientPayment(h.shopify, shop.domain, amount, first));
  const refund = (paymentId: string, amount: string) => withAppErrors(patientRefund(h.shopify, shop.domain, paymentId, amount));

  const succeeded = (name: string, gid: string) => h.shopify.mutations.filter((m) => m.name === name && (m.variables as { id?: string } | null)?.id === gid && !m.failed);
  const flexPosts = (path: string, key: string) => h.flex.requests.filter((r) => r.method === 'POST' && r.path === path && r.idempotencyKey === key && !r.replayed);

  it('answers 503 and not ready while PostgreSQL is away, backs off, and then finishes every payment and refund exactly once', async () => {
    // Paid before the outage: these get refunded while it happens.
    const sales = [];
    for (const amount of ['30.00', '40.00', '50.00']) sales.push({ amount, ...(await payment(amount)) });

    // In flight when the database goes: the refunds, and new payments at every step of their way.
    const refunds = sales.map((sale) => refund(sale.session.id, sale.amount));
    const payments = ['11.00', '12.00', '13.00', '14.00'].map((amount) => payment(amount));
    await eventually(async () => (await h.prisma.refundSession.count()) >= 1, 20_000, 'the first refund stored');
    await proxy.cut();

    // Shopify's next request is refused quickly (not held), the app says it is not ready, and lives.
    const during = await h.shopify.sendPaymentSession(shop.domain, { amount: '99.00' });
    expect(during.status).toBe(503);
    expect(during.body).toMatchObject({ error: { code: 'service_unavailable' } });
    const ready = await fetch(`${h.appUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not_ready', checks: { database: false } });
    expect((await fetch(`${h.appUrl}/healthz`)).status).toBe(200);
    // The periodic tasks notice, and say so (once each, checked below); so does the worker, unless
    // it spends the outage keeping a result it could not record yet.
    await eventually(async () => logLines().some((l) => l.task === 'reconcile-payment-sessions' && /paused/.test(l.msg)), 20_000, 'the reconciler noticed');
    await proxy.restore();

    const late = payment('99.00', during);
    const done = await Promise.all([...payments, late]);
    const refunded = await Promise.all(refunds);
    for (const { session } of [...sales, ...done]) expect((await h.shopify.waitForPaymentSession(session.id, { timeoutMs: DEADLINE_MS })).status).toBe('resolved');
    for (const session of refunded) expect((await h.shopify.waitForFollowUpSession(session.id, { timeoutMs: DEADLINE_MS })).status).toBe('resolved');
    await eventually(async () => (await h.prisma.job.count({ where: { status: { not: 'SUCCEEDED' } } })) === 0, DEADLINE_MS, 'every job done');
    expect((await fetch(`${h.appUrl}/readyz`)).status).toBe(200);

    // Exactly once: Shopify heard each outcome once; Flex made one checkout per payment and one refund per refund session.
    for (const { session, checkoutId } of [...sales, ...done]) {
      expect(succeeded('paymentSessionResolve', session.gid)).toHaveLength(1);
      expect(h.flex.checkoutSessions({ clientReferenceId: session.id })).toHaveLength(1);
      expect(checkoutId).toBeTruthy();
    }
    for (const [index, session] of refunded.entries()) {
      expect(succeeded('refundSessionResolve', session.gid)).toHaveLength(1);
      const sale = sales[index]!;
      expect(h.flex.refunds({ checkoutSessionId: sale.checkoutId })).toHaveLength(1);
      expect(flexPosts(`/v1/checkout/sessions/${sale.checkoutId}/refund`, `shopify-refund-session:${shop.domain}:${session.id}`)).toHaveLength(1);
    }
    const jobs = await h.prisma.job.findMany();
    expect(jobs.every((job) => job.status === 'SUCCEEDED')).toBe(true);

    // Said once per outage by each worker (the main one and the catalog sync's lane), not once per
    // poll; and said again by the same worker when it was over.
    const lines = logLines();
    const noticed = lines.filter((l) => l.msg === 'outbox: the database is unreachable; polling with backoff until it answers').map((l) => String(l.component));
    expect(new Set(noticed).size).toBe(noticed.length);
    expect(noticed.length).toBeLessThanOrEqual(2);
    const resumed = lines.filter((l) => l.msg === 'outbox: the database answers again; resuming').map((l) => String(l.component));
    expect(resumed.sort()).toEqual([...noticed].sort());
    expect(lines.filter((l) => l.task === 'reconcile-payment-sessions' && /paused/.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'periodic task failed' || l.msg === 'outbox: could not claim jobs' || l.msg === 'outbox job threw')).toHaveLength(0);
  }, 240_000); // a real outage of several seconds, then the backlog drains: minutes on a busy machine
});
