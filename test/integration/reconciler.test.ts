import { eventually, useHarness } from '../support/harness';
import { payOnFlexPage, startCheckout } from '../support/buyer';

/**
 * Sessions whose buyer never came back and whose webhook never arrived are finalized by asking Flex.
 */
describe('the reconciler', () => {
  const { h, shop } = useHarness({ env: { RECONCILE_AFTER_SECONDS: '1' } });

  const paymentOf = (shopifyId: string) => h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId } });

  it('resolves a paid checkout whose buyer and webhook were both lost', async () => {
    h.flex.faults.dropWebhooks({ eventType: 'checkout.session.completed', times: 1 });
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '40.00' });
    const paid = await payOnFlexPage(redirectUrl, 'hsa_fsa');
    expect(paid.status).toBe(303); // the buyer closes the tab instead of following it
    const payment = await eventually(async () => {
      const row = await paymentOf(session.id);
      return row.shopifyState === 'RESOLVED' ? row : undefined;
    }, 10_000, 'reconciled');
    expect(payment.decisionSource).toBe('RECONCILER');
    expect(h.shopify.paymentSession(session.id)?.status).toBe('resolved');
  });

  it('rejects a checkout Flex expired', async () => {
    const { session, redirectUrl, checkoutId } = await startCheckout(h, shop, { amount: '41.00' });
    await payOnFlexPage(redirectUrl, 'abandon');
    h.flex.expireCheckoutSession(checkoutId);
    const payment = await eventually(async () => {
      const row = await paymentOf(session.id);
      return row.shopifyState === 'REJECTED' ? row : undefined;
    }, 10_000, 'rejected');
    expect(payment).toMatchObject({ decisionSource: 'RECONCILER', rejectionCode: 'PROCESSING_ERROR' });
    expect(payment.rejectionMessage).toMatch(/expired/);
  });

  it('leaves an open checkout alone, checking it less and less often', async () => {
    const { session } = await startCheckout(h, shop, { amount: '42.00' });
    await eventually(async () => (await paymentOf(session.id)).reconcileAttempts >= 3, 10_000, 'several checks');
    const payment = await paymentOf(session.id);
    expect(payment.status).toBe('CHECKOUT_CREATED');
    expect(payment.nextReconcileAt!.getTime()).toBeGreaterThan(Date.now());
    expect(h.shopify.mutations.filter((m) => (m.variables as any).id === session.gid)).toHaveLength(0);
  });

  it('tries again later when Flex cannot answer', async () => {
    h.flex.faults.dropWebhooks({ eventType: 'checkout.session.completed', times: 1 });
    const { session, redirectUrl, checkoutId } = await startCheckout(h, shop, { amount: '43.00' });
    h.flex.faults.failNext({ method: 'GET', path: `/v1/checkout/sessions/${checkoutId}`, status: 500, times: 2 });
    await payOnFlexPage(redirectUrl, 'hsa_fsa');
    await eventually(async () => (await paymentOf(session.id)).shopifyState === 'RESOLVED', 10_000, 'reconciled after Flex errors');
    const failed = h.flex.requests.filter((r) => r.method === 'GET' && r.path.startsWith(`/v1/checkout/sessions/${checkoutId}`) && r.status === 500);
    expect(failed).toHaveLength(2);
  });
});
