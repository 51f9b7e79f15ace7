// The hosted checkout page and the buyer's outcomes.
import { FlexTestBed, verifySvix, type Json, type Shop } from './helpers';

const t = new FlexTestBed();
const { makeShop, createSession, buyerChooses, getSession } = t;

describe('the hosted checkout page', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await makeShop();
  });

  it('shows the shop, amount, items, test banner and the five outcome buttons', async () => {
    const session = await createSession(shop);
    const res = await fetch(session.redirect_url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('Demo Store');
    expect(html).toContain('$65.00');
    expect(html).toContain('Thermometer');
    expect(html).toContain('Test mode');
    for (const [value, label] of [
      ['hsa_fsa', 'Pay with HSA/FSA card'],
      ['split', 'Split: HSA/FSA card + regular card'],
      ['decline', 'Card declined'],
      ['abandon', 'Cancel and return to store'],
      ['processing', 'Processing (completes later)'],
    ]) {
      expect(html).toContain(`name="outcome" value="${value}"`);
      expect(html).toContain(`>${label}</button>`);
    }
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=/);
  });

  it('hsa_fsa: completes the session, redirects with the id and sends signed webhooks', async () => {
    const session = await createSession(shop);
    const id = session.checkout_session_id;
    const res = await buyerChooses(id, 'hsa_fsa');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`https://shop.example/thanks?cs=${id}`);

    const after = await getSession(shop, id, '?expand_payment_intent=true');
    expect(after).toMatchObject({ status: 'complete', amount_received: 6500 });
    expect(after.payment_intents).toHaveLength(1);
    expect(after.payment_intents[0]).toMatchObject({
      status: 'succeeded',
      payment_card_type: 'hsa_fsa',
      amount: 6500,
      amount_received: 6500,
      capture_method: 'automatic',
      test_mode: true,
    });
    expect(after.payment_intents[0].payment_intent_id).toMatch(/^fpi_/);

    await t.flex.waitForDeliveries();
    const types = t.receiver.received.map((r) => r.body.event_type);
    expect(types).toEqual(['payment_intent.succeeded', 'checkout.session.completed']);
    for (const delivery of t.receiver.received) {
      expect(verifySvix(delivery.raw, delivery.headers, shop.secret)).toBe(true);
      expect(verifySvix(delivery.raw, delivery.headers, 'fwhsec_' + Buffer.alloc(32).toString('base64'))).toBe(false);
      expect(delivery.headers['svix-id']).toMatch(/^msg_/);
    }
    const completed = t.receiver.ofType('checkout.session.completed')[0].body;
    expect(completed).toMatchObject({ test_mode: true, object: { checkout_session: { checkout_session_id: id, status: 'complete' } } });
    expect(Number.isInteger(completed.event_dt)).toBe(true);
    expect(typeof completed.event_id).toBe('string');
  });

  it('split: two intents, HSA/FSA card for the eligible part, two payment_intent.succeeded', async () => {
    const session = await createSession(shop);
    const res = await buyerChooses(session.checkout_session_id, 'split');
    expect(res.status).toBe(303);
    const after = await getSession(shop, session.checkout_session_id, '?expand_payment_intent=true');
    expect(after.status).toBe('complete');
    expect(after.payment_intents.map((pi: Json) => [pi.payment_card_type, pi.amount, pi.status])).toEqual([
      ['hsa_fsa', 5000, 'succeeded'],
      ['primary', 1500, 'succeeded'],
    ]);
    await t.flex.waitForDeliveries();
    expect(t.receiver.ofType('payment_intent.succeeded')).toHaveLength(2);
    expect(t.receiver.ofType('checkout.session.completed')).toHaveLength(1);
  });

  it('split: half of the total when no product is eligible, or the amount the test names', async () => {
    const plain = await createSession(shop, { line_items: [{ price: shop.plainPrice, quantity: 3 }] });
    t.flex.pay(plain.checkout_session_id, 'split');
    const intents = t.flex.paymentIntents({ checkoutSessionId: plain.checkout_session_id });
    expect(intents.map((pi) => [pi.payment_card_type, pi.amount]).sort()).toEqual([
      ['hsa_fsa', 2250],
      ['primary', 2250],
    ]);
    const named = await createSession(shop);
    t.flex.pay(named.checkout_session_id, { type: 'split', hsaFsaAmount: 1234 });
    const amounts = t.flex.checkoutSession(named.checkout_session_id).payment_intents as Json[];
    expect(amounts.map((pi) => pi.amount)).toEqual([1234, 6500 - 1234]);
    const bad = await createSession(shop);
    expect(() => t.flex.pay(bad.checkout_session_id, { type: 'split', hsaFsaAmount: 6500 })).toThrow(/hsaFsaAmount/);
  });

  it('decline: cancels the session, sends no webhook, and offers only "Return to store"', async () => {
    const session = await createSession(shop);
    const res = await buyerChooses(session.checkout_session_id, 'decline');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Your card was declined');
    expect(html).toContain('<a href="https://shop.example/checkout">Return to store</a>');
    expect(html).not.toContain('name="outcome"');
    const after = await getSession(shop, session.checkout_session_id, '?expand_payment_intent=true');
    expect(after.status).toBe('canceled');
    expect(after.payment_intents[0]).toMatchObject({
      status: 'canceled',
      last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds' },
    });
    await t.flex.waitForDeliveries();
    expect(t.receiver.received).toHaveLength(0);
  });

  it('abandon: back to cancel_url, the session stays open until it expires', async () => {
    const session = await createSession(shop);
    const res = await buyerChooses(session.checkout_session_id, 'abandon');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('https://shop.example/checkout');
    expect((await getSession(shop, session.checkout_session_id)).status).toBe('open');
    t.flex.expireCheckoutSession(session.checkout_session_id);
    expect((await getSession(shop, session.checkout_session_id)).status).toBe('expired');
  });

  it('processing: redirects at once, completes (with webhooks) only on completeProcessing', async () => {
    const session = await createSession(shop);
    const id = session.checkout_session_id;
    const res = await buyerChooses(id, 'processing');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`https://shop.example/thanks?cs=${id}`);
    const pending = await getSession(shop, id, '?expand_payment_intent=true');
    expect(pending.status).toBe('open');
    expect(pending.payment_intents[0].status).toBe('processing');
    // Processing sessions do not expire under the buyer.
    t.flex.advanceClock(7200);
    expect((await getSession(shop, id)).status).toBe('open');
    await t.flex.waitForDeliveries();
    expect(t.receiver.received).toHaveLength(0);

    const control = await fetch(`${t.flex.url}/__sandbox/checkout-sessions/${id}/complete-processing`, { method: 'POST' });
    expect(control.status).toBe(200);
    expect((await getSession(shop, id)).status).toBe('complete');
    await t.flex.waitForDeliveries();
    expect(t.receiver.received.map((r) => r.body.event_type)).toEqual(['payment_intent.succeeded', 'checkout.session.completed']);
  });

  it('processing can also end in a decline', async () => {
    const session = await createSession(shop);
    t.flex.pay(session.checkout_session_id, 'processing');
    expect(() => t.flex.pay(session.checkout_session_id, 'hsa_fsa')).toThrow(/processing/);
    const after = t.flex.completeProcessing(session.checkout_session_id, { result: 'declined', declineCode: 'do_not_honor' });
    expect(after.status).toBe('canceled');
    const [intent] = t.flex.paymentIntents({ checkoutSessionId: session.checkout_session_id });
    expect(intent).toMatchObject({ status: 'canceled', last_payment_error: { decline_code: 'do_not_honor' } });
    await t.flex.waitForDeliveries();
    expect(t.receiver.received).toHaveLength(0);
  });

  it('shows a clear message for sessions that cannot be paid any more', async () => {
    const session = await createSession(shop);
    t.flex.pay(session.checkout_session_id, 'hsa_fsa');
    const page = await (await fetch(session.redirect_url)).text();
    expect(page).toContain('This checkout is already complete');
    expect(page).not.toContain('name="outcome"');
    const again = await buyerChooses(session.checkout_session_id, 'hsa_fsa');
    expect(again.status).toBe(409);
    expect(() => t.flex.pay(session.checkout_session_id, 'hsa_fsa')).toThrow(/complete/);
    expect((await fetch(`${t.flex.url}/pay/c/fcs_unknown`)).status).toBe(404);
  });
});
