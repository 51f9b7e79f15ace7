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

describe('the hosted page offers what fits the cart', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await makeShop();
  });
  const buttons = (html: string) => [...html.matchAll(/<button[^>]*value="([a-z_]+)"([^>]*)>/g)].map((m) => ({ value: m[1], recommended: m[2].includes('data-recommended') }));
  const page = async (session: Json) => (await fetch(session.redirect_url)).text();

  it('shows every line with its eligibility and offers the split first for a mixed cart', async () => {
    const session = await createSession(shop, { tax_rate: { amount: 650 } });
    const html = await page(session);
    expect([...html.matchAll(/data-testid="line-item" data-eligibility="([a-z_]+)"/g)].map((m) => m[1])).toEqual(['auto_substantiation', 'not_eligible']);
    expect(html).toContain('Not HSA/FSA eligible');
    const offered = buttons(html);
    expect(offered[0]).toEqual({ value: 'split', recommended: true });
    expect(offered.filter((b) => b.recommended)).toHaveLength(1);
    expect(offered.map((b) => b.value).sort()).toEqual(['abandon', 'card', 'decline', 'hsa_fsa', 'processing', 'split']);
    // floor(650 × 5000 / 6500) = 500 of tax goes with the eligible items.
    expect(html).toContain('data-cart="mixed" data-recommended="split"');
    expect(html).toContain('pay $55.00 (those items and their tax) with your HSA/FSA card and $16.50 with a regular card');
  });

  it('offers the HSA/FSA card first when every item is eligible, a regular card when none is', async () => {
    const allEligible = await createSession(shop, { line_items: [{ price: shop.eligiblePrice, quantity: 1 }] });
    expect(buttons(await page(allEligible))[0]).toEqual({ value: 'hsa_fsa', recommended: true });
    const noneEligible = await createSession(shop, { line_items: [{ price: shop.plainPrice, quantity: 1 }] });
    const html = await page(noneEligible);
    expect(buttons(html)[0]).toEqual({ value: 'card', recommended: true });
    expect(html).toContain('>Pay with regular card</button>');
    expect(html).toContain('No item is HSA/FSA eligible');
  });

  it('card: one regular-card intent for the whole amount, with the usual webhooks', async () => {
    const session = await createSession(shop, { line_items: [{ price: shop.plainPrice, quantity: 2 }] });
    const res = await buyerChooses(session.checkout_session_id, 'card');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`https://shop.example/thanks?cs=${session.checkout_session_id}`);
    const after = await getSession(shop, session.checkout_session_id, '?expand_payment_intent=true');
    expect(after).toMatchObject({ status: 'complete', amount_received: 3000, hsa_fsa_eligible: false });
    expect(after.payment_intents.map((pi: Json) => [pi.payment_card_type, pi.amount, pi.status])).toEqual([['primary', 3000, 'succeeded']]);
    await t.flex.waitForDeliveries();
    expect(t.receiver.received.map((r) => r.body.event_type)).toEqual(['payment_intent.succeeded', 'checkout.session.completed']);
    for (const r of t.receiver.received) expect(verifySvix(r.raw, r.headers, shop.secret)).toBe(true);

    // Also from code and over the control API, on any cart.
    const mixed = await createSession(shop);
    expect(t.flex.pay(mixed.checkout_session_id, 'card').checkoutSession.status).toBe('complete');
    const viaControl = await createSession(shop);
    const paid = await t.control('POST', `/checkout-sessions/${viaControl.checkout_session_id}/pay`, { type: 'card' });
    expect(paid.body.checkoutSession.status).toBe('complete');
    expect(t.flex.paymentIntents({ checkoutSessionId: viaControl.checkout_session_id }).map((pi) => pi.payment_card_type)).toEqual(['primary']);
  });

  it('split with an explicit amount still works, from the page too', async () => {
    const session = await createSession(shop);
    const res = await buyerChooses(session.checkout_session_id, 'split', { hsa_fsa_amount: '1234' });
    expect(res.status).toBe(303);
    expect((t.flex.checkoutSession(session.checkout_session_id).payment_intents as Json[]).map((pi) => pi.amount)).toEqual([1234, 6500 - 1234]);
  });
});
