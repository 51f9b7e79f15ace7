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
    const payment = await eventually(async () => {
      const row = await paymentOf(session.id);
      return row.reconcileAttempts >= 3 && row;
    }, 10_000, 'several checks');
    expect(payment.status).toBe('CHECKOUT_CREATED');
    // The next check is set after the last one: against the row's own write, not the test's clock,
    // which a stall could move past it.
    expect(payment.nextReconcileAt!.getTime()).toBeGreaterThan(payment.updatedAt.getTime());
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

/**
 * After an outage the reconciler has a backlog: it looks early (about a minute after the checkout
 * was made), drains in batches with several reads in flight, and lets Flex's rate limit set the pace.
 * The periodic pass is off here (a one-hour interval); the tests run passes themselves.
 */
describe('the reconciler with a backlog', () => {
  const { h, shop } = useHarness({ env: { RECONCILE_AFTER_SECONDS: '60' }, tuning: { reconcileIntervalMs: 60 * 60 * 1000, reconcileBatchSize: 5 } });

  /** Buyers who paid on Flex and closed the tab, their webhooks lost. */
  async function paidAndLost(count: number, amount: string) {
    h.flex.faults.dropWebhooks({ eventType: 'checkout.session.completed', times: Infinity });
    const sessions = [];
    for (let i = 0; i < count; i++) {
      const { session, redirectUrl } = await startCheckout(h, shop, { amount });
      expect((await payOnFlexPage(redirectUrl, 'hsa_fsa')).status).toBe(303);
      sessions.push(session);
    }
    return sessions;
  }
  const resolveMutations = (gid: string) => h.shopify.mutations.filter((m) => m.name === 'paymentSessionResolve' && (m.variables as any).id === gid);

  it('looks about a minute after the checkout was made, not before', async () => {
    const [session] = await paidAndLost(1, '50.00');
    expect((await h.components.payments.reconciler.runOnce()).looked).toBe(0);
    h.clock.advance(61_000);
    expect(await h.components.payments.reconciler.runOnce()).toEqual({ looked: 1, more: false });
    expect(await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: session!.id } })).toMatchObject({ status: 'RESOLVED', decisionSource: 'RECONCILER' });
    await eventually(async () => h.shopify.paymentSession(session!.id)?.status === 'resolved', 10_000, 'resolved at Shopify');
  });

  it('drains a backlog batch after batch, two passes at once never taking the same session', async () => {
    const sessions = await paidAndLost(12, '51.00');
    h.clock.advance(61_000);
    const reconciler = h.components.payments.reconciler;
    const passes = await Promise.all([reconciler.runOnce(), reconciler.runOnce()]);
    expect(passes[0]!.looked + passes[1]!.looked).toBe(12);
    await eventually(async () => sessions.every((s) => h.shopify.paymentSession(s.id)?.status === 'resolved'), 20_000, 'all resolved');
    for (const s of sessions) expect(resolveMutations(s.gid)).toHaveLength(1);
  });

  it("paces itself by Flex's rate limit: a 429 pauses the key for Retry-After, and every session is still decided once", async () => {
    const sessions = await paidAndLost(10, '52.00');
    h.flex.faults.set({ rateLimit: { requestsPerSecond: 4, burst: 2 } });
    h.clock.advance(61_000);
    const reconciler = h.components.payments.reconciler;
    const readsSoFar = () => h.flex.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/checkout/sessions/')).length;
    const before = readsSoFar();
    // The first batch's reads run into the limit; the second batch, in the same pass, waits out the
    // Retry-After instead of asking: fewer reads than sessions looked at.
    const first = await reconciler.runOnce();
    expect(first.looked).toBe(10);
    expect(readsSoFar() - before).toBeLessThan(10);
    await eventually(async () => {
      await reconciler.runOnce();
      return sessions.every((s) => h.shopify.paymentSession(s.id)?.status === 'resolved');
    }, 30_000, 'all resolved under the rate limit');
    for (const s of sessions) expect(resolveMutations(s.gid)).toHaveLength(1);
    const reads = h.flex.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/checkout/sessions/'));
    const limited = reads.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    // After a 429 the sessions of that key wait instead of each asking again: the refused reads are
    // at most one round of the reads in flight per pause, never one per session per pass.
    expect(limited.length).toBeLessThan(reads.length);
    const payments = await h.prisma.paymentSession.findMany({ where: { shopifyId: { in: sessions.map((s) => s.id) } } });
    expect(payments.every((p) => p.decisionSource === 'RECONCILER')).toBe(true);
  });
});
