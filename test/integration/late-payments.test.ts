import { startCheckout, visit } from '../support/buyer';
import { eventually, useHarness } from '../support/harness';
import { MerchantBrowser } from '../support/merchant';

/**
 * Money that arrives after a decision is never lost silently (issue 9.4): when Flex takes money for a
 * payment the app had rejected, or for a second Flex checkout of a Shopify checkout already paid, the
 * merchant is told on the settings page and the buyer's money goes back in Flex, exactly once. Once
 * one checkout of a group is paid, the group's other open Flex checkouts are canceled.
 */
describe('money after a decision', () => {
  const { h, shop } = useHarness();

  const row = (shopifyId: string) => h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId } });
  const mutationsFor = (gid: string) => h.shopify.mutations.filter((m) => (m.variables as any)?.id === gid && !m.failed).map((m) => m.name);
  const flexRefunds = (checkoutId: string) => h.flex.refunds({ checkoutSessionId: checkoutId }) as Array<Record<string, any>>;

  it('a checkout Flex completes after the app rejected its session (expiry at the boundary): flagged, and the money refunded once', async () => {
    const { session, checkoutId } = await startCheckout(h, shop, { amount: '30.00' });
    // By the app's clock the checkout has expired; Flex still lets the buyer pay (clock skew).
    h.clock.advance(25 * 60 * 60 * 1000);
    const left = await visit(`${h.appUrl}/payments/cancel/${(await row(session.id)).id}`);
    expect(left.status).toBe(303);
    await eventually(async () => h.shopify.paymentSession(session.id)?.status === 'rejected', 10_000, 'rejected in Shopify');

    h.flex.pay(checkoutId, 'hsa_fsa');
    const refunds = await eventually(async () => {
      const found = flexRefunds(checkoutId);
      return found.length > 0 ? found : undefined;
    }, 15_000, 'the late money refunded');
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ amount: 3000, metadata: { late_payment_of: (await row(session.id)).id } });
    const payment = await row(session.id);
    expect(payment.status).toBe('REJECTED');
    expect(payment.flexPaidAfterDecisionAt).not.toBeNull();
    expect(mutationsFor(session.gid)).toEqual(['paymentSessionReject']);
    const types = await eventually(async () => {
      const found = (await h.timelineOf(payment.id)).map((e) => e.type);
      return found.includes('late_payment_returned') ? found : undefined;
    }, 10_000, 'the return on the timeline');
    expect(types).toEqual(expect.arrayContaining(['decided_reject', 'flex_paid_after_decision', 'late_payment_returned']));

    // Flex redelivering its webhook changes nothing: still one refund.
    for (const event of h.flex.events({ type: 'checkout.session.completed' }).filter((e) => JSON.stringify(e.payload).includes(checkoutId))) h.flex.redeliver(event.eventId);
    await h.flex.waitForDeliveries();
    expect(flexRefunds(checkoutId)).toHaveLength(1);

    // The merchant sees it.
    const browser = new MerchantBrowser(h.appUrl);
    expect((await browser.get(h.shopify.installUrl(shop.domain))).status).toBe(303);
    const page = (await browser.get(`${h.appUrl}/settings`)).body;
    expect(page).toContain(`data-problem="paid-late-${payment.id}"`);
    expect(page).toContain(`A buyer paid 30.00 USD in Flex after payment ${session.id} was declined`);
    expect(page).toContain('returned to the buyer');
  });

  it('once one checkout of a group is paid, the group’s other open Flex checkouts are canceled and not sent to again', async () => {
    const group = `group-${Date.now()}`;
    const first = await startCheckout(h, shop, { amount: '22.00', group });
    const second = await startCheckout(h, shop, { amount: '22.00', group });
    h.flex.pay(first.checkoutId, 'hsa_fsa');
    await eventually(async () => h.shopify.paymentSession(first.session.id)?.status === 'resolved', 10_000, 'first resolved');
    await eventually(async () => (h.flex.checkoutSession(second.checkoutId) as any).status === 'canceled', 10_000, 'the other checkout canceled in Flex');
    const again = await visit(second.payUrl);
    expect([200, 303]).toContain(again.status);
    expect(mutationsFor(second.session.gid)).not.toContain('paymentSessionResolve');
  });

  it('a new payment session of a checkout already paid with Flex is not sent to Flex again', async () => {
    const group = `paid-${Date.now()}`;
    const first = await startCheckout(h, shop, { amount: '17.00', group });
    h.flex.pay(first.checkoutId, 'hsa_fsa');
    await eventually(async () => h.shopify.paymentSession(first.session.id)?.status === 'resolved', 10_000, 'first resolved');
    const sent = await h.shopify.sendPaymentSession(shop.domain, { amount: '17.00', group });
    expect(sent.status).toBe(201);
    const page = await visit((sent.body as { redirect_url: string }).redirect_url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('This order was already paid with Flex.');
    expect(h.flex.checkoutSessions({ clientReferenceId: sent.session.id })).toHaveLength(0);
    expect((await row(sent.session.id)).checkoutAttempts).toBe(0);
  });

  it('two checkouts of one group paid at once: one resolved, the other rejected in Shopify and refunded in Flex', async () => {
    const group = `twice-${Date.now()}`;
    const first = await startCheckout(h, shop, { amount: '19.00', group });
    const second = await startCheckout(h, shop, { amount: '19.00', group });
    h.flex.pay(first.checkoutId, 'hsa_fsa');
    h.flex.pay(second.checkoutId, 'hsa_fsa');
    const resolved = await eventually(async () => {
      const states = [h.shopify.paymentSession(first.session.id)?.status, h.shopify.paymentSession(second.session.id)?.status];
      return states.includes('resolved') && states.includes('rejected') ? states : undefined;
    }, 15_000, 'one resolved, one rejected');
    expect(resolved.filter((s) => s === 'resolved')).toHaveLength(1);
    const [kept, returned] = resolved[0] === 'resolved' ? [first, second] : [second, first];
    await eventually(async () => flexRefunds(returned.checkoutId).length === 1, 15_000, 'the second payment refunded');
    expect(flexRefunds(kept.checkoutId)).toHaveLength(0);
    expect((await row(returned.session.id)).rejectionMessage).toMatch(/paid this checkout twice/);
  });

  // Across connections only: the embedded database has one session, in which a lock is always granted.
  const itOnPostgres = process.env.TEST_DATABASE === 'embedded' ? it.skip : it;

  itOnPostgres('a Flex event takes its payment’s group lock where it finds the payment: a decision of the group elsewhere waits for it', async () => {
    const { session, checkoutId } = await startCheckout(h, shop, { amount: '21.00', group: `lock-${Date.now()}` });
    const payment = await row(session.id);
    const { transactor, database } = h.components;
    const waitingForAdvisoryLock = async () =>
      Number((await database.pool.query<{ n: string }>("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).rows[0]!.n);
    let otherDecisionLocked = false;
    let otherDecision: Promise<void> | undefined;
    // Verified, as the webhook's own would be, with the live connection's stored secret.
    const verifiedWithCiphertext = (await h.prisma.flexConnection.findFirstOrThrow({ where: { shopId: payment.shopId, mode: 'LIVE' } })).webhookSecretCiphertext!;
    const seen = await transactor.runSql(async (repos) => {
      const delivery = (id: string) => ({ shopId: payment.shopId as never, mode: 'LIVE' as const, deliveryId: `msg_lock_${id}_${checkoutId}`, eventId: null, eventType: 'checkout.session.completed', payload: {}, verifiedWithCiphertext });
      // Of the other mode: found, but neither noted nor locked.
      const otherMode = await repos.payments.recordFlexDeliveryFindingPayment(delivery('other-mode'), checkoutId as never, true, { type: 'flex_webhook', detail: {} });
      // A delivery recorded before: nothing found, noted or locked.
      const again = await repos.payments.recordFlexDeliveryFindingPayment(delivery('other-mode'), checkoutId as never, false, { type: 'flex_webhook', detail: { test: 'again' } });
      const found = await repos.payments.recordFlexDeliveryFindingPayment(delivery('this-mode'), checkoutId as never, false, { type: 'flex_webhook', detail: { test: 'lock' } });
      // Another transaction deciding about the same group takes the group's lock as every decision does.
      otherDecision = transactor.runSql(async (other) => {
        await other.payments.lockGroup(payment.shopId as never, payment.groupId);
        otherDecisionLocked = true;
      });
      await eventually(async () => (await waitingForAdvisoryLock()) === 1, 10_000, 'the other decision waiting for the group’s lock');
      return { otherMode: otherMode.payment?.id, again, found: found.payment?.id, recorded: [otherMode.deliveryId, found.deliveryId].every((id) => typeof id === 'string'), otherDecisionLocked };
    });
    expect(seen).toEqual({ otherMode: payment.id, again: { deliveryId: null, payment: null }, found: payment.id, recorded: true, otherDecisionLocked: false });
    await otherDecision;
    expect(otherDecisionLocked).toBe(true);
    const noted = (await h.timelineOf(payment.id)).filter((e) => e.type === 'flex_webhook');
    expect(noted.map((e) => e.detail)).toEqual([{ test: 'lock' }]);
  });

  it('refuses a decision guarded by its group without the group’s lock held in the transaction', async () => {
    const { session } = await startCheckout(h, shop, { amount: '22.00', group: `unlocked-${Date.now()}` });
    const payment = await row(session.id);
    const job = { kind: 'test.unlocked', dedupeKey: `unlocked-${payment.id}`, payload: {}, runAt: new Date() };
    await expect(
      h.components.transactor.runSql((repos) =>
        repos.payments.decideFinal(payment.id as never, { status: 'RESOLVED', authorizationExpiresAt: null }, {
          source: 'FLEX_WEBHOOK',
          now: new Date(),
          group: { shopId: payment.shopId as never, groupId: payment.groupId, closeJob: job },
        }),
      ),
    ).rejects.toThrow(/without the group's lock held/);
    expect((await row(session.id)).status).toBe('CHECKOUT_CREATED');
  });
});
