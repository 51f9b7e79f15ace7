// Checkout sessions: creation, amounts, carts and their line items, lists, expiry.
import { FlexTestBed, type Json, type Shop } from './helpers';

const t = new FlexTestBed();
const { call, makeShop, createSession, getSession } = t;

describe('checkout sessions', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await makeShop({ webhook: false });
  });

  it('computes amount_total and fills the documented fields', async () => {
    const session = await createSession(shop, {
      tax_rate: { amount: 312 },
      shipping_options: { shipping_rate_data: { display_name: 'Ground', amount: 500 } },
      fees: [{ amount: 3, fee_type: 'custom', name: 'Rounding adjustment' }],
      discounts: [{ coupon_data: { name: 'SAVE', amount_off: 200 } }],
      metadata: { shop: 'demo.myshopify.com' },
    });
    expect(session).toMatchObject({
      status: 'open',
      mode: 'payment',
      amount_subtotal: 6500,
      amount_total: 6500 + 312 + 500 + 3 - 200,
      amount_received: 0,
      total_details: { amount_tax: 312, amount_shipping: 500, amount_discount: 200 },
      capture_method: 'automatic',
      payment_intents: [],
      redirect_url: `${t.flex.url}/pay/c/${session.checkout_session_id}`,
      metadata: { shop: 'demo.myshopify.com' },
      hsa_fsa_eligible: true,
    });
    expect(Number.isInteger(session.created_at)).toBe(true);
    expect(session.expires_at - session.created_at).toBe(3600);
    expect(Math.abs(session.created_at - t.flex.now())).toBeLessThanOrEqual(1);

    const lines = await call(shop.key, 'GET', `/v1/checkout/sessions/${session.checkout_session_id}/line_items`);
    expect(lines.body.line_items.map((l: Json) => [l.description, l.quantity, l.amount_subtotal, l.eligibility])).toEqual([
      ['Thermometer', 2, 5000, 'auto_substantiation'],
      ['Sunglasses', 1, 1500, 'not_eligible'],
    ]);
    // Each line carries its share of the discount and the tax; shipping and fees stay on the session.
    const sum = (key: string) => lines.body.line_items.reduce((n: number, l: Json) => n + l[key], 0);
    expect([sum('amount_discount'), sum('amount_tax'), sum('amount_shipping'), sum('amount_fee')]).toEqual([200, 312, 0, 0]);
  });

  it('lists by client_reference_id and status, newest first', async () => {
    const first = await createSession(shop, { client_reference_id: 'gid://shopify/PaymentSession/1' });
    const second = await createSession(shop, { client_reference_id: 'gid://shopify/PaymentSession/1' });
    await createSession(shop, { client_reference_id: 'gid://shopify/PaymentSession/2' });
    t.flex.pay(second.checkout_session_id, 'hsa_fsa');
    const ref = encodeURIComponent('gid://shopify/PaymentSession/1');
    const all = await call(shop.key, 'GET', `/v1/checkout/sessions?client_reference_id=${ref}`);
    expect(all.body.checkout_sessions.map((s: Json) => s.checkout_session_id)).toEqual([second.checkout_session_id, first.checkout_session_id]);
    const complete = await call(shop.key, 'GET', `/v1/checkout/sessions?client_reference_id=${ref}&status=complete&expand_payment_intent=true`);
    expect(complete.body.checkout_sessions).toHaveLength(1);
    expect(complete.body.checkout_sessions[0].payment_intents[0]).toMatchObject({ status: 'succeeded', payment_card_type: 'hsa_fsa' });
    const limited = await call(shop.key, 'GET', '/v1/checkout/sessions?limit=1');
    expect(limited.body.checkout_sessions).toHaveLength(1);
    expect((await call(shop.key, 'GET', '/v1/checkout/sessions?limit=0')).status).toBe(422);
  });

  it('takes inline price_data, and a refused request leaves no price behind', async () => {
    const productId = (await call(shop.key, 'GET', '/v1/products')).body.products[0].product_id;
    const pricesBefore = (await call(shop.key, 'GET', '/v1/prices?limit=100')).body.prices.length;
    const refused = await call(shop.key, 'POST', '/v1/checkout/sessions', {
      checkout_session: { line_items: [{ price_data: { product: productId, unit_amount: 4500 } }] },
    });
    expect(refused.status).toBe(422);
    expect((await call(shop.key, 'GET', '/v1/prices?limit=100')).body.prices).toHaveLength(pricesBefore);
    const session = await createSession(shop, { line_items: [{ price_data: { product: productId, unit_amount: 4500 }, quantity: 2 }] });
    expect(session.amount_total).toBe(9000);
  });

  it('reads an open session past expires_at as expired', async () => {
    const session = await createSession(shop);
    t.flex.advanceClock(3601);
    expect((await getSession(shop, session.checkout_session_id)).status).toBe('expired');
    const page = await fetch(`${t.flex.url}/pay/c/${session.checkout_session_id}`);
    expect(await page.text()).toContain('This checkout session has expired');
  });
});
