import { eventually, Harness, type RegisteredShop, useHarness } from '../support/harness';
import { payAndReturn, startCheckout } from '../support/buyer';

/**
 * Capture sessions: Shopify captures an authorization (Flex `capture_method: manual`) in full or in
 * part, once, and hears back captureSessionResolve or captureSessionReject.
 */
describe('captures', () => {
  const { h, shop } = useHarness();

  const helpers = () => makeHelpers(h, shop);

  it('captures an authorization in full, with an idempotency key, then captureSessionResolve; the capture can then be refunded', async () => {
    const { authorized, capture, settled, capturePosts, row, events } = helpers();
    const { session, checkoutId } = await authorized('80.00');
    const c = await capture(session.id, '80.00');
    expect((await settled(c.id)).status).toBe('resolved');

    const posts = capturePosts(checkoutId);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.idempotencyKey).toBe(`shopify-capture-session:${shop.domain}:${c.id}`);
    const checkout = h.flex.checkoutSession(checkoutId) as Record<string, any>;
    expect(checkout.amount_received).toBe(8000);
    expect(checkout.captures).toHaveLength(1);
    expect(checkout.captures[0]).toMatchObject({ amount_captured: 8000, final_capture: true });
    const stored = await row(c.id);
    expect(stored).toMatchObject({ status: 'SUCCEEDED', amountMinor: 8000n, flexCaptureId: checkout.captures[0].capture_id });
    expect(checkout.captures[0].metadata).toMatchObject({ capture_id: stored.id, shopify_capture_session_id: c.id });
    // The state and the timeline's event are two writes: wait for the event, written second.
    await eventually(async () => (await events(session.id)).some((e) => e.type === 'shopify_acknowledged' && (e.detail as any)?.mutation === 'captureSessionResolve' && (e.detail as any)?.captureSessionId === stored.id), 15_000, 'acknowledgement on the timeline');
    expect((await row(c.id)).shopifyState).toBe('RESOLVED');
    expect((await events(session.id)).map((e) => e.type)).toEqual(expect.arrayContaining(['capture_received', 'capture_succeeded', 'shopify_acknowledged']));

    const refund = await h.shopify.sendRefundSession(shop.domain, { paymentId: session.id, amount: '80.00' });
    expect(refund.status).toBe(201);
    expect((await settled(refund.session.id)).status).toBe('resolved');
  });

  it('captures in part: Flex releases the rest, a second capture is rejected, refunds stop at what was captured', async () => {
    const { authorized, capture, settled, capturePosts } = helpers();
    const { session, checkoutId } = await authorized('100.00');
    const c = await capture(session.id, '60.00');
    expect((await settled(c.id)).status).toBe('resolved');
    const intents = h.flex.paymentIntents({ checkoutSessionId: checkoutId }) as Array<Record<string, any>>;
    expect(intents.map((pi) => [pi.amount_received, pi.amount_capturable, pi.status])).toEqual([[6000, 0, 'succeeded']]);

    const more = await capture(session.id, '40.00');
    const rejected = await settled(more.id);
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection).toMatchObject({ code: 'PROCESSING_ERROR' });
    expect(rejected.rejection!.merchantMessage).toMatch(/already captured \(60\.00 USD\)/);
    expect(capturePosts(checkoutId)).toHaveLength(1);

    const tooMuch = await h.shopify.sendRefundSession(shop.domain, { paymentId: session.id, amount: '60.01' });
    expect((await settled(tooMuch.session.id)).rejection!.merchantMessage).toMatch(/only 60\.00 USD .* \(60\.00 USD captured/);
    const ok = await h.shopify.sendRefundSession(shop.domain, { paymentId: session.id, amount: '60.00' });
    expect((await settled(ok.session.id)).status).toBe('resolved');
  });

  it('a split-cart authorization is captured HSA/FSA card first', async () => {
    const { authorized, capture, settled } = helpers();
    const { session, checkoutId } = await authorized('100.00', 'split', { hsa_fsa_amount: '6000' });
    const c = await capture(session.id, '70.00');
    expect((await settled(c.id)).status).toBe('resolved');
    const intents = h.flex.paymentIntents({ checkoutSessionId: checkoutId }) as Array<Record<string, any>>;
    const received = Object.fromEntries(intents.map((pi) => [pi.payment_card_type, pi.amount_received]));
    expect(received).toEqual({ hsa_fsa: 6000, primary: 1000 });
  });

  it('a capture above what the authorization holds is rejected with a clear message, without asking Flex', async () => {
    const { authorized, capture, settled, capturePosts, row } = helpers();
    const { session, checkoutId } = await authorized('50.00');
    const c = await capture(session.id, '60.00');
    const rejected = await settled(c.id);
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection).toMatchObject({ code: 'PROCESSING_ERROR' });
    expect(rejected.rejection!.merchantMessage).toMatch(/Capture of 60\.00 USD refused: only 50\.00 USD of this authorization remains/);
    expect(capturePosts(checkoutId)).toHaveLength(0);
    expect(await row(c.id)).toMatchObject({ status: 'REJECTED' });
  });

  it('a capture of a sale is rejected', async () => {
    const { capture, settled } = helpers();
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '20.00', kind: 'sale' });
    await payAndReturn(redirectUrl, 'hsa_fsa');
    const c = await capture(session.id, '20.00');
    const rejected = await settled(c.id);
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection!.merchantMessage).toMatch(/was a sale/);
  });

  it('duplicate capture requests (also concurrent) capture once', async () => {
    const { authorized, capture, settled, capturePosts } = helpers();
    const { session, checkoutId } = await authorized('30.00');
    const id = `cap${Date.now()}`;
    await Promise.all([1, 2, 3].map(() => capture(session.id, '30.00', { id })));
    expect((await settled(id)).status).toBe('resolved');
    await capture(session.id, '30.00', { id });
    expect(capturePosts(checkoutId).filter((p) => !p.replayed)).toHaveLength(1);
    expect((h.flex.checkoutSession(checkoutId) as any).captures).toHaveLength(1);
    expect(await h.prisma.captureSession.count({ where: { shopifyId: id } })).toBe(1);
  });

  it('a Flex 500 after the capture was made: the retry finds it in Flex, captured once', async () => {
    const { authorized, capture, settled, capturePosts, events } = helpers();
    const { session, checkoutId } = await authorized('45.00');
    h.flex.faults.failNext({ path: 'POST /v1/checkout/sessions/:id/capture', status: 500, when: 'after' });
    const c = await capture(session.id, '45.00');
    expect((await settled(c.id)).status).toBe('resolved');
    expect(capturePosts(checkoutId).map((p) => p.status)).toEqual([500]);
    expect((h.flex.checkoutSession(checkoutId) as any).captures).toHaveLength(1);
    expect((await events(session.id)).map((e) => e.type)).toEqual(expect.arrayContaining(['capture_waiting_for_flex', 'capture_succeeded']));
  });

  it('a Flex 503 before the capture: retried with the same key, captured once', async () => {
    const { authorized, capture, settled, capturePosts } = helpers();
    const { session, checkoutId } = await authorized('46.00');
    h.flex.faults.failNext({ path: 'POST /v1/checkout/sessions/:id/capture', status: 503 });
    const c = await capture(session.id, '46.00');
    expect((await settled(c.id)).status).toBe('resolved');
    const posts = capturePosts(checkoutId);
    expect(posts.map((p) => p.status)).toEqual([503, 200]);
    expect(new Set(posts.map((p) => p.idempotencyKey)).size).toBe(1);
  });

  it('bad capture requests get a 4xx and store nothing; an unknown payment is 404', async () => {
    const { authorized } = helpers();
    const { session } = await authorized('10.00');
    const before = await h.prisma.captureSession.count();
    const noAmount = await h.shopify.sendCaptureSession(shop.domain, { paymentId: session.id, body: (b: any) => ({ ...b, amount: undefined }) });
    expect(noAmount.status).toBe(400);
    expect((noAmount.body as any).error.message).toMatch(/amount/);
    const badGid = await h.shopify.sendCaptureSession(shop.domain, { paymentId: session.id, body: (b: any) => ({ ...b, gid: `gid://shopify/RefundSession/${b.id}` }) });
    expect(badGid.status).toBe(400);
    expect((badGid.body as any).error.message).toMatch(/gid: must be gid:\/\/shopify\/CaptureSession/);
    const unknown = await h.shopify.sendCaptureSession(shop.domain, { paymentId: 'nope', amount: '1.00' });
    expect(unknown.status).toBe(404);
    expect(await h.prisma.captureSession.count()).toBe(before);
  });

  describe('after the authorization expired', () => {
    // Its own harness: moving the app's clock days ahead would make it refuse the Flex sandbox's
    // webhooks (their timestamps are real time) for every later test.
    let x: Harness;
    let xShop: RegisteredShop;
    beforeAll(async () => {
      x = await Harness.start();
      xShop = await x.registerShop();
    });
    afterAll(() => x?.stop());

    it('Flex alone knows it expired: Flex refuses and Shopify hears AUTHORIZATION_EXPIRED', async () => {
      const { authorized, capture, settled, capturePosts } = makeHelpers(x, xShop);
      const { session, checkoutId } = await authorized('70.00');
      x.flex.advanceClock(8 * 24 * 60 * 60);
      const c = await capture(session.id, '70.00');
      const rejected = await settled(c.id);
      expect(rejected.status).toBe('rejected');
      expect(rejected.rejection).toMatchObject({ code: 'AUTHORIZATION_EXPIRED' });
      expect(capturePosts(checkoutId).map((p) => p.status)).toEqual([422]);
    });

    it('both clocks past the expiry: rejected AUTHORIZATION_EXPIRED without asking Flex', async () => {
      const { authorized, capture, settled, capturePosts, row } = makeHelpers(x, xShop);
      const { session, checkoutId } = await authorized('75.00');
      const payment = await x.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: session.id } });
      const lifetimeMs = payment.authorizationExpiresAt!.getTime() - x.clock.now().getTime();
      x.flex.advanceClock(Math.ceil(lifetimeMs / 1000) + 60);
      x.clock.advance(lifetimeMs + 60_000);
      const c = await capture(session.id, '75.00');
      const rejected = await settled(c.id);
      expect(rejected.status).toBe('rejected');
      expect(rejected.rejection).toMatchObject({ code: 'AUTHORIZATION_EXPIRED' });
      expect(rejected.rejection!.merchantMessage).toMatch(/authorization expired/);
      expect(capturePosts(checkoutId)).toHaveLength(0);
      expect(await row(c.id)).toMatchObject({ status: 'REJECTED', rejectionCode: 'AUTHORIZATION_EXPIRED' });
    });
  });
});

