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

describe('carts judged line by line', () => {
  let key: string;
  let thermometer: string; // $25.00, eligible by auto-substantiation (judged from its name)
  let massager: string; // $80.00, eligible with a letter of medical necessity
  let sunglasses: string; // $15.00, not eligible
  let sunglassesProduct: string;
  beforeAll(async () => {
    key = t.flex.createAccount({ name: 'Cart Store' }).testKey;
    thermometer = (await t.product(key, { name: 'Digital thermometer' }, 2500)).priceId;
    massager = (await t.product(key, { name: 'Percussion massager' }, 8000)).priceId;
    const plain = await t.product(key, { name: 'Sunglasses' }, 1500);
    sunglasses = plain.priceId;
    sunglassesProduct = plain.productId;
  });
  const checkout = async (extra: Json) => {
    const res = await call(key, 'POST', '/v1/checkout/sessions', {
      checkout_session: { success_url: 'https://shop.example/ok', cancel_url: 'https://shop.example/cart', ...extra },
    });
    expect(res.status).toBe(200);
    return res.body.checkout_session as Json;
  };
  const lineItems = async (id: string) => (await call(key, 'GET', `/v1/checkout/sessions/${id}/line_items`)).body.line_items as Json[];
  /** Two thermometers and one pair of sunglasses: $65.00 before anything else. */
  const mixed = () => [
    { price: thermometer, quantity: 2 },
    { price: sunglasses, quantity: 1 },
  ];

  it('splits a mixed cart: eligible lines after their discount plus their tax share on the HSA/FSA card', async () => {
    const session = await checkout({
      line_items: mixed(),
      tax_rate: { amount: 650 },
      shipping_options: { shipping_rate_data: { display_name: 'Ground', amount: 799 } },
      discounts: [{ coupon_data: { name: 'THERMO5', amount_off: 500, applies_to: { prices: [thermometer] } } }],
      fees: [{ amount: 3, fee_type: 'custom', name: 'Rounding adjustment' }],
    });
    expect(session).toMatchObject({
      amount_subtotal: 6500,
      amount_total: 6500 + 650 + 799 + 3 - 500,
      total_details: { amount_discount: 500, amount_tax: 650, amount_shipping: 799 },
      hsa_fsa_eligible: true,
      letter_of_medical_necessity_required: false,
      discounts: [{ coupon_id: null, name: 'THERMO5', amount_off: 500, applies_to: { prices: [thermometer], products: [] } }],
    });
    const lines = await lineItems(session.checkout_session_id);
    expect(lines.map((l) => [l.eligibility, l.amount_subtotal, l.amount_discount, l.amount_tax, l.amount_shipping, l.amount_fee, l.amount_total])).toEqual([
      // Tax share of the eligible lines: floor(650 × 4500 / 6000) = 487.
      ['auto_substantiation', 5000, 500, 487, 0, 0, 4987],
      ['not_eligible', 1500, 0, 163, 0, 0, 1663],
    ]);
    expect(lines[0]).toMatchObject({
      line_item_id: expect.stringMatching(/^fli_/),
      description: 'Digital thermometer',
      quantity: 2,
      fees: [],
      shipping_rate: null,
      test_mode: true,
      price: { price_id: thermometer, unit_amount: 2500, hsa_fsa_eligibility: 'auto_substantiation', product: { name: 'Digital thermometer' } },
    });

    t.flex.pay(session.checkout_session_id, 'split');
    const intents = t.flex.paymentIntents({ checkoutSessionId: session.checkout_session_id });
    // Shipping, the rounding fee and the ineligible line (with its tax) go on the regular card.
    expect(intents.map((pi) => [pi.payment_card_type, pi.amount]).sort()).toEqual([
      ['hsa_fsa', 4987],
      ['primary', 1663 + 799 + 3],
    ]);
  });

  it('counts a discount against the lines it applies to, by price or by product, or against the whole cart', async () => {
    const tax = { amount: 650 };
    const onPlain = await checkout({ line_items: mixed(), tax_rate: tax, discounts: [{ coupon_data: { amount_off: 500, applies_to: { products: [sunglassesProduct] } } }] });
    expect((await lineItems(onPlain.checkout_session_id)).map((l) => l.amount_discount)).toEqual([0, 500]);
    t.flex.pay(onPlain.checkout_session_id, 'split');
    // floor(650 × 5000 / 6000) = 541
    expect((t.flex.checkoutSession(onPlain.checkout_session_id).payment_intents as Json[]).map((pi) => pi.amount)).toEqual([5541, 6650 - 5541]);

    const everywhere = await checkout({ line_items: mixed(), discounts: [{ coupon_data: { amount_off: 600 } }] });
    const spread = await lineItems(everywhere.checkout_session_id);
    expect(spread.map((l) => l.amount_discount)).toEqual([462, 138]);
    expect(spread.reduce((n, l) => n + l.amount_total, 0)).toBe(everywhere.amount_total);

    // A discount for nothing in the cart stays on the session: the regular card bears it.
    const elsewhere = await checkout({ line_items: mixed(), tax_rate: tax, discounts: [{ coupon_data: { amount_off: 500, applies_to: { prices: ['fprice_other'] } } }] });
    expect((await lineItems(elsewhere.checkout_session_id)).map((l) => l.amount_discount)).toEqual([0, 0]);
    t.flex.pay(elsewhere.checkout_session_id, 'split');
    expect((t.flex.checkoutSession(elsewhere.checkout_session_id).payment_intents as Json[]).map((pi) => pi.amount)).toEqual([5500, 1150]);

    const bad = await call(key, 'POST', '/v1/checkout/sessions', {
      checkout_session: { line_items: mixed(), success_url: 'https://shop.example/ok', discounts: [{ coupon_data: { amount_off: 5, applies_to: { prices: 'x' } } }] },
    });
    expect(bad.body.detail[0]).toMatchObject({ loc: ['checkout_session', 'discounts', 0, 'coupon_data', 'applies_to', 'prices'], type: 'list_type' });
  });

  it('flags carts that need a letter of medical necessity, and carts with nothing eligible', async () => {
    const lmn = await checkout({ line_items: [{ price: massager }, { price: sunglasses }] });
    expect(lmn).toMatchObject({ hsa_fsa_eligible: true, letter_of_medical_necessity_required: true });
    expect((await lineItems(lmn.checkout_session_id)).map((l) => l.eligibility)).toEqual(['letter_of_medical_necessity', 'not_eligible']);
    const plain = await checkout({ line_items: [{ price: sunglasses, quantity: 4 }] });
    expect(plain).toMatchObject({ hsa_fsa_eligible: false, letter_of_medical_necessity_required: false });
    // Eligibility is fixed when the session is made: a later change of the product does not move it.
    t.flex.setProductEligibility({ name: 'Sunglasses' }, 'auto_substantiation');
    expect((await lineItems(plain.checkout_session_id))[0].eligibility).toBe('not_eligible');
    expect((await checkout({ line_items: [{ price: sunglasses }] })).hsa_fsa_eligible).toBe(true);
  });

  it('keeps amount_total exact with tax, shipping, fees and discounts at once', async () => {
    const session = await checkout({
      line_items: [{ price: thermometer, quantity: 3 }, { price: massager, quantity: 1 }, { price: sunglasses, quantity: 2 }],
      tax_rate: { amount: 1337 },
      shipping_options: { shipping_rate_data: { display_name: 'Express', amount: 1250 } },
      fees: [{ amount: 1, fee_type: 'custom', name: 'Rounding adjustment' }, { amount: 99, name: 'Handling' }],
      discounts: [{ coupon_data: { amount_off: 333, applies_to: { prices: [massager] } } }, { coupon_data: { amount_off: 250 } }],
    });
    const subtotal = 7500 + 8000 + 3000;
    expect(session.amount_total).toBe(subtotal + 1337 + 1250 + 1 + 99 - 333 - 250);
    const lines = await lineItems(session.checkout_session_id);
    const sum = (k: string) => lines.reduce((n, l) => n + l[k], 0);
    expect([sum('amount_subtotal'), sum('amount_discount'), sum('amount_tax')]).toEqual([subtotal, 583, 1337]);
    expect(sum('amount_total') + 1250 + 1 + 99).toBe(session.amount_total);
  });
});
