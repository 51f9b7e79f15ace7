// Manual capture, cancel (void), and canceling the open checkouts of a payment group.
import { FlexTestBed, type Json, type Shop } from './helpers';

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
