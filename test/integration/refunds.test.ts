import { eventually, useHarness } from '../support/harness';
import { payAndReturn, startCheckout } from '../support/buyer';

/**
 * Refund sessions from Shopify reach Flex exactly once and come back to Shopify resolved or
 * rejected, over real HTTP between the Shopify simulator, the app and the Flex sandbox.
 */
describe('refunds', () => {
  const { h, shop } = useHarness();

  /** A sale the buyer paid on Flex, resolved in Shopify. */
  async function paidSale(amount: string, outcome: 'hsa_fsa' | 'split' = 'hsa_fsa', extra: Record<string, string> = {}) {
    const { session, redirectUrl, checkoutId } = await startCheckout(h, shop, { amount, kind: 'sale' });
    const { appAnswer } = await payAndReturn(redirectUrl, outcome, extra);
    expect(appAnswer.status).toBe(303);
    expect((await h.shopify.waitForPaymentSession(session.id)).status).toBe('resolved');
    return { session, checkoutId };
  }

  /** Shopify sends a refund session; the app must answer 201 {}. */
  async function refund(paymentId: string, amount: string, input: { id?: string } = {}) {
    const sent = await h.shopify.sendRefundSession(shop.domain, { paymentId, amount, ...input });
    expect(sent.status).toBe(201);
    expect(sent.body).toEqual({});
    return sent.session;
  }

  const settled = (id: string) => h.shopify.waitForFollowUpSession(id, { timeoutMs: 15_000 });
  const refundRow = (shopifyId: string) => h.prisma.refundSession.findFirstOrThrow({ where: { shopifyId } });
  const paymentRow = (shopifyId: string) => h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId } });
  const refundPosts = (checkoutId: string) =>
    h.flex.requests.filter((r) => r.method === 'POST' && r.path === `/v1/checkout/sessions/${checkoutId}/refund`);
  const flexRefunds = (checkoutId: string) => h.flex.refunds({ checkoutSessionId: checkoutId }) as Array<Record<string, any>>;
  const events = async (paymentShopifyId: string) => h.timelineOf((await paymentRow(paymentShopifyId)).id);
  const resolveCalls = (gid: string) => h.shopify.mutations.filter((m) => m.name === 'refundSessionResolve' && (m.variables as any)?.id === gid && !m.failed);

  it('a full refund: one Flex refund with our id and an idempotency key, pending then succeeded, then refundSessionResolve', async () => {
    const { session, checkoutId } = await paidSale('80.00');
    // Answered without waiting for Flex: shown against a Flex call that hangs, below.
    const r = await refund(session.id, '80.00');

    expect((await settled(r.id)).status).toBe('resolved');
    const row = await refundRow(r.id);
    expect(row).toMatchObject({ status: 'SUCCEEDED', amountMinor: 8000n, currency: 'USD' });
    await eventually(async () => (await refundRow(r.id)).shopifyState === 'RESOLVED', 15_000, 'Shopify state recorded');

    const posts = refundPosts(checkoutId);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.idempotencyKey).toBe(`shopify-refund-session:${shop.domain}:${r.id}`);
    const [flexRefund] = flexRefunds(checkoutId);
    expect(flexRefunds(checkoutId)).toHaveLength(1);
    expect(flexRefund).toMatchObject({ amount: 8000, status: 'succeeded' });
    expect(flexRefund!.metadata).toMatchObject({ refund_id: row.id, shopify_refund_session_id: r.id, shopify_refund_session_gid: r.gid });
    expect(await h.prisma.flexRefund.findMany({ where: { refundSessionId: row.id } })).toEqual([
      expect.objectContaining({ flexRefundId: flexRefund!.refund_id, status: 'succeeded', amountMinor: 8000n }),
    ]);
    expect(resolveCalls(r.gid)).toHaveLength(1);

    const timeline = (await events(session.id)).map((e) => e.type);
    expect(timeline).toEqual(expect.arrayContaining(['refund_received', 'refund_sent_to_flex', 'refund_succeeded']));
    expect(timeline.indexOf('refund_received')).toBeLessThan(timeline.indexOf('refund_sent_to_flex'));
    expect(timeline.indexOf('refund_sent_to_flex')).toBeLessThan(timeline.indexOf('refund_succeeded'));
    await eventually(
      async () => (await events(session.id)).some((e) => e.type === 'shopify_acknowledged' && (e.detail as any)?.mutation === 'refundSessionResolve'),
      15_000,
      'acknowledgement on the timeline',
    );
  });

  it('partial and multiple refunds up to the payment, then the one that would exceed it is rejected', async () => {
    const { session, checkoutId } = await paidSale('100.00');
    const first = await refund(session.id, '30.00');
    expect((await settled(first.id)).status).toBe('resolved');
    const second = await refund(session.id, '20.50');
    const third = await refund(session.id, '49.50');
    expect((await settled(second.id)).status).toBe('resolved');
    expect((await settled(third.id)).status).toBe('resolved');
    expect(flexRefunds(checkoutId).map((r) => r.amount).sort((a, b) => a - b)).toEqual([2050, 3000, 4950]);
    expect((h.flex.checkoutSession(checkoutId) as any).amount_refunded).toBe(10000);

    const tooMuch = await refund(session.id, '0.01');
    const rejected = await settled(tooMuch.id);
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection).toMatchObject({ code: 'PROCESSING_ERROR' });
    expect(rejected.rejection!.merchantMessage).toMatch(/only 0\.00 USD of this payment can still be refunded \(100\.00 USD captured, 100\.00 USD already refunded/);
    expect(refundPosts(checkoutId)).toHaveLength(3);
    expect(await refundRow(tooMuch.id)).toMatchObject({ status: 'REJECTED', rejectionCode: 'PROCESSING_ERROR' });
  });

  it('a split-cart payment is refunded HSA/FSA card first', async () => {
    const { session, checkoutId } = await paidSale('100.00', 'split', { hsa_fsa_amount: '6000' });
    const intents = h.flex.paymentIntents({ checkoutSessionId: checkoutId }) as Array<Record<string, any>>;
    const hsa = intents.find((pi) => pi.payment_card_type === 'hsa_fsa')!;
    const card = intents.find((pi) => pi.payment_card_type !== 'hsa_fsa')!;

    const first = await refund(session.id, '70.00');
    expect((await settled(first.id)).status).toBe('resolved');
    const second = await refund(session.id, '30.00');
    expect((await settled(second.id)).status).toBe('resolved');

    const byAmount = (r: Record<string, any>) => Object.fromEntries((r.items as any[]).map((i) => [i.payment_intent, i.amount_refunded]));
    const [latest, earliest] = flexRefunds(checkoutId);
    expect(byAmount(earliest!)).toEqual({ [hsa.payment_intent_id]: 6000, [card.payment_intent_id]: 1000 });
    expect(byAmount(latest!)).toEqual({ [card.payment_intent_id]: 3000 });
  });

  it('a refund that fails in Flex after being pending is rejected with the reason, and frees the amount', async () => {
    const { session, checkoutId } = await paidSale('50.00');
    h.flex.setRefundBehaviour('auto_fail');
    const failing = await refund(session.id, '50.00');
    const rejected = await settled(failing.id);
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection).toMatchObject({ code: 'PROCESSING_ERROR' });
    expect(rejected.rejection!.merchantMessage).toMatch(/Flex could not complete the refund of 50\.00 USD: it ended failed/);
    expect(await refundRow(failing.id)).toMatchObject({ status: 'FAILED' });
    const timeline = (await events(session.id)).map((e) => e.type);
    expect(timeline).toEqual(expect.arrayContaining(['refund_sent_to_flex', 'refund_failed']));

    // Nothing moved, so the whole amount can be refunded again.
    h.flex.setRefundBehaviour('auto_succeed');
    const again = await refund(session.id, '50.00');
    expect((await settled(again.id)).status).toBe('resolved');
    expect(flexRefunds(checkoutId).map((r) => r.status).sort()).toEqual(['failed', 'succeeded']);
  });

  it('a refund Flex cancels is rejected too', async () => {
    const { session, checkoutId } = await paidSale('12.00');
    h.flex.setRefundBehaviour('manual');
    const r = await refund(session.id, '12.00');
    const pending = await eventually(async () => {
      const row = await refundRow(r.id);
      return row.status === 'PENDING' ? row : undefined;
    }, 15_000, 'refund pending in Flex');
    expect(pending.status).toBe('PENDING');
    expect(h.shopify.followUpSession(r.id)?.status).toBe('requested');
    h.flex.settleRefund(flexRefunds(checkoutId)[0]!.refund_id, 'canceled');
    const rejected = await settled(r.id);
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection!.merchantMessage).toMatch(/ended canceled/);
  });

  it('duplicate refund requests, one after another and at the same time, make exactly one Flex refund', async () => {
    const { session, checkoutId } = await paidSale('40.00');
    const first = await refund(session.id, '15.00');
    const again = await Promise.all([refund(session.id, '15.00', { id: first.id }), refund(session.id, '15.00', { id: first.id })]);
    expect(again.every((s) => s.id === first.id)).toBe(true);
    expect((await settled(first.id)).status).toBe('resolved');
    await refund(session.id, '15.00', { id: first.id });

    // Concurrent first deliveries of another refund session.
    const shopifyId = `dup${Date.now()}`;
    await Promise.all([1, 2, 3].map(() => refund(session.id, '5.00', { id: shopifyId })));
    expect((await settled(shopifyId)).status).toBe('resolved');

    expect(await h.prisma.refundSession.count({ where: { shopifyId: { in: [first.id, shopifyId] } } })).toBe(2);
    expect(refundPosts(checkoutId).filter((r) => !r.replayed)).toHaveLength(2);
    expect(flexRefunds(checkoutId).map((r) => r.amount).sort((a, b) => a - b)).toEqual([500, 1500]);
    expect(resolveCalls(first.gid)).toHaveLength(1);
    expect((await events(session.id)).filter((e) => e.type === 'refund_received')).toHaveLength(2);
  });

  it('the same refund id with different details is refused 409 and changes nothing', async () => {
    const { session, checkoutId } = await paidSale('20.00');
    const r = await refund(session.id, '10.00');
    const conflict = await h.shopify.sendRefundSession(shop.domain, { paymentId: session.id, id: r.id, body: { amount: '11.00' } });
    expect(conflict.status).toBe(409);
    expect((conflict.body as any).error).toMatchObject({ code: 'idempotency_conflict' });
    expect((await settled(r.id)).status).toBe('resolved');
    expect(await refundRow(r.id)).toMatchObject({ amountMinor: 1000n });
    expect(flexRefunds(checkoutId)).toHaveLength(1);
  });

  it('concurrent refunds that together exceed the payment: one is rejected, the rest succeed, nothing over-refunded', async () => {
    const { session, checkoutId } = await paidSale('100.00');
    const sessions = await Promise.all([1, 2, 3].map(() => refund(session.id, '40.00')));
    const outcomes = await Promise.all(sessions.map((s) => settled(s.id)));
    expect(outcomes.filter((o) => o.status === 'resolved')).toHaveLength(2);
    const rejected = outcomes.filter((o) => o.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.rejection!.merchantMessage).toMatch(/only 20\.00 USD of this payment can still be refunded/);

    const inFlex = flexRefunds(checkoutId);
    expect(inFlex).toHaveLength(2);
    expect(inFlex.reduce((sum, r) => sum + r.amount, 0)).toBe(8000);
    expect((h.flex.checkoutSession(checkoutId) as any).amount_refunded).toBe(8000);
    const rows = await h.prisma.refundSession.findMany({ where: { paymentSession: { shopifyId: session.id } } });
    expect(rows.filter((r) => r.status === 'SUCCEEDED').reduce((sum, r) => sum + r.amountMinor, 0n)).toBe(8000n);
  });

  it('a Flex 500 before the work, then success: one refund, the same idempotency key', async () => {
    const { session, checkoutId } = await paidSale('25.00');
    h.flex.faults.failNext({ path: 'POST /v1/checkout/sessions/:id/refund', status: 500, times: 2 });
    const r = await refund(session.id, '25.00');
    expect((await settled(r.id)).status).toBe('resolved');
    const posts = refundPosts(checkoutId);
    expect(posts.map((p) => p.status)).toEqual([500, 500, 200]);
    expect(new Set(posts.map((p) => p.idempotencyKey))).toEqual(new Set([`shopify-refund-session:${shop.domain}:${r.id}`]));
    expect(flexRefunds(checkoutId)).toHaveLength(1);
    expect((await events(session.id)).filter((e) => e.type === 'refund_waiting_for_flex')).toHaveLength(2);
  });

  it('a Flex 500 after the work (the answer was lost): the retry finds the refund in Flex by our id, not made twice', async () => {
    const { session, checkoutId } = await paidSale('26.00');
    // No refund webhooks either (on a busy machine a refund.updated could beat the retry), so only
    // reading Flex's state can tell the app what happened.
    for (const eventType of ['refund.created', 'refund.updated', 'charge.refund.updated']) h.flex.faults.dropWebhooks({ eventType, times: 5 });
    h.flex.faults.failNext({ path: 'POST /v1/checkout/sessions/:id/refund', status: 502, when: 'after' });
    const r = await refund(session.id, '26.00');
    expect((await settled(r.id)).status).toBe('resolved');
    expect(flexRefunds(checkoutId)).toHaveLength(1);
    expect(refundPosts(checkoutId).map((p) => p.status)).toEqual([502]);
    const lookups = h.flex.requests.filter((q) => q.method === 'GET' && q.path === '/v1/refunds');
    expect(lookups.length).toBeGreaterThanOrEqual(1);
    const sent = (await events(session.id)).find((e) => e.type === 'refund_sent_to_flex');
    expect((sent?.detail as any)?.evidence).toBe('flex_lookup');
  });

  it('Flex never answers (timeout after the work): 201 at once, then the retry finds the same refund', async () => {
    const { session, checkoutId } = await paidSale('27.00');
    const flexTimeoutMs = 3_000;
    await h.withTimeouts({ flexMs: flexTimeoutMs }, async () => {
      h.flex.faults.dropWebhooks({ eventType: 'refund.created' });
      h.flex.faults.failNext({ path: 'POST /v1/checkout/sessions/:id/refund', when: 'after', hang: true });
      const started = Date.now();
      const r = await refund(session.id, '27.00');
      // Answered without waiting for Flex: before the hanging call could even time out.
      expect(Date.now() - started).toBeLessThan(flexTimeoutMs);
      // Flex's refund webhooks resolve it while the call still hangs (the outbox does not wait for it).
      expect((await settled(r.id)).status).toBe('resolved');
      // The call times out: on the timeline; the job's retry finds the same refund and makes none.
      await eventually(async () => (await events(session.id)).some((e) => e.type === 'refund_waiting_for_flex' && (e.detail as any).kind === 'unavailable'), 15_000, 'the timeout on the timeline');
      const job = async () => h.prisma.job.findFirstOrThrow({ where: { kind: 'flex.refund', subjectId: (await refundRow(r.id)).id } });
      await eventually(async () => (await job()).status === 'SUCCEEDED', 15_000, 'the refund job retried to success');
      expect((await job()).attempts).toBeGreaterThanOrEqual(2);
      expect(flexRefunds(checkoutId)).toHaveLength(1);
    });
  });

  it('Flex refusing the refund outright (4xx) rejects it with Flex’s reason', async () => {
    const { session, checkoutId } = await paidSale('30.00');
    h.flex.faults.failNext({
      path: 'POST /v1/checkout/sessions/:id/refund',
      status: 422,
      body: { detail: [{ loc: ['checkout_session'], msg: 'refund_not_allowed: refunds are disabled for this account', type: 'refund_not_allowed' }] },
    });
    const r = await refund(session.id, '30.00');
    const rejected = await settled(r.id);
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection!.merchantMessage).toBe(
      'Flex refused the refund of 30.00 USD: refund_not_allowed: refunds are disabled for this account (HTTP 422). No money was returned to the buyer.',
    );
    expect(await refundRow(r.id)).toMatchObject({ status: 'REJECTED' });
    expect(flexRefunds(checkoutId)).toHaveLength(0);
    // Nothing was held back: the full amount can still be refunded.
    const again = await refund(session.id, '30.00');
    expect((await settled(again.id)).status).toBe('resolved');
  });

  it('lost webhooks: polling Flex settles a pending refund', async () => {
    const { session } = await paidSale('33.00');
    h.flex.faults.dropWebhooks({ eventType: 'refund.updated', times: Infinity });
    h.flex.faults.dropWebhooks({ eventType: 'charge.refund.updated', times: Infinity });
    const r = await refund(session.id, '33.00');
    expect((await settled(r.id)).status).toBe('resolved');
    const succeeded = (await events(session.id)).find((e) => e.type === 'refund_succeeded');
    expect((succeeded?.detail as any)?.evidence).toBe('poll');
  });

  it('reaches Shopify through the outbox after Shopify answers 5xx', async () => {
    const { session } = await paidSale('18.00');
    h.shopify.faults.failNext({ mutation: 'refundSessionResolve', status: 503, times: 2 });
    const r = await refund(session.id, '18.00');
    expect((await settled(r.id)).status).toBe('resolved');
    const calls = h.shopify.mutations.filter((m) => m.name === 'refundSessionResolve' && (m.variables as any)?.id === r.gid);
    expect(calls.map((c) => c.httpStatus)).toEqual([503, 503, 200]);
    const job = await eventually(async () => {
      const row = await h.prisma.job.findFirstOrThrow({ where: { dedupeKey: `shopify:refundSessionResolve:${r.gid}` } });
      return row.status === 'SUCCEEDED' ? row : undefined;
    }, 15_000, 'mutation job succeeded');
    expect(job.attempts).toBe(3);
  });

  it('refuses a refund of a payment that was never completed (201, then refundSessionReject)', async () => {
    const { session, checkoutId } = await startCheckout(h, shop, { amount: '9.00' });
    const r = await refund(session.id, '9.00');
    const rejected = await settled(r.id);
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection!.merchantMessage).toMatch(/was not completed in Flex/);
    expect(refundPosts(checkoutId)).toHaveLength(0);
  });

  describe('bad requests are refused with a 4xx naming the problem, and nothing is stored', () => {
    let paymentId: string;
    beforeAll(async () => {
      paymentId = (await paidSale('10.00')).session.id;
    });

    const cases: Array<[string, Record<string, unknown> | ((b: any) => unknown), number, RegExp]> = [
      ['no amount', (b: any) => ({ ...b, amount: undefined }), 400, /amount/],
      ['an amount that is not a decimal string', { amount: 10 }, 400, /amount: must be a decimal string/],
      ['a negative amount', { amount: '-1.00' }, 400, /amount/],
      ['a zero amount', { amount: '0.00' }, 400, /amount: must be greater than zero/],
      ['too many decimals', { amount: '1.001' }, 400, /more decimal places/],
      ['a gid of another type', (b: any) => ({ ...b, gid: `gid://shopify/PaymentSession/${b.id}` }), 400, /gid: must be gid:\/\/shopify\/RefundSession/],
      ['no payment_id', (b: any) => ({ ...b, payment_id: undefined }), 400, /payment_id/],
      ['another currency', { currency: 'EUR' }, 422, /USD only/],
      ['test mode that contradicts the payment', { test: true }, 422, /test/],
    ];
    it.each(cases)('%s', async (_name, body, status, message) => {
      const before = { refunds: await h.prisma.refundSession.count(), jobs: await h.prisma.job.count() };
      const sent = await h.shopify.sendRefundSession(shop.domain, { paymentId, amount: '5.00', body: body as any });
      expect(sent.status).toBe(status);
      expect((sent.body as any).error.message).toMatch(message);
      expect(await h.prisma.refundSession.count()).toBe(before.refunds);
      expect(await h.prisma.job.count()).toBe(before.jobs);
    });

    it('missing Shopify headers', async () => {
      const sent = await h.shopify.sendRefundSession(shop.domain, { paymentId, amount: '5.00', headers: { 'Shopify-Api-Version': null } });
      expect(sent.status).toBe(400);
      expect((sent.body as any).error.message).toMatch(/Shopify-Api-Version/);
    });

    it('invalid JSON', async () => {
      const sent = await h.shopify.sendRefundSession(shop.domain, { paymentId, amount: '5.00', body: () => '{"id": ' });
      expect(sent.status).toBe(400);
      expect((sent.body as any).error.code).toBe('invalid_json');
    });

    it('a payment_id that is not one of this shop’s payments', async () => {
      const before = await h.prisma.refundSession.count();
      const unknown = await h.shopify.sendRefundSession(shop.domain, { paymentId: 'no-such-payment', amount: '5.00' });
      expect(unknown.status).toBe(404);
      expect((unknown.body as any).error).toMatchObject({ code: 'unknown_payment' });
      const other = await h.registerShop();
      const foreign = await h.shopify.sendRefundSession(other.domain, { paymentId, amount: '5.00' });
      expect(foreign.status).toBe(404);
      expect(await h.prisma.refundSession.count()).toBe(before);
    });
  });
});
