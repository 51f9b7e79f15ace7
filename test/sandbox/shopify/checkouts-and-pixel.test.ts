// Buyer checkouts from a cart: totals, the app's web pixel run by the simulator's pixel runtime (the
// exact body it posts), checkouts/* webhooks, the payment session request and its cancel_url forms.
import type { CheckoutRecord, ShopifySimulator } from '../../../sandbox/shopify';
import { COMMERCE_SCOPES, type SimulatorEnv, type TinyApp, useShopifySimulator } from './helpers';

const env = useShopifySimulator({ scopes: COMMERCE_SCOPES, webhookTopics: ['checkouts/create', 'checkouts/update'] });
let shopify: ShopifySimulator;
let app: TinyApp;
let shop: SimulatorEnv['shop'];
let thermometer: number;
let mug: number;

const PIXEL_CREATE = `mutation($settings: JSON!) { webPixelCreate(webPixel: { settings: $settings }) { webPixel { id } userErrors { code message } } }`;

beforeAll(async () => {
  ({ shopify, app, shop } = env);
  thermometer = shopify.createProduct(shop.domain, { title: 'Digital Thermometer', variants: [{ price: '12.50', sku: 'THERMO-1', barcode: '036000291452' }] }).product.variants[0]!.id;
  mug = shopify.createProduct(shop.domain, { title: 'Coffee Mug', variants: [{ title: 'Blue', price: '5.25', sku: 'MUG-B' }] }).product.variants[0]!.id;
  const res = await env.admin(shop.accessToken, PIXEL_CREATE, { settings: JSON.stringify({ shopKey: 'key-demo', endpoint: `${app.url}/pixel` }) });
  expect(res.body.data.webPixelCreate.userErrors).toEqual([]);
});

beforeEach(() => {
  app.received = [];
  shopify.setAssumptions({ cancelUrlForm: 'cn_cart_token', paymentInfoTiming: 'before_session', pixelOrigin: 'null', checkoutUrlLocale: null });
});

/** Two thermometers and a mug, a 2.00 discount code, 4.00 shipping, 10% tax. */
const cart = () => ({
  lines: [{ variantId: thermometer, quantity: 2 }, { variantId: mug, quantity: 1 }],
  discount: { code: 'SAVE2', amount: '2.00' },
  shipping: { price: '4.00' },
  tax: { rate: 0.1 },
});

function pixelBodies(): any[] {
  return app.all('/pixel').filter((r) => r.headers['content-type']).map((r) => r.body);
}

describe('checkout totals', () => {
  it('allocates the discount to lines, taxes the discounted lines, adds shipping', () => {
    const checkout = shopify.createCheckout(shop.domain, cart());
    // Lines 25.00 and 5.25; discount 2.00 split 25:5.25 → 1.65 and 0.35; tax 10% of 23.35 and 4.90.
    expect(checkout.lines.map((l) => [l.linePriceCents, l.discountCents, l.taxCents])).toEqual([
      [2500, 165, 234],
      [525, 35, 49],
    ]);
    expect(checkout).toMatchObject({ lineItemsSubtotalCents: 3025, totalDiscountsCents: 200, subtotalCents: 2825, totalTaxCents: 283, shippingCents: 400, totalCents: 3508 });
    expect(checkout.token).toMatch(/^[0-9a-f]{32}$/);
    expect(checkout.cartToken).toMatch(/^c1-[0-9a-f]{32}$/);
  });
});

