import { eventually, useHarness } from '../support/harness';
import { payAndReturn, payOnFlexPage, startCheckout, visit } from '../support/buyer';

/** What an on-call engineer relies on: structured request logs without secrets, health and readiness. */
describe('logs and health', () => {
  const { h, shop } = useHarness({ env: { LOG_LEVEL: 'debug' } });

  const parsedLogs = () => h.logs.map((line) => JSON.parse(line) as Record<string, any>);

  it('logs one JSON line per request with Shopify’s request id and the session ids', async () => {
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '19.00' });
    await payAndReturn(redirectUrl, 'hsa_fsa');
    const requestLines = parsedLogs().filter((l) => l.msg === 'request' && l.req?.path === '/payments/sessions' && l.shopifySessionId === session.id);
    expect(requestLines).toHaveLength(1);
    const line = requestLines[0]!;
    expect(line).toMatchObject({ level: 'info', res: { status: 201 }, shop: shop.domain, outcome: 'created' });
    expect(typeof line.shopifyRequestId).toBe('string');
    expect(line.shopifyRequestId).toBe(h.shopify.paymentSession(session.id)!.answers[0]!.requestId);
    expect(line.paymentSessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof line.ms).toBe('number');
    const returnLine = parsedLogs().find((l) => l.msg === 'request' && l.req?.path === `/payments/return/${line.paymentSessionId}`);
    expect(returnLine).toMatchObject({ res: { status: 303 }, outcome: 'redirect' });
  });

  it('names the shop, the payment and the job on every line written while running a job or handling a Flex webhook', async () => {
    // Paid on Flex, but the buyer never comes back: Flex's webhook is what decides the payment.
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '30.00' });
    expect((await payOnFlexPage(redirectUrl, 'hsa_fsa')).status).toBe(303);
    expect((await h.shopify.waitForPaymentSession(session.id, { timeoutMs: 20_000 })).status).toBe('resolved');
    const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: session.id } });
    const shopId = payment.shopId;

    const refund = await h.shopify.sendRefundSession(shop.domain, { paymentId: session.id, amount: '30.00' });
    expect(refund.status).toBe(201);
    expect((await h.shopify.waitForFollowUpSession(refund.session.id, { timeoutMs: 20_000 })).status).toBe('resolved');
    const refundRow = await h.prisma.refundSession.findFirstOrThrow({ where: { shopifyId: refund.session.id } });
    const jobs = await h.prisma.job.findMany({ where: { subjectId: refundRow.id } });
    const flexJob = jobs.find((j) => j.kind === 'flex.refund')!;
    const reportJob = jobs.find((j) => j.kind === 'shopify.payments-mutation')!;
    // Both jobs' last lines: Flex's refund.updated webhook can settle the refund (and so queue the
    // report) before the refund's own job has recorded its run and logged it.
    const succeededLogged = (id: string) => parsedLogs().some((l) => l.job?.id === id && l.msg === 'outbox job succeeded');
    await eventually(async () => succeededLogged(reportJob.id) && succeededLogged(flexJob.id), 10_000, 'both jobs logged');

    const ofThisWork = { shop: shop.domain, shopId, paymentSessionId: payment.id };
    // The refund's Flex call, as a job: the Flex client's own line, deep inside, carries it all.
    const flexJobLines = parsedLogs().filter((l) => l.job?.id === flexJob.id);
    expect(flexJobLines.map((l) => l.msg)).toEqual(expect.arrayContaining(['Flex request', 'outbox job succeeded']));
    const flexCall = flexJobLines.find((l) => l.msg === 'Flex request')!;
    expect(flexCall).toMatchObject({ component: 'flex-client', flex: { method: 'POST', path: `/v1/checkout/sessions/${payment.flexCheckoutSessionId}/refund` } });
    for (const line of flexJobLines) {
      expect(line).toMatchObject({ ...ofThisWork, job: { id: flexJob.id, kind: 'flex.refund', subjectType: 'refund_session', subject: refundRow.id } });
    }
    // The refundSessionResolve job names the payment its refund belongs to.
    const reportLines = parsedLogs().filter((l) => l.job?.id === reportJob.id);
    expect(reportLines.length).toBeGreaterThan(0);
    for (const line of reportLines) expect(line).toMatchObject({ ...ofThisWork, job: { kind: 'shopify.payments-mutation' } });

    // The checkout.session.completed webhook: the decision it made, and its own summary line.
    const completed = parsedLogs().find((l) => l.msg === 'Flex webhook' && l.eventType === 'checkout.session.completed' && l.paymentSessionId === payment.id);
    expect(completed).toBeDefined();
    const webhookLines = parsedLogs().filter((l) => l.flexWebhook?.deliveryId === completed!.deliveryId);
    expect(webhookLines.map((l) => l.msg)).toEqual(expect.arrayContaining(['payment decided: resolve', 'Flex webhook']));
    for (const line of webhookLines) {
      expect(line).toMatchObject({ ...ofThisWork, flexWebhook: { mode: 'live', eventType: 'checkout.session.completed' } });
    }
    // The refund's webhooks are found by their refund, then its payment.
    const refundWebhookLines = parsedLogs().filter((l) => l.flexWebhook?.eventType?.startsWith('refund.') && l.refundSessionId === refundRow.id);
    expect(refundWebhookLines.length).toBeGreaterThan(0);
    for (const line of refundWebhookLines) expect(line).toMatchObject(ofThisWork);

    // A context ends with its work: request lines carry none, and no line names a field twice.
    for (const line of parsedLogs().filter((l) => l.msg === 'request')) {
      expect(line.job).toBeUndefined();
      expect(line.flexWebhook).toBeUndefined();
    }
    for (const raw of h.logs) expect(raw.match(/"paymentSessionId":/g)?.length ?? 0).toBeLessThanOrEqual(1);
  });

  it('never logs a secret, even at debug level', async () => {
    const { redirectUrl } = await startCheckout(h, shop, { amount: '21.00', test: true });
    await payAndReturn(redirectUrl, 'hsa_fsa');
    await h.flex.waitForDeliveries();
    const endpoints = h.flex.webhookEndpoints({ accountId: shop.flexAccountId }) as Array<Record<string, any>>;
    const secrets = [
      shop.liveKey,
      shop.testKey,
      shop.accessToken,
      h.config.shopify.apiSecret,
      h.config.encryptionKey.toString('hex'),
      h.config.encryptionKey.toString('base64'),
      ...endpoints.map((e) => e.signing_secret as string),
      ...endpoints.map((e) => (e.signing_secret as string).slice('fwhsec_'.length)),
    ];
    const all = h.logs.join('\n');
    expect(h.logs.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(all).not.toContain(secret);
  });

  it('answers /healthz while the process lives and /readyz only when the database and worker are up', async () => {
    expect((await fetch(`${h.appUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${h.appUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: true, worker: true } });

    await h.components.worker.stop();
    try {
      const notReady = await fetch(`${h.appUrl}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ checks: { worker: false } });
      expect((await fetch(`${h.appUrl}/healthz`)).status).toBe(200);
    } finally {
      h.components.worker.start();
    }
    await eventually(async () => (await fetch(`${h.appUrl}/readyz`)).status === 200, 15_000, 'ready again');
  });

  it('shuts down gracefully: requests in flight finish before the database closes', async () => {
    // Pay pages waiting on Flex: each has claimed its payment in the database (checkoutAttempts) and
    // must still record Flex's checkout after the shutdown began. Stopped once all five are waiting,
    // whatever the machine's pace, not after a fixed pause.
    const sessions = await Promise.all(Array.from({ length: 5 }, (_, i) => h.shopify.sendPaymentSession(shop.domain, { amount: `${30 + i}.00` })));
    expect(sessions.map((sent) => sent.status)).toEqual(Array(5).fill(201));
    const payUrls = sessions.map((sent) => (sent.body as { redirect_url: string }).redirect_url);
    const shopifyIds = sessions.map((sent) => sent.session.id);
    h.flex.faults.set({ latencyMs: 2_000 });
    try {
      const inFlight = payUrls.map((url) => visit(url));
      await eventually(async () => (await h.prisma.paymentSession.count({ where: { shopifyId: { in: shopifyIds }, checkoutAttempts: { gte: 1 } } })) === 5, 20_000, 'all five pay pages waiting on Flex');
      await h.app.stop();
      const answers = await Promise.all(inFlight);
      expect(answers.map((a) => a.status)).toEqual(Array(5).fill(303));
    } finally {
      h.flex.faults.reset();
      await h.startApp();
    }
    const recorded = await h.prisma.paymentSession.findMany({ where: { shopifyId: { in: shopifyIds } } });
    expect(recorded.map((row) => row.flexCheckoutSessionId)).toEqual(Array(5).fill(expect.any(String)));
    const refused = await fetch(`${h.appUrl}/healthz`);
    expect(refused.status).toBe(200);
  });

  it('answers unknown routes and oversized or broken bodies with JSON errors', async () => {
    const missing = await fetch(`${h.appUrl}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
    const unknownPayment = await fetch(`${h.appUrl}/payments/return/not-a-uuid`);
    expect(unknownPayment.status).toBe(404);
  });
});
