import { createHmac, randomBytes } from 'node:crypto';
import { eventually, type RegisteredShop, useHarness } from '../support/harness';
import { payOnFlexPage, startCheckout } from '../support/buyer';
import { connectFlex, installThroughOAuth, uniqueShop } from '../support/merchant';
import { SecretBox } from '../../src/lib/secret-box';
import { secretContexts } from '../../src/lib/secret-contexts';

/**
 * POST /webhooks/flex: only deliveries signed with the endpoint's secret, recently, and not seen
 * before, change anything.
 */
describe('Flex webhooks', () => {
  // A kept signing secret stays kept for the whole file, however slow the machine (connection-cache.ts).
  const { h, shop } = useHarness({ flexOptions: { webhookRetryDelaysMs: [0, 200, 1000, 2000, 4000] }, tuning: { flexWebhookConnectionTtlMs: 30 * 60_000 } });

  function endpointSecret(mode: 'live' | 'test' = 'live'): string {
    const endpoint = (h.flex.webhookEndpoints({ accountId: shop.flexAccountId, testMode: mode === 'test' }) as Array<Record<string, any>>)[0];
    return endpoint!.signing_secret as string;
  }

  function sign(secret: string, id: string, timestamp: number, body: string): string {
    const key = Buffer.from(secret.slice(secret.indexOf('_') + 1), 'base64');
    return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
  }

  async function deliver(body: string, headers: Record<string, string>, query = `shop=${shop.domain}&mode=live`) {
    const res = await fetch(`${h.appUrl}/webhooks/flex?${query}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  /** A completed checkout event for a real open checkout, as Flex would send it (unsigned). */
  async function completedEventForOpenCheckout(ofShop: Pick<RegisteredShop, 'domain'> = shop) {
    const { session, checkoutId } = await startCheckout(h, ofShop as RegisteredShop, { amount: '25.00' });
    const checkout = { ...(h.flex.checkoutSession(checkoutId) as Record<string, any>), status: 'complete' };
    const body = JSON.stringify({ event_id: `evt_${randomBytes(6).toString('hex')}`, event_type: 'checkout.session.completed', event_dt: Math.floor(Date.now() / 1000), object: { checkout_session: checkout } });
    return { session, body };
  }

  async function stateOf(shopifyId: string) {
    const row = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId } });
    return { status: row.status, decidedAt: row.decidedAt, jobs: await h.prisma.job.count({ where: { subjectId: row.id } }) };
  }

  it('refuses a forged signature and changes nothing', async () => {
    const { session, body } = await completedEventForOpenCheckout();
    const before = await stateOf(session.id);
    const stored = await h.storedState();
    const forgedSecret = `fwhsec_${randomBytes(32).toString('base64')}`;
    const now = Math.floor(Date.now() / 1000);
    const answer = await deliver(body, { 'svix-id': 'msg_forged', 'svix-timestamp': String(now), 'svix-signature': sign(forgedSecret, 'msg_forged', now, body) });
    expect(answer.status).toBe(401);
    expect(await stateOf(session.id)).toEqual(before);
    expect(await h.prisma.flexWebhookDelivery.count({ where: { deliveryId: 'msg_forged' } })).toBe(0);
    expect(h.shopify.mutations.filter((m) => (m.variables as any).id === session.gid)).toHaveLength(0);
    // An unauthenticated request writes nothing at all (it used to mark the shop's webhooks as failing).
    expect(await h.storedState()).toEqual(stored);
  });

  it('answers an unsigned request the same whether or not the shop uses the app', async () => {
    const { body } = await completedEventForOpenCheckout();
    const now = String(Math.floor(Date.now() / 1000));
    const headers = { 'svix-id': 'msg_probe', 'svix-timestamp': now, 'svix-signature': 'v1,AAAA' };
    const installed = await deliver(body, headers);
    const stranger = await deliver(body, headers, 'shop=nobody-here.myshopify.com&mode=live');
    const noMode = await deliver(body, headers, `shop=${shop.domain}&mode=sideways`);
    for (const answer of [installed, stranger, noMode]) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual(installed.body);
    }
  });

  it('test and live never cross: an event signed for the test endpoint does not move a live payment', async () => {
    const { session, body } = await completedEventForOpenCheckout();
    const before = await stateOf(session.id);
    const now = Math.floor(Date.now() / 1000);
    // Signed correctly, with the test endpoint's secret, about a live checkout.
    const answer = await deliver(body, { 'svix-id': 'msg_cross', 'svix-timestamp': String(now), 'svix-signature': sign(endpointSecret('test'), 'msg_cross', now, body) }, `shop=${shop.domain}&mode=test`);
    expect(answer.status).toBe(200);
    expect(answer.body.outcome).toBe('mode_mismatch');
    expect(await stateOf(session.id)).toEqual(before);
    expect(h.shopify.mutations.filter((m) => (m.variables as any).id === session.gid)).toHaveLength(0);
  });

  it('test and live never cross for refund events either: a test-signed refund event does not settle a live refund', async () => {
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '30.00' });
    expect((await payOnFlexPage(redirectUrl, 'hsa_fsa')).status).toBe(303);
    expect((await h.shopify.waitForPaymentSession(session.id)).status).toBe('resolved');
    h.flex.setRefundBehaviour('manual');
    try {
      const sent = await h.shopify.sendRefundSession(shop.domain, { paymentId: session.id, amount: '30.00' });
      expect(sent.status).toBe(201);
      const row = () => h.prisma.refundSession.findFirstOrThrow({ where: { shopifyId: sent.session.id }, include: { flexRefunds: true } });
      await eventually(async () => (await row()).flexRefunds.length === 1, 10_000, 'the live refund made in Flex');
      const pending = await row();
      expect(pending.status).toBe('PENDING');
      const flexRefund = h.flex.refunds({ accountId: shop.flexAccountId }).find((r) => (r as Record<string, any>).refund_id === pending.flexRefunds[0]!.flexRefundId) as Record<string, any>;
      // Correctly signed with the test endpoint's secret, saying the live refund succeeded.
      const body = JSON.stringify({ event_id: `evt_${randomBytes(6).toString('hex')}`, event_type: 'refund.updated', event_dt: Math.floor(Date.now() / 1000), object: { refund: { ...flexRefund, status: 'succeeded' } } });
      const now = Math.floor(Date.now() / 1000);
      const answer = await deliver(body, { 'svix-id': 'msg_refund_cross', 'svix-timestamp': String(now), 'svix-signature': sign(endpointSecret('test'), 'msg_refund_cross', now, body) }, `shop=${shop.domain}&mode=test`);
      expect(answer.status).toBe(200);
      expect(answer.body.outcome).toBe('mode_mismatch');
      expect((await row()).status).toBe('PENDING');
      expect(h.shopify.mutations.filter((m) => m.name === 'refundSessionResolve' && (m.variables as any)?.id === sent.session.gid)).toHaveLength(0);
    } finally {
      h.flex.setRefundBehaviour('auto_succeed');
    }
  });

  it('refuses a genuine signature over a tampered body', async () => {
    const { session, body } = await completedEventForOpenCheckout();
    const now = Math.floor(Date.now() / 1000);
    const signature = sign(endpointSecret(), 'msg_tampered', now, body);
    const tampered = body.replace('"25.00"', '"2500.00"').replace('2500,', '1,');
    const answer = await deliver(tampered + ' ', { 'svix-id': 'msg_tampered', 'svix-timestamp': String(now), 'svix-signature': signature });
    expect(answer.status).toBe(401);
    expect((await stateOf(session.id)).status).toBe('CHECKOUT_CREATED');
  });

  it('refuses a stale timestamp, even correctly signed', async () => {
    const { session, body } = await completedEventForOpenCheckout();
    const stale = Math.floor(Date.now() / 1000) - 6 * 60;
    const answer = await deliver(body, { 'svix-id': 'msg_stale', 'svix-timestamp': String(stale), 'svix-signature': sign(endpointSecret(), 'msg_stale', stale, body) });
    expect(answer.status).toBe(401);
    expect(h.logs.some((line) => line.includes('"reason":"stale_timestamp"'))).toBe(true);
    expect((await stateOf(session.id)).status).toBe('CHECKOUT_CREATED');
  });

  it('refuses a delivery signed with the test secret sent to the live endpoint, and unknown shops', async () => {
    const { session, body } = await completedEventForOpenCheckout();
    const now = Math.floor(Date.now() / 1000);
    const testSigned = { 'svix-id': 'msg_mode', 'svix-timestamp': String(now), 'svix-signature': sign(endpointSecret('test'), 'msg_mode', now, body) };
    expect((await deliver(body, testSigned)).status).toBe(401);
    expect((await deliver(body, testSigned, 'shop=nobody.myshopify.com&mode=test')).status).toBe(401);
    expect((await deliver(body, testSigned, `shop=${shop.domain}`)).status).toBe(401);
    expect((await stateOf(session.id)).status).toBe('CHECKOUT_CREATED');
  });

  it('processes a genuine delivery once; a replay of it changes nothing', async () => {
    const { session, body } = await completedEventForOpenCheckout();
    const now = Math.floor(Date.now() / 1000);
    const headers = { 'svix-id': 'msg_genuine', 'svix-timestamp': String(now), 'svix-signature': sign(endpointSecret(), 'msg_genuine', now, body) };
    const first = await deliver(body, headers);
    expect(first).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    await eventually(async () => h.shopify.paymentSession(session.id)?.status === 'resolved', 15_000, 'resolve');
    const after = await stateOf(session.id);

    const replay = await deliver(body, headers);
    expect(replay).toMatchObject({ status: 200, body: { outcome: 'duplicate' } });
    expect(await stateOf(session.id)).toEqual(after);
    expect(h.shopify.mutations.filter((m) => (m.variables as any).id === session.gid)).toHaveLength(1);
    expect(await h.prisma.flexWebhookDelivery.count({ where: { deliveryId: 'msg_genuine' } })).toBe(1);
  });

  it('records a checkout event’s delivery once with its outcome however it ends, and answers a replay of it duplicate', async () => {
    const { session, body } = await completedEventForOpenCheckout();
    const event = JSON.parse(body) as { object: { checkout_session: Record<string, unknown> } };
    const cases = {
      // Ends before the handler's first statement: recorded by the webhook with its outcome.
      unparseable_checkout_session: JSON.stringify({ ...event, object: { checkout_session: { status: 'complete' } } }),
      // Recorded by the handler's first statement, which finds no payment.
      unknown_checkout_session: JSON.stringify({ ...event, object: { checkout_session: { ...event.object.checkout_session, checkout_session_id: `fcs_${randomBytes(8).toString('hex')}`, client_reference_id: null } } }),
      applied: body,
    };
    for (const [outcome, payload] of Object.entries(cases)) {
      const id = `msg_outcome_${outcome}`;
      const now = Math.floor(Date.now() / 1000);
      const headers = { 'svix-id': id, 'svix-timestamp': String(now), 'svix-signature': sign(endpointSecret(), id, now, payload) };
      expect(await deliver(payload, headers)).toMatchObject({ status: 200, body: { outcome } });
      expect(await deliver(payload, headers)).toMatchObject({ status: 200, body: { outcome: 'duplicate' } });
      expect(await h.prisma.flexWebhookDelivery.findMany({ where: { deliveryId: id }, select: { outcome: true, eventType: true } })).toEqual([{ outcome, eventType: 'checkout.session.completed' }]);
    }
    await eventually(async () => h.shopify.paymentSession(session.id)?.status === 'resolved', 15_000, 'resolve');
    const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: session.id } });
    expect((await h.timelineOf(payment.id)).filter((e) => e.type === 'flex_webhook')).toHaveLength(1);
  });

  it('applies one of several copies of a delivery arriving at once; the others are answered duplicate and leave no trace', async () => {
    const { session, body } = await completedEventForOpenCheckout();
    const now = Math.floor(Date.now() / 1000);
    const headers = { 'svix-id': 'msg_at_once', 'svix-timestamp': String(now), 'svix-signature': sign(endpointSecret(), 'msg_at_once', now, body) };
    const answers = await Promise.all([1, 2, 3, 4].map(() => deliver(body, headers)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(answers.map((a) => (a.body as { outcome: string }).outcome).sort()).toEqual(['applied', 'duplicate', 'duplicate', 'duplicate']);
    await eventually(async () => h.shopify.paymentSession(session.id)?.status === 'resolved', 15_000, 'resolve');
    expect(await h.prisma.flexWebhookDelivery.findMany({ where: { deliveryId: 'msg_at_once' }, select: { outcome: true } })).toEqual([{ outcome: 'applied' }]);
    const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: session.id } });
    expect((await h.timelineOf(payment.id)).filter((e) => e.type === 'flex_webhook')).toHaveLength(1);
    expect(h.shopify.mutations.filter((m) => (m.variables as any).id === session.gid)).toHaveLength(1);
  });

  it('a checkout whose creation answer was lost, paid but not complete, makes the payment pending and records the checkout', async () => {
    // Flex made the checkout, but the pay page never heard back (a 500 after the work): nothing recorded it.
    h.flex.faults.failNext({ method: 'POST', path: '/v1/checkout/sessions', status: 500, when: 'after' });
    const sent = await h.shopify.sendPaymentSession(shop.domain, { amount: '27.00' });
    expect((await fetch((sent.body as { redirect_url: string }).redirect_url, { redirect: 'manual' })).status).toBe(503);
    const made = h.flex.checkoutSessions({ clientReferenceId: sent.session.id })[0] as Record<string, any>;
    expect((await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: sent.session.id } })).flexCheckoutSessionId).toBeNull();
    // The buyer paid part of it in Flex (money on its way, the checkout not complete): Flex says so.
    const body = JSON.stringify({ event_id: `evt_${randomBytes(6).toString('hex')}`, event_type: 'checkout.session.completed', event_dt: Math.floor(Date.now() / 1000), object: { checkout_session: { ...made, status: 'paid' } } });
    const now = Math.floor(Date.now() / 1000);
    const answer = await deliver(body, { 'svix-id': 'msg_lost_answer', 'svix-timestamp': String(now), 'svix-signature': sign(endpointSecret(), 'msg_lost_answer', now, body) });
    expect(answer).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: sent.session.id } });
    expect(payment).toMatchObject({ status: 'PENDING', flexCheckoutSessionId: made.checkout_session_id });
    // The reconciler will look at it again, and Shopify hears it is pending.
    expect(payment.nextReconcileAt).not.toBeNull();
    await eventually(async () => h.shopify.paymentSession(sent.session.id)?.status === 'pending', 15_000, 'pending at Shopify');
  });

  it('acknowledges Flex’s redeliveries of a real event without acting twice', async () => {
    const { session, redirectUrl, checkoutId } = await startCheckout(h, shop, { amount: '26.00' });
    await payOnFlexPage(redirectUrl, 'hsa_fsa');
    await eventually(async () => h.shopify.paymentSession(session.id)?.status === 'resolved', 15_000, 'resolve');
    const event = h.flex.events({ type: 'checkout.session.completed' }).find((e) => (e.payload as any).object.checkout_session.checkout_session_id === checkoutId)!;
    h.flex.redeliver(event.eventId);
    await h.flex.waitForDeliveries();
    const deliveries = await h.prisma.flexWebhookDelivery.findMany({ where: { deliveryId: event.svixId } });
    expect(deliveries).toHaveLength(1);
    expect(h.shopify.mutations.filter((m) => (m.variables as any).id === session.gid)).toHaveLength(1);
  });

  it('a signing secret the app has kept stops verifying anything once the merchant replaces or removes the key; the new secret verifies at once', async () => {
    // The app keeps a shop's signing secret between webhooks (flex/webhooks/connection-cache.ts), on
    // every instance: a kept one must never outlive the stored one, nor hide a new one.
    const domain = uniqueShop('kept-secret');
    const browser = await installThroughOAuth(h, domain);
    const account = h.flex.createAccount({ name: domain });
    expect((await connectFlex(browser, { live: account.liveKey, test: account.testKey })).status).toBe(303);
    const shopRow = await h.prisma.shop.findUniqueOrThrow({ where: { domain } });
    /** The secret of the endpoint the app registered for the connection it has stored now. */
    const storedSecret = async (): Promise<string> => {
      const { webhookEndpointId } = await h.prisma.flexConnection.findFirstOrThrow({ where: { shopId: shopRow.id, mode: 'LIVE' } });
      const endpoint = (h.flex.webhookEndpoints({ accountId: account.accountId }) as Array<Record<string, any>>).find((e) => e.webhook_id === webhookEndpointId);
      return endpoint!.signing_secret as string;
    };
    const query = `shop=${domain}&mode=live`;
    let deliveries = 0;
    /** A delivery of `body` signed with `secret`, and its id. */
    const send = async (secret: string, body: string) => {
      const id = `msg_kept_${++deliveries}_${domain}`;
      const now = Math.floor(Date.now() / 1000);
      const answer = await deliver(body, { 'svix-id': id, 'svix-timestamp': String(now), 'svix-signature': sign(secret, id, now, body) }, query);
      return { ...answer, id, recorded: async () => h.prisma.flexWebhookDelivery.count({ where: { deliveryId: id } }) };
    };
    const replaceKey = async () => {
      const before = await storedSecret();
      expect((await connectFlex(browser, { live: h.flex.addKey(account.accountId) })).status).toBe(303);
      expect(await storedSecret()).not.toBe(before);
    };
    /** An event the app records without acting on it. */
    const payoutEvent = () => JSON.stringify({ event_id: `evt_${randomBytes(6).toString('hex')}`, event_type: 'payout.created', object: { payout: { payout_id: 'po_kept' } } });
    /** Times the app found its kept connection out of date and went to the stored one. */
    const startOvers = () => h.logs.filter((line) => line.includes('trying again with the stored connection') && line.includes(domain)).length;

    // Verified with the first secret, which the app now keeps.
    const first = await completedEventForOpenCheckout({ domain });
    expect(await send(await storedSecret(), first.body)).toMatchObject({ status: 200, body: { outcome: 'applied' } });

    // The key replaced: the kept secret does not verify the new one's deliveries; the stored one does, at once.
    const second = await completedEventForOpenCheckout({ domain });
    await replaceKey();
    expect(await send(await storedSecret(), second.body)).toMatchObject({ status: 200, body: { outcome: 'applied' } });

    /**
     * A delivery signed with a secret the app keeps, after the key was replaced: refused, nothing recorded,
     * and refused because the statement that records it found the secret replaced (the kept entry was used).
     */
    const refusedOnReplacedSecret = async (body: string) => {
      // Kept: the stored secret verifies a delivery, and the app keeps it.
      const kept = await storedSecret();
      expect(await send(kept, payoutEvent())).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
      await replaceKey();
      const startedOver = startOvers();
      const stale = await send(kept, body);
      expect(stale.status).toBe(401);
      expect(await stale.recorded()).toBe(0);
      expect(startOvers()).toBe(startedOver + 1);
    };

    // A checkout event: the handler's first statement records the delivery, notes and locks the payment.
    const third = await completedEventForOpenCheckout({ domain });
    const before = await stateOf(third.session.id);
    await refusedOnReplacedSecret(third.body);
    expect(await stateOf(third.session.id)).toEqual(before);
    const thirdPayment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: third.session.id } });
    expect(await h.prisma.paymentEvent.count({ where: { paymentSessionId: thirdPayment.id, type: 'flex_webhook' } })).toBe(0);
    // A checkout event its handler refuses before any statement (another mode's): recorded by a statement of its own.
    const otherMode = JSON.parse(third.body) as { object: { checkout_session: Record<string, unknown> } };
    otherMode.object.checkout_session.test_mode = true;
    await refusedOnReplacedSecret(JSON.stringify(otherMode));
    // An event with no handler (its own statement, outside Prisma) and a refund event (in Prisma's transaction).
    await refusedOnReplacedSecret(payoutEvent());
    await refusedOnReplacedSecret(JSON.stringify({ event_id: 'evt_kept_refund', event_type: 'refund.updated', object: { refund: { refund_id: 're_kept', status: 'succeeded' } } }));
    // The stored secret still applies the checkout's event.
    expect(await send(await storedSecret(), third.body)).toMatchObject({ status: 200, body: { outcome: 'applied' } });

    // The stored secrets re-encrypted while the app runs (as `secrets:rotate` does, with the same
    // keys): the same secret, another ciphertext. A delivery it signs is applied, after one start-over.
    const box = new SecretBox(h.config.encryptionKeys);
    const connection = await h.prisma.flexConnection.findFirstOrThrow({ where: { shopId: shopRow.id, mode: 'LIVE' } });
    const context = secretContexts.flexWebhookSecret(shopRow.id, 'LIVE');
    await h.prisma.flexConnection.update({ where: { id: connection.id }, data: { webhookSecretCiphertext: box.encrypt(box.decrypt(connection.webhookSecretCiphertext!, context), context) } });
    const fourth = await completedEventForOpenCheckout({ domain });
    const reencrypted = startOvers();
    expect(await send(await storedSecret(), fourth.body)).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    expect(startOvers()).toBe(reencrypted + 1);

    // Disconnected (nothing is open) while its secret is kept: nothing it signs is accepted, not even a
    // new delivery of an event about a payment of the shop.
    const kept = await storedSecret();
    expect(await send(kept, payoutEvent())).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
    const { csrf } = await browser.settings();
    expect((await browser.post('/settings/disconnect', { _csrf: csrf, mode: 'live' })).status).toBe(303);
    expect(await h.prisma.flexConnection.count({ where: { shopId: shopRow.id, mode: 'LIVE' } })).toBe(0);
    const startedOver = startOvers();
    const afterDisconnect = await send(kept, third.body);
    expect(afterDisconnect.status).toBe(401);
    expect(await afterDisconnect.recorded()).toBe(0);
    expect(startOvers()).toBe(startedOver + 1);
  });

  it('a kept key Flex refuses while preparing is not the last word: the delivery is verified again with the stored connection', async () => {
    // An authorization's checkout event is prepared by reading the session from Flex with the shop's key
    // (checkout-completed-event.ts). Kept, that key may be one the merchant has replaced.
    const domain = uniqueShop('kept-key');
    const browser = await installThroughOAuth(h, domain);
    const account = h.flex.createAccount({ name: domain });
    expect((await connectFlex(browser, { live: account.liveKey, test: account.testKey })).status).toBe(303);
    const query = `shop=${domain}&mode=live`;
    const signed = (secret: string, id: string, body: string) => {
      const now = Math.floor(Date.now() / 1000);
      return { 'svix-id': id, 'svix-timestamp': String(now), 'svix-signature': sign(secret, id, now, body) };
    };
    const liveSecret = async () => {
      const shopRow = await h.prisma.shop.findUniqueOrThrow({ where: { domain } });
      const { webhookEndpointId } = await h.prisma.flexConnection.findFirstOrThrow({ where: { shopId: shopRow.id, mode: 'LIVE' } });
      return (h.flex.webhookEndpoints({ accountId: account.accountId }) as Array<Record<string, any>>).find((e) => e.webhook_id === webhookEndpointId)!.signing_secret as string;
    };
    const startOvers = () => h.logs.filter((line) => line.includes('trying again with the stored connection') && line.includes(domain)).length;

    const { session, checkoutId } = await startCheckout(h, { domain } as RegisteredShop, { amount: '40.00', kind: 'authorization' });
    const checkout: Record<string, any> = { ...(h.flex.checkoutSession(checkoutId) as Record<string, any>), status: 'complete' };
    expect(checkout.capture_method).toBe('manual');
    const body = JSON.stringify({ event_id: `evt_${randomBytes(6).toString('hex')}`, event_type: 'checkout.session.completed', object: { checkout_session: checkout } });
    // Kept: the first secret verifies a delivery, and the app keeps it with the first key.
    const first = await liveSecret();
    const payout = JSON.stringify({ event_id: 'evt_kept_key', event_type: 'payout.created', object: { payout: { payout_id: 'po_kept_key' } } });
    expect(await deliver(payout, signed(first, `msg_kk_1_${domain}`, payout), query)).toMatchObject({ status: 200, body: { outcome: 'ignored' } });

    // The key replaced (an open authorization allows a key of the same account), the old one revoked at Flex.
    expect((await connectFlex(browser, { live: h.flex.addKey(account.accountId) })).status).toBe(303);
    h.flex.revokeKey(account.liveKey);
    const startedOver = startOvers();
    // Signed with the old secret: the kept key is refused while preparing; verified again with the
    // stored connection, whose secret does not verify it, it is refused, not left for Flex to retry.
    const stale = await deliver(body, signed(first, `msg_kk_2_${domain}`, body), query);
    expect(stale.status).toBe(401);
    expect(startOvers()).toBe(startedOver + 1);
    expect(await h.prisma.flexWebhookDelivery.count({ where: { deliveryId: `msg_kk_2_${domain}` } })).toBe(0);
    // Signed with the stored secret, it is prepared with the stored key (Flex's own session, still open
    // here, is what the decision goes by) and recorded.
    const fresh = await deliver(body, signed(await liveSecret(), `msg_kk_3_${domain}`, body), query);
    expect(fresh).toMatchObject({ status: 200, body: { outcome: 'nothing_to_do' } });
    expect(await h.prisma.flexWebhookDelivery.count({ where: { deliveryId: `msg_kk_3_${domain}` } })).toBe(1);
    expect((await stateOf(session.id)).status).toBe('CHECKOUT_CREATED');
  });

  it('answers 400 to a correctly signed body that is not a Flex event', async () => {
    const now = Math.floor(Date.now() / 1000);
    const body = '{"hello":"world"}';
    const answer = await deliver(body, { 'svix-id': 'msg_junk', 'svix-timestamp': String(now), 'svix-signature': sign(endpointSecret(), 'msg_junk', now, body) });
    expect(answer.status).toBe(400);
  });

  it('Flex’s retries reach the app after an outage and resolve the payment', async () => {
    const { session, redirectUrl, checkoutId } = await startCheckout(h, shop, { amount: '27.00' });
    await h.app.stop();
    await payOnFlexPage(redirectUrl, 'hsa_fsa');
    await eventually(async () => h.flex.deliveries.some((d) => d.eventType === 'checkout.session.completed' && d.attempts.length > 0 && !d.delivered), 15_000, 'a failed delivery');
    await h.startApp();
    await eventually(async () => h.shopify.paymentSession(session.id)?.status === 'resolved', 15_000, 'resolve after the outage');
    const row = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: session.id } });
    expect(row).toMatchObject({ decisionSource: 'FLEX_WEBHOOK', flexCheckoutSessionId: checkoutId });
  });
});