function makeHelpers(h: Harness, shop: RegisteredShop) {
  return {
    /** An authorization the buyer completed on Flex, resolved in Shopify. */
    async authorized(amount: string, outcome: 'hsa_fsa' | 'split' = 'hsa_fsa', extra: Record<string, string> = {}) {
      const { session, redirectUrl, checkoutId } = await startCheckout(h, shop, { amount, kind: 'authorization' });
      const { appAnswer } = await payAndReturn(redirectUrl, outcome, extra);
      expect(appAnswer.status).toBe(303);
      expect((await h.shopify.waitForPaymentSession(session.id)).status).toBe('resolved');
      return { session, checkoutId };
    },
    async capture(paymentId: string, amount: string, input: { id?: string } = {}) {
      const sent = await h.shopify.sendCaptureSession(shop.domain, { paymentId, amount, ...input });
      expect(sent.status).toBe(201);
      expect(sent.body).toEqual({});
      return sent.session;
    },
    settled: (id: string) => h.shopify.waitForFollowUpSession(id, { timeoutMs: 15_000 }),
    row: (shopifyId: string) => h.prisma.captureSession.findFirstOrThrow({ where: { shopifyId } }),
    capturePosts: (checkoutId: string) => h.flex.requests.filter((r) => r.method === 'POST' && r.path === `/v1/checkout/sessions/${checkoutId}/capture`),
    events: async (paymentShopifyId: string) => {
      const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: paymentShopifyId } });
      return h.timelineOf(payment.id);
    },
  };
}
