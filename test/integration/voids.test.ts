import { eventually, useHarness } from '../support/harness';
import { payAndReturn, startCheckout } from '../support/buyer';

/** Void sessions: Shopify cancels an authorization; Flex releases the hold, once. */
describe('voids', () => {
  const { h, shop } = useHarness();

  async function authorized(amount: string, kind: 'authorization' | 'sale' = 'authorization') {
    const { session, redirectUrl, checkoutId } = await startCheckout(h, shop, { amount, kind });
    const { appAnswer } = await payAndReturn(redirectUrl, 'hsa_fsa');
    expect(appAnswer.status).toBe(303);
    expect((await h.shopify.waitForPaymentSession(session.id)).status).toBe('resolved');
    return { session, checkoutId };
  }

  async function send(kind: 'void' | 'capture' | 'refund', paymentId: string, input: { id?: string; amount?: string } = {}) {
    const sent =
      kind === 'void'
        ? await h.shopify.sendVoidSession(shop.domain, { paymentId, ...input })
        : kind === 'capture'
          ? await h.shopify.sendCaptureSession(shop.domain, { paymentId, ...input })
          : await h.shopify.sendRefundSession(shop.domain, { paymentId, ...input });
    expect(sent.status).toBe(201);
    expect(sent.body).toEqual({});
    return sent.session;
  }

  const settled = (id: string) => h.shopify.waitForFollowUpSession(id, { timeoutMs: 15_000 });
  const cancelPosts = (checkoutId: string) => h.flex.requests.filter((r) => r.method === 'POST' && r.path === `/v1/checkout/sessions/${checkoutId}/cancel`);
  const row = (shopifyId: string) => h.prisma.voidSession.findFirstOrThrow({ where: { shopifyId } });
  const events = async (paymentShopifyId: string) => {
    const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: paymentShopifyId } });
    return h.timelineOf(payment.id);
  };

  it('voids an authorization in Flex, then voidSessionResolve; later captures and refunds are rejected', async () => {
    const { session, checkoutId } = await authorized('40.00');
    const v = await send('void', session.id);
    expect((await settled(v.id)).status).toBe('resolved');

    const posts = cancelPosts(checkoutId);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.idempotencyKey).toBe(`shopify-void-session:${shop.domain}:${v.id}`);
    const checkout = h.flex.checkoutSession(checkoutId) as Record<string, any>;
    expect(checkout.status).toBe('canceled');
    expect((h.flex.paymentIntents({ checkoutSessionId: checkoutId }) as any[]).map((pi) => pi.status)).toEqual(['canceled']);
    const voidRowId = (await row(v.id)).id;
    expect(await row(v.id)).toMatchObject({ status: 'SUCCEEDED' });
    // The state and the timeline's event are two writes: wait for the event, written second.
    await eventually(async () => (await events(session.id)).some((e) => e.type === 'shopify_acknowledged' && (e.detail as any)?.mutation === 'voidSessionResolve' && (e.detail as any)?.voidSessionId === voidRowId), 15_000, 'acknowledgement on the timeline');
    expect((await row(v.id)).shopifyState).toBe('RESOLVED');
    expect((await events(session.id)).map((e) => e.type)).toEqual(expect.arrayContaining(['void_received', 'void_succeeded', 'shopify_acknowledged']));

    const capture = await send('capture', session.id, { amount: '40.00' });
    const rejectedCapture = await settled(capture.id);
    expect(rejectedCapture.status).toBe('rejected');
    expect(rejectedCapture.rejection!.merchantMessage).toMatch(/was voided/);
    const refund = await send('refund', session.id, { amount: '40.00' });
    expect((await settled(refund.id)).rejection!.merchantMessage).toMatch(/Nothing of payment .* was captured/);
    expect(h.flex.requests.filter((r) => r.method === 'POST' && /\/(capture|refund)$/.test(r.path) && r.path.includes(checkoutId))).toHaveLength(0);
  });

  it('a void after a capture is rejected without asking Flex', async () => {
    const { session, checkoutId } = await authorized('41.00');
    const capture = await send('capture', session.id, { amount: '41.00' });
    expect((await settled(capture.id)).status).toBe('resolved');
    const v = await send('void', session.id);
    const rejected = await settled(v.id);
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection).toMatchObject({ code: 'PROCESSING_ERROR' });
    expect(rejected.rejection!.merchantMessage).toMatch(/41\.00 USD of authorization .* was already captured, so it can no longer be voided; refund it instead/);
    expect(cancelPosts(checkoutId)).toHaveLength(0);
    expect((h.flex.checkoutSession(checkoutId) as any).amount_received).toBe(4100);
  });

  it('Flex refusing the void (already captured there) rejects it with Flex’s reason', async () => {
    const { session, checkoutId } = await authorized('42.00');
    h.flex.faults.failNext({
      path: 'POST /v1/checkout/sessions/:id/cancel',
      status: 422,
      body: { detail: [{ loc: ['checkout_session'], msg: 'already_captured: Money was already captured; refund it instead', type: 'already_captured' }] },
    });
    const v = await send('void', session.id);
    const rejected = await settled(v.id);
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection!.merchantMessage).toMatch(/money was already captured; refund it instead/);
    expect(cancelPosts(checkoutId).map((p) => p.status)).toEqual([422]);
  });

  it('a capture and a void of one authorization at the same time: exactly one wins', async () => {
    const { session, checkoutId } = await authorized('43.00');
    const [capture, v] = await Promise.all([send('capture', session.id, { amount: '43.00' }), send('void', session.id)]);
    const [captureOutcome, voidOutcome] = await Promise.all([settled(capture.id), settled(v.id)]);
    expect([captureOutcome.status, voidOutcome.status].sort()).toEqual(['rejected', 'resolved']);
    const checkout = h.flex.checkoutSession(checkoutId) as Record<string, any>;
    if (captureOutcome.status === 'resolved') expect(checkout.amount_received).toBe(4300);
    else expect(checkout.status).toBe('canceled');
  });

  it('a Flex 500 after the cancel was done: retried with the same key, voided once', async () => {
    const { session, checkoutId } = await authorized('44.00');
    h.flex.faults.failNext({ path: 'POST /v1/checkout/sessions/:id/cancel', status: 500, when: 'after' });
    const v = await send('void', session.id);
    const again = await send('void', session.id, { id: v.id });
    expect(again.id).toBe(v.id);
    expect((await settled(v.id)).status).toBe('resolved');
    const posts = cancelPosts(checkoutId);
    expect(posts.map((p) => [p.status, p.replayed])).toEqual([
      [500, false],
      [200, true],
    ]);
    expect(await h.prisma.voidSession.count({ where: { shopifyId: v.id } })).toBe(1);
  });

  it('a void of a sale is rejected', async () => {
    const { session } = await authorized('15.00', 'sale');
    const v = await send('void', session.id);
    const rejected = await settled(v.id);
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection!.merchantMessage).toMatch(/was a sale/);
  });

  it('bad void requests get a 4xx and store nothing; an unknown payment is 404', async () => {
    const { session } = await authorized('16.00');
    const before = await h.prisma.voidSession.count();
    const badGid = await h.shopify.sendVoidSession(shop.domain, { paymentId: session.id, body: (b: any) => ({ ...b, gid: 'gid://shopify/VoidSession/other' }) });
    expect(badGid.status).toBe(400);
    expect((badGid.body as any).error.message).toMatch(/gid must end with the session id/);
    const noTest = await h.shopify.sendVoidSession(shop.domain, { paymentId: session.id, body: (b: any) => ({ ...b, test: 'no' }) });
    expect(noTest.status).toBe(400);
    expect((noTest.body as any).error.message).toMatch(/test/);
    const unknown = await h.shopify.sendVoidSession(shop.domain, { paymentId: 'nope' });
    expect(unknown.status).toBe(404);
    expect((unknown.body as any).error.code).toBe('unknown_payment');
    expect(await h.prisma.voidSession.count()).toBe(before);
  });
});
