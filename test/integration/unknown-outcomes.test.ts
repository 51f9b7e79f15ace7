import { payAndReturn, startCheckout } from '../support/buyer';
import { useHarness } from '../support/harness';

/**
 * "Unknown" never turns into "rejected" (issue 9.5). After a Flex call whose outcome is unknown,
 * only a definite refusal of the mutating call itself may reject; a failed lookup is unknown too;
 * and a retry that Flex refuses because something already happened in Flex (our first attempt, or
 * the merchant in Flex's dashboard) makes the app look again, and end in success or in the hands of
 * a person, never in a reject that would free the amount for a second refund or capture.
 *
 * The worker is stopped and each job is run by hand, so every attempt happens exactly when the test
 * says.
 */
describe('unknown Flex outcomes', () => {
  const { h, shop } = useHarness();
  beforeEach(() => h.components.worker.stop());
  afterEach(() => h.components.worker.start());

  async function paid(amount: string, kind: 'sale' | 'authorization') {
    const { session, redirectUrl, checkoutId } = await startCheckout(h, shop, { amount, kind });
    await payAndReturn(redirectUrl, 'hsa_fsa');
    // The resolve goes through the outbox, which is stopped in these tests: deliver it by hand.
    const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: session.id } });
    const resolve = await h.prisma.job.findFirstOrThrow({ where: { subjectId: payment.id } });
    expect(await h.components.worker.runNow(resolve.id)).toBe('succeeded');
    return { session, checkoutId, payment };
  }
  const jobOf = (sessionRowId: string) => h.prisma.job.findFirstOrThrow({ where: { subjectId: sessionRowId, kind: { startsWith: 'flex.' } } });
  const flexAsMerchant = (path: string, body: unknown) =>
    fetch(`${h.flex.url}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${shop.liveKey}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const mutationsFor = (gid: string) => h.shopify.mutations.filter((m) => (m.variables as any)?.id === gid);

  it('a lookup that fails (404) after an unknown refund outcome is unknown too: retried, then the refund goes through once', async () => {
    const { session, checkoutId, payment } = await paid('35.00', 'sale');
    const sent = await h.shopify.sendRefundSession(shop.domain, { paymentId: session.id, amount: '35.00' });
    const refund = await h.prisma.refundSession.findFirstOrThrow({ where: { shopifyId: sent.session.id } });
    const job = await jobOf(refund.id);

    h.flex.faults.failNext({ path: 'POST /v1/checkout/sessions/:id/refund', status: 500, when: 'before' });
    expect(await h.components.worker.runNow(job.id)).toBe('retry');
    h.flex.faults.failNext({ path: 'GET /v1/refunds', status: 404 });
    expect(await h.components.worker.runNow(job.id)).toBe('retry');
    expect((await h.prisma.refundSession.findUniqueOrThrow({ where: { id: refund.id } })).status).toBe('RECEIVED');
    expect(await h.components.worker.runNow(job.id)).toBe('succeeded');

    expect((await h.prisma.refundSession.findUniqueOrThrow({ where: { id: refund.id } })).status).not.toBe('REJECTED');
    expect(h.flex.refunds({ checkoutSessionId: checkoutId })).toHaveLength(1);
    const waiting = (await h.timelineOf(payment.id)).filter((e) => e.type === 'refund_waiting_for_flex').map((e) => (e.detail as any).during);
    expect(waiting).toEqual(['call', 'lookup']);
    expect(mutationsFor(sent.session.gid).filter((m) => m.name === 'refundSessionReject')).toHaveLength(0);
  });

  it('a refund that Flex refuses on retry because money was refunded meanwhile needs a person: never rejected, the amount stays held', async () => {
    const { session, checkoutId, payment } = await paid('40.00', 'sale');
    const sent = await h.shopify.sendRefundSession(shop.domain, { paymentId: session.id, amount: '40.00' });
    const refund = await h.prisma.refundSession.findFirstOrThrow({ where: { shopifyId: sent.session.id } });
    const job = await jobOf(refund.id);

    h.flex.faults.failNext({ path: 'POST /v1/checkout/sessions/:id/refund', status: 503, when: 'before' });
    expect(await h.components.worker.runNow(job.id)).toBe('retry');
    // Meanwhile the merchant refunds the whole payment in Flex's dashboard (no id of ours on it).
    expect((await flexAsMerchant(`/v1/checkout/sessions/${checkoutId}/refund`, { checkout_session: { amount: 4000 } })).status).toBe(200);
    expect(await h.components.worker.runNow(job.id)).toBe('needs_attention');

    expect((await h.prisma.refundSession.findUniqueOrThrow({ where: { id: refund.id } })).status).toBe('RECEIVED');
    expect((await h.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status).toBe('NEEDS_ATTENTION');
    expect(mutationsFor(sent.session.gid)).toHaveLength(0);
    const types = (await h.timelineOf(payment.id)).map((e) => e.type);
    expect(types).toContain('refund_needs_attention');
    expect(types).not.toContain('refund_rejected');
    // The amount is still held: Shopify cannot get a second refund of the same money through.
    const second = await h.shopify.sendRefundSession(shop.domain, { paymentId: session.id, amount: '40.00' });
    expect(second.status).toBe(201);
    expect((await h.prisma.refundSession.findFirstOrThrow({ where: { shopifyId: second.session.id } })).status).toBe('REJECTED');
  });

  it('a capture that Flex refuses as already captured on retry needs a person, never a reject', async () => {
    const { session, checkoutId, payment } = await paid('20.00', 'authorization');
    const sent = await h.shopify.sendCaptureSession(shop.domain, { paymentId: session.id, amount: '20.00' });
    const capture = await h.prisma.captureSession.findFirstOrThrow({ where: { shopifyId: sent.session.id } });
    const job = await jobOf(capture.id);

    h.flex.faults.failNext({ path: 'POST /v1/checkout/sessions/:id/capture', status: 500, when: 'before' });
    expect(await h.components.worker.runNow(job.id)).toBe('retry');
    expect((await flexAsMerchant(`/v1/checkout/sessions/${checkoutId}/capture`, { checkout_session: {} })).status).toBe(200);
    expect(await h.components.worker.runNow(job.id)).toBe('needs_attention');

    expect((await h.prisma.captureSession.findUniqueOrThrow({ where: { id: capture.id } })).status).toBe('RECEIVED');
    expect(mutationsFor(sent.session.gid)).toHaveLength(0);
    const types = (await h.timelineOf(payment.id)).map((e) => e.type);
    expect(types).toContain('capture_needs_attention');
    expect(types).not.toContain('capture_rejected');
  });

  it('a refusal of the very first call is definite: the refund is rejected with Flex’s reason', async () => {
    const { session } = await paid('15.00', 'sale');
    const sent = await h.shopify.sendRefundSession(shop.domain, { paymentId: session.id, amount: '15.00' });
    const refund = await h.prisma.refundSession.findFirstOrThrow({ where: { shopifyId: sent.session.id } });
    h.flex.faults.failNext({ path: 'POST /v1/checkout/sessions/:id/refund', status: 422, body: { detail: [{ loc: [], msg: 'refund_not_allowed: no', type: 'refund_not_allowed' }] } });
    expect(await h.components.worker.runNow((await jobOf(refund.id)).id)).toBe('succeeded');
    expect((await h.prisma.refundSession.findUniqueOrThrow({ where: { id: refund.id } })).status).toBe('REJECTED');
  });
});
