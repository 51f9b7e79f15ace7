// Manual capture, cancel (void), and canceling the open checkouts of a payment group.
import { FlexTestBed, sleep, type Json, type Shop } from './helpers';

const t = new FlexTestBed();
const { call, makeShop, createSession, getSession } = t;

describe('manual capture and cancel', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await makeShop({ webhook: false });
  });
  const authorized = async (outcome: 'hsa_fsa' | 'split' = 'hsa_fsa') => {
    const session = await createSession(shop, { capture_method: 'manual' });
    t.flex.pay(session.checkout_session_id, outcome);
    return session.checkout_session_id as string;
  };
  const capture = (id: string, body: Json = {}) => call(shop.key, 'POST', `/v1/checkout/sessions/${id}/capture`, { checkout_session: body });

  it('authorizes without taking money, then captures in full', async () => {
    const id = await authorized();
    const held = await getSession(shop, id, '?expand_payment_intent=true');
    expect(held).toMatchObject({ status: 'complete', amount_received: 0, capture_method: 'manual' });
    expect(held.payment_intents[0]).toMatchObject({ status: 'requires_capture', amount_capturable: 6500, amount_received: 0 });
    expect(Date.parse(held.payment_intents[0].authorization_expires_at)).toBeGreaterThan(Date.now() + 6 * 86400_000);

    const res = await capture(id);
    expect(res.status).toBe(200);
    expect(res.body.checkout_session).toMatchObject({ amount_received: 6500 });
    expect(res.body.checkout_session.captures).toHaveLength(1);
    expect(res.body.checkout_session.captures[0]).toMatchObject({ amount_captured: 6500, test_mode: true });
    expect(res.body.checkout_session.captures[0].capture_id).toMatch(/^fcap_/);
    const again = await capture(id);
    expect(again.status).toBe(422);
    expect(again.body.detail[0].type).toBe('already_captured');
  });

  it('captures part, HSA/FSA card first, and releases the rest on a final capture', async () => {
    const id = await authorized('split');
    const res = await capture(id, { amount: 5500 });
    expect(res.status).toBe(200);
    const intents = t.flex.checkoutSession(id).payment_intents as Json[];
    expect(intents.map((pi) => [pi.payment_card_type, pi.amount_received, pi.amount_capturable, pi.status])).toEqual([
      ['hsa_fsa', 5000, 0, 'succeeded'],
      ['primary', 500, 0, 'succeeded'],
    ]);
    expect(res.body.checkout_session.captures[0].items.map((i: Json) => i.amount_captured)).toEqual([5000, 500]);
  });

  it('allows several captures with final_capture: false', async () => {
    const id = await authorized();
    expect((await capture(id, { amount: 1000, final_capture: false })).status).toBe(200);
    const pi = (t.flex.checkoutSession(id).payment_intents as Json[])[0];
    expect(pi).toMatchObject({ status: 'requires_capture', amount_received: 1000, amount_capturable: 5500 });
    const over = await capture(id, { amount: 5501 });
    expect(over.status).toBe(422);
    expect(over.body.detail[0]).toMatchObject({ type: 'amount_exceeds_capturable', loc: ['checkout_session', 'amount'] });
    expect((await capture(id, { amount: 5500 })).body.checkout_session.amount_received).toBe(6500);
  });

  it('captures by line items (amount_to_capture + tax + shipping - discount)', async () => {
    const id = await authorized();
    const res = await capture(id, {
      line_items: [{ price: shop.eligiblePrice, amount_to_capture: 2500 }, { price: shop.plainPrice }],
      amount_tax: 100,
      amount_discount: 50,
      capture_metadata: { shopify_capture: 'gid://shopify/Capture/1' },
    });
    expect(res.status).toBe(200);
    expect(res.body.checkout_session.captures[0]).toMatchObject({
      amount_captured: 2500 + 1500 + 100 - 50,
      amount_tax_captured: 100,
      amount_discount_captured: 50,
      metadata: { shopify_capture: 'gid://shopify/Capture/1' },
    });
    const unknown = await capture(await authorized(), { line_items: [{ price: 'fprice_other' }] });
    expect(unknown.body.detail[0].type).toBe('line_item_not_found');
  });

  it('refuses a capture after the authorization expired', async () => {
    const id = await authorized();
    t.flex.advanceClock(7 * 86400 + 1);
    const res = await capture(id);
    expect(res.status).toBe(422);
    expect(res.body.detail[0].type).toBe('authorization_expired');
    expect((t.flex.checkoutSession(id).payment_intents as Json[])[0]).toMatchObject({ status: 'canceled', amount_capturable: 0 });
  });

  it('refuses capture on automatic sessions', async () => {
    const session = await createSession(shop);
    t.flex.pay(session.checkout_session_id, 'hsa_fsa');
    const res = await capture(session.checkout_session_id);
    expect(res.body.detail[0].type).toBe('checkout_session_not_capturable');
  });

  it('cancel voids the authorization; again returns it unchanged; after a capture it is refused', async () => {
    const id = await authorized('split');
    const res = await call(shop.key, 'POST', `/v1/checkout/sessions/${id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.checkout_session.status).toBe('canceled');
    expect((t.flex.checkoutSession(id).payment_intents as Json[]).map((pi) => pi.status)).toEqual(['canceled', 'canceled']);
    const again = await call(shop.key, 'POST', `/v1/checkout/sessions/${id}/cancel`);
    expect(again).toMatchObject({ status: 200, body: { checkout_session: { status: 'canceled' } } });
    expect((await capture(id)).body.detail[0].type).toBe('checkout_session_not_complete');

    const captured = await authorized();
    await capture(captured, { amount: 100 });
    const refused = await call(shop.key, 'POST', `/v1/checkout/sessions/${captured}/cancel`);
    expect(refused.status).toBe(422);
    expect(refused.body.detail[0].type).toBe('already_captured');
  });
});

describe('canceling the other open checkouts of a payment group', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await makeShop();
  });
  const cancel = (id: string, headers: Record<string, string> = {}) => call(shop.key, 'POST', `/v1/checkout/sessions/${id}/cancel`, undefined, headers);

  it('cancels an open, unpaid session: it can no longer be paid, and no webhook is sent', async () => {
    const group = 'gid://shopify/PaymentSession/group-1';
    const paid = await createSession(shop, { client_reference_id: group });
    const other = await createSession(shop, { client_reference_id: group });
    t.flex.pay(paid.checkout_session_id, 'hsa_fsa');
    await t.flex.waitForDeliveries();
    t.receiver.received.length = 0;

    const res = await cancel(other.checkout_session_id, { 'idempotency-key': `cancel-${other.checkout_session_id}` });
    expect(res.status).toBe(200);
    expect(res.body.checkout_session).toMatchObject({ status: 'canceled', payment_intents: [], amount_received: 0 });
    const replay = await cancel(other.checkout_session_id, { 'idempotency-key': `cancel-${other.checkout_session_id}` });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');

    const page = await fetch(other.redirect_url);
    expect(await page.text()).toContain('This checkout was canceled.');
    const buyer = await fetch(other.redirect_url, { method: 'POST', body: new URLSearchParams({ outcome: 'hsa_fsa' }), redirect: 'manual' });
    expect(buyer.status).toBe(409);
    expect(() => t.flex.pay(other.checkout_session_id, 'card')).toThrow(/canceled/);
    const ref = encodeURIComponent(group);
    const list = await call(shop.key, 'GET', `/v1/checkout/sessions?client_reference_id=${ref}`);
    expect(list.body.checkout_sessions.map((s: Json) => s.status)).toEqual(['canceled', 'complete']);
    await t.flex.waitForDeliveries();
    expect(t.receiver.received).toHaveLength(0);
  });

  it('refuses to cancel a session the buyer paid meanwhile (automatic capture): the app refunds it instead', async () => {
    const late = await createSession(shop);
    t.flex.pay(late.checkout_session_id, 'split');
    const refused = await cancel(late.checkout_session_id);
    expect(refused.status).toBe(422);
    expect(refused.body.detail[0]).toMatchObject({ type: 'already_captured', msg: expect.stringMatching(/^already_captured: /) });
    expect((await getSession(shop, late.checkout_session_id)).status).toBe('complete');

    const refund = await call(shop.key, 'POST', `/v1/checkout/sessions/${late.checkout_session_id}/refund`, { checkout_session: { reason: 'duplicate' } });
    expect(refund.status).toBe(200);
    expect(refund.body.refunds[0]).toMatchObject({ amount: 6500, reason: 'duplicate', status: 'pending' });
    expect(refund.body.refunds[0].items.map((i: Json) => i.amount_refunded)).toEqual([5000, 1500]);
    await sleep(60);
    expect((await getSession(shop, late.checkout_session_id)).amount_refunded).toBe(6500);
    const ledger = t.flex.balanceTransactions({ checkoutSessionId: late.checkout_session_id });
    expect(ledger.map((bt) => [bt.type, bt.amount]).sort()).toEqual([
      ['payment', 1500],
      ['payment', 5000],
      ['payment_refund', -1500],
      ['payment_refund', -5000],
    ]);
  });

  it('voids a processing payment; an expired session cannot be canceled; a declined one stays canceled', async () => {
    const processing = await createSession(shop);
    t.flex.pay(processing.checkout_session_id, 'processing');
    const voided = await cancel(processing.checkout_session_id);
    expect(voided.body.checkout_session.status).toBe('canceled');
    expect(t.flex.paymentIntents({ checkoutSessionId: processing.checkout_session_id })[0]).toMatchObject({ status: 'canceled', cancellation_reason: 'requested_by_customer' });
    expect(() => t.flex.completeProcessing(processing.checkout_session_id)).toThrow(/no processing payment/);

    const expired = await createSession(shop);
    t.flex.expireCheckoutSession(expired.checkout_session_id);
    expect((await cancel(expired.checkout_session_id)).body.detail[0].type).toBe('checkout_session_expired');

    const declined = await createSession(shop);
    t.flex.pay(declined.checkout_session_id, 'decline');
    expect(await cancel(declined.checkout_session_id)).toMatchObject({ status: 200, body: { checkout_session: { status: 'canceled' } } });
  });
});