describe('a checkout run', () => {
  it('publishes the pixel events, sends checkouts/* webhooks, then the payment session for the total', async () => {
    const run = await shopify.runCheckout(shop.domain, cart());
    expect(run.pixelLoaded).toBe(true);
    const paths = app.received.map((r) => (r.path === '/pixel' ? `pixel:${r.body.event.name}` : r.path));
    expect(paths).toEqual([
      'pixel:checkout_started',
      '/webhooks/shopify/checkouts/create',
      'pixel:checkout_contact_info_submitted',
      'pixel:checkout_address_info_submitted',
      'pixel:checkout_shipping_info_submitted',
      '/webhooks/shopify/checkouts/update',
      'pixel:payment_info_submitted',
      '/payments/sessions',
    ]);
    const session = app.last('/payments/sessions').body;
    expect(session.amount).toBe('35.08');
    expect(session.payment_method.data.cancel_url).toBe(`${shopify.url}/checkouts/cn/${run.checkout.cartToken}?auto_redirect=false&edge_redirect=true&skip_shop_pay=true`);
    expect(shopify.paymentSession(session.id)!.checkoutToken).toBe(run.checkout.token);

    const update = app.last('/webhooks/shopify/checkouts/update').body;
    expect(update).toMatchObject({
      id: run.checkout.id,
      token: run.checkout.token,
      cart_token: run.checkout.cartToken,
      currency: 'USD',
      subtotal_price: '28.25',
      total_tax: '2.83',
      total_discounts: '2.00',
      total_price: '35.08',
      shipping_lines: [{ price: '4.00', title: 'Standard' }],
      line_items: [
        { variant_id: thermometer, sku: 'THERMO-1', quantity: 2, price: '12.50', line_price: '25.00', title: 'Digital Thermometer', discount_allocations: [{ amount: '1.65' }] },
        { variant_id: mug, sku: 'MUG-B', quantity: 1, price: '5.25', line_price: '5.25', title: 'Coffee Mug', discount_allocations: [{ amount: '0.35' }] },
      ],
    });
    // At checkouts/create the buyer has not chosen shipping yet.
    expect(app.last('/webhooks/shopify/checkouts/create').body).toMatchObject({ shipping_lines: [], total_price: '31.08' });
  });

  it('the extension posts exactly the contract body, as text/plain with keepalive, no preflight, Origin null', async () => {
    const run = await shopify.runCheckout(shop.domain, cart());
    const posts = app.all('/pixel');
    expect(posts.every((p) => p.headers['content-type'] === 'text/plain' && p.headers.origin === 'null')).toBe(true);
    expect(app.received.some((r) => r.path === '/pixel' && !r.headers['content-type'])).toBe(false); // no OPTIONS
    const records = shopify.pixelRequests.filter((r) => r.checkoutToken === run.checkout.token);
    expect(records.every((r) => r.keepalive && r.preflight === null && r.credentials === null && r.status === 204 && !r.corsBlocked)).toBe(true);

    const body = pixelBodies().find((b) => b.event.name === 'payment_info_submitted');
    const event = run.pixelEvents.find((e) => e.name === 'payment_info_submitted')!;
    const [thermoLine, mugLine] = run.checkout.lines;
    const usd = (amount: number) => ({ amount, currencyCode: 'USD' });
    expect(body).toEqual({
      v: 1,
      shop: 'demo.myshopify.com',
      key: 'key-demo',
      event: {
        id: event.id,
        name: 'payment_info_submitted',
        seq: 5,
        timestamp: event.timestamp,
        location: run.checkout.checkoutUrl,
        checkout: {
          token: run.checkout.token,
          currencyCode: 'USD',
          totalPrice: usd(35.08),
          subtotalPrice: usd(28.25),
          totalTax: usd(2.83),
          shippingLine: { price: usd(4) },
          discountsAmount: usd(2),
          lineItems: [
            {
              id: thermoLine!.key,
              quantity: 2,
              title: 'Digital Thermometer',
              finalLinePrice: usd(23.35),
              variant: { id: String(thermometer), sku: 'THERMO-1', price: usd(12.5), product: { id: String(thermoLine!.productId), title: 'Digital Thermometer' } },
              discountAllocations: [{ amount: usd(1.65) }],
            },
            {
              id: mugLine!.key,
              quantity: 1,
              title: 'Coffee Mug',
              finalLinePrice: usd(4.9),
              variant: { id: String(mug), sku: 'MUG-B', price: usd(5.25), product: { id: String(mugLine!.productId), title: 'Coffee Mug' } },
              discountAllocations: [{ amount: usd(0.35) }],
            },
          ],
        },
      },
    });
    expect(event).toMatchObject({ type: 'standard', clientId: expect.any(String), id: expect.stringMatching(/^sh-/) });
    // Before the address and shipping steps the totals are partial, as on a real checkout.
    const started = pixelBodies().find((b) => b.event.name === 'checkout_started' && b.event.checkout.token === run.checkout.token);
    expect(started.event.checkout).toMatchObject({ shippingLine: null, totalTax: usd(0), totalPrice: usd(28.25) });
  });

  it('sends no pixel events for a shop whose app has not called webPixelCreate', async () => {
    const other = shopify.createShop('nopixel.myshopify.com', { scopes: COMMERCE_SCOPES });
    const variant = shopify.createProduct(other.domain, { title: 'Thing', variants: [{ price: 3 }] }).product.variants[0]!.id;
    const run = await shopify.runCheckout(other.domain, { lines: [{ variantId: variant }] });
    expect(run.pixelLoaded).toBe(false);
    expect(app.all('/pixel')).toEqual([]);
    expect(app.last('/payments/sessions').body.amount).toBe('3.00');
  });

  it('payment_info_submitted after the session request when the assumption says so; custom steps, skips and races', async () => {
    shopify.setAssumptions({ paymentInfoTiming: 'after_session' });
    await shopify.runCheckout(shop.domain, cart());
    const order = app.received.map((r) => (r.path === '/pixel' ? r.body.event.name : r.path)).slice(-2);
    expect(order).toEqual(['/payments/sessions', 'payment_info_submitted']);

    app.received = [];
    await shopify.runCheckout(shop.domain, { ...cart(), skip: ['pixel'] });
    expect(app.all('/pixel')).toEqual([]);
    expect(app.all('/webhooks/shopify/checkouts')).toHaveLength(2);

    app.received = [];
    const run = await shopify.runCheckout(shop.domain, {
      ...cart(),
      steps: [{ paymentSession: true, wait: false }, { webhook: 'checkouts/update', delayMs: 50 }],
    });
    expect(run.session!.status).toBe(200);
    expect(app.received.map((r) => r.path)).toEqual(['/payments/sessions', '/webhooks/shopify/checkouts/update']);
  });

  it('the Origin is the checkout origin under the other assumption; a response without CORS headers is hidden from the pixel', async () => {
    shopify.setAssumptions({ pixelOrigin: 'checkout_origin' });
    app.pixelAnswer = (_req, res) => res.status(200).json({ ok: true });
    try {
      const run = await shopify.runCheckout(shop.domain, { ...cart(), steps: [{ pixel: 'checkout_started' }] });
      expect(app.last('/pixel').headers.origin).toBe(new URL(shopify.url).origin);
      const record = shopify.pixelRequests.find((r) => r.checkoutToken === run.checkout.token)!;
      expect(record).toMatchObject({ status: 200, corsBlocked: true });
    } finally {
      app.pixelAnswer = (_req, res) => res.set('Access-Control-Allow-Origin', '*').status(204).end();
    }
  });

  it('loads whatever the visitor’s consent, since flex-cart-pixel declares no consent purpose', async () => {
    const run = await shopify.runCheckout(shop.domain, { ...cart(), consent: { analytics: false, marketing: false, preferences: false, saleOfData: false }, steps: [{ pixel: 'checkout_started' }] });
    expect(run.pixelLoaded).toBe(true);
  });
});

