import { eventually, useHarness } from '../support/harness';
import { payAndReturn, startCheckout } from '../support/buyer';

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
    await eventually(async () => (await fetch(`${h.appUrl}/readyz`)).status === 200, 5_000, 'ready again');
  });

  it('shuts down gracefully: requests in flight finish before the database closes', async () => {
    h.flex.faults.set({ latencyMs: 300 });
    try {
      const inFlight = Array.from({ length: 5 }, (_, i) => h.shopify.sendPaymentSession(shop.domain, { amount: `${30 + i}.00` }));
      await new Promise((r) => setTimeout(r, 100));
      await h.app.stop();
      const answers = await Promise.all(inFlight);
      expect(answers.map((a) => a.status)).toEqual(Array(5).fill(201));
    } finally {
      h.flex.faults.reset();
      await h.startApp();
    }
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