describe('cancel_url forms', () => {
  const cases: Array<[string, (c: CheckoutRecord, base: string, shopId: number) => string]> = [
    ['legacy', (c, base, shopId) => `${base}/${shopId}/checkouts/${c.token}`],
    ['cn_cart_token', (c, base) => `${base}/checkouts/cn/${c.cartToken}?auto_redirect=false&edge_redirect=true&skip_shop_pay=true`],
    ['cn_checkout_token', (c, base) => `${base}/checkouts/cn/${c.token}?auto_redirect=false&edge_redirect=true&skip_shop_pay=true`],
    ['cn_opaque', (c, base) => `${base}/checkouts/cn/${c.opaqueToken}?auto_redirect=false&edge_redirect=true&skip_shop_pay=true`],
  ];

  it.each(cases)('%s', async (form, expected) => {
    const run = await shopify.runCheckout(shop.domain, { ...cart(), cancelUrlForm: form as CheckoutRecord['cancelUrlForm'], steps: [{ pixel: 'checkout_started' }, { paymentSession: true }] });
    const cancelUrl = app.last('/payments/sessions').body.payment_method.data.cancel_url;
    expect(cancelUrl).toBe(expected(run.checkout, shopify.url, shopify.shop(shop.domain)!.shopId));
    // The pixel saw the same page: its location carries the same path token.
    expect(new URL(app.last('/pixel').body.event.location).pathname).toBe(new URL(cancelUrl).pathname);
    // And the URL leads the buyer back to the checkout.
    expect(await (await fetch(cancelUrl)).text()).toContain('Back at checkout');
  });

  it('takes the default form from the assumption, with a locale segment when set', async () => {
    shopify.setAssumptions({ cancelUrlForm: 'cn_checkout_token', checkoutUrlLocale: 'en-us' });
    const run = await shopify.runCheckout(shop.domain, { ...cart(), skip: ['pixel', 'webhooks'] });
    expect(app.last('/payments/sessions').body.payment_method.data.cancel_url).toMatch(new RegExp(`/checkouts/cn/${run.checkout.token}/en-us\\?`));
    expect(() => shopify.setAssumptions({ cancelUrlForm: 'nope' as never })).toThrow(/must be one of/);
  });

  it('a payment session without a cart keeps the old cancel_url', async () => {
    const sent = await shopify.sendPaymentSession(shop.domain, { amount: '3.00' });
    expect((sent.session.requestBody as any).payment_method.data.cancel_url).toBe(`${shopify.url}/checkouts/${encodeURIComponent(sent.session.group)}/cancel`);
    expect(sent.session.checkoutToken).toBeNull();
  });
});

describe('the human cart checkout', () => {
  it('lists the catalog and checks a cart out through the same sequence', async () => {
    const index = await (await fetch(`${shopify.url}/`)).text();
    expect(index).toContain('Check out a cart');
    expect(index).toContain(`name="qty_${thermometer}"`);
    const res = await fetch(`${shopify.url}/cart-checkout`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ shop: shop.domain, [`qty_${thermometer}`]: '1', [`qty_${mug}`]: '2', shipping: '0', tax_rate: '0', test: '1' }).toString(),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^https:\/\/flex\.example\/pay\//);
    expect(app.last('/payments/sessions').body).toMatchObject({ amount: '23.00', test: true });
    expect(app.all('/pixel').map((p) => p.body.event.name)).toContain('payment_info_submitted');
  });
});
