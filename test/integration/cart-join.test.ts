import { randomUUID } from 'node:crypto';
import { checkoutIdOf, payOnFlexPage, visit } from '../support/buyer';
import { eventually, useHarness, type Harness, type RegisteredShop } from '../support/harness';

/**
 * The join (issue 10.3–10.6): a Shopify checkout with a real cart reaches Flex with the buyer's
 * lines, at the synced prices, with shipping, tax and discounts, for exactly Shopify's amount; and
 * when the cart cannot be known, as the catch-all line with the reason. Over real HTTP: the Shopify
 * simulator's checkout (pixel, webhooks, session request), the app, the Flex sandbox.
 */
describe('the buyer’s cart reaches Flex', () => {
  const { h, shop } = useHarness({ tuning: { cartWaitMs: 3_000 } });

  type Line = { variantId: string; quantity?: number };
  const GTIN = { thermometer: '00036000291452', bandage: '00012345678905', sunglasses: '00098765432109' };

  let catalog: { thermometer: string; bandage: string; sunglasses: string };
  beforeAll(async () => {
    // Flex's verdicts (the sandbox's stand-in for the SIGIS list), then the products in Shopify.
    h.flex.setProductEligibility({ gtin: GTIN.thermometer }, 'auto_substantiation', 'On the SIGIS list');
    h.flex.setProductEligibility({ gtin: GTIN.bandage }, 'letter_of_medical_necessity', 'Dual use');
    h.flex.setProductEligibility({ gtin: GTIN.sunglasses }, 'not_eligible', 'Not a medical item');
    const make = (title: string, price: string, barcode: string) => String(h.shopify.createProduct(shop.domain, { title, variants: [{ price, barcode }] }).product.variants[0]!.id).split('/').pop()!;
    catalog = { thermometer: make('Digital Thermometer', '12.50', GTIN.thermometer), bandage: make('Compression Bandage', '8.25', GTIN.bandage), sunglasses: make('Sunglasses', '20.00', GTIN.sunglasses) };
    await synced(h, shop, Object.values(catalog));
    await eventually(async () => h.shopify.webPixel(shop.domain), 15_000, 'the cart pixel activated');
  });

  async function synced(harness: Harness, s: RegisteredShop, variantIds: string[]): Promise<void> {
    await eventually(
      async () => (await harness.prisma.catalogVariant.count({ where: { shop: { domain: s.domain }, mode: 'LIVE', shopifyVariantId: { in: variantIds }, flexPriceId: { not: null }, deletedAt: null } })) === variantIds.length,
      30_000,
      'the products synced to Flex',
    );
  }

  const paymentOf = (shopifyId: string) => h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId }, include: { cartLines: { orderBy: { position: 'asc' } }, events: true } });
  const flexLines = async (checkoutId: string) => {
    const res = await fetch(`${h.flex.url}/v1/checkout/sessions/${checkoutId}/line_items`, { headers: { Authorization: `Bearer ${shop.liveKey}` } });
    return ((await res.json()) as { line_items: Array<Record<string, any>> }).line_items;
  };

  /** A checkout on the simulator (pixel, webhooks, session request), then the buyer opens the pay page. */
  async function checkout(lines: Line[], extra: Record<string, unknown> = {}) {
    const run = await h.shopify.runCheckout(shop.domain, { lines: lines.map((l) => ({ variantId: l.variantId, quantity: l.quantity ?? 1 })), ...extra });
    const sent = run.session!;
    expect(sent.status).toBe(201);
    const toFlex = await visit((sent.body as { redirect_url: string }).redirect_url);
    expect(toFlex.status).toBe(303);
    const checkoutId = checkoutIdOf(toFlex.location!);
    return { run, sent, redirectUrl: toFlex.location!, checkoutId, flex: h.flex.checkoutSession(checkoutId) as Record<string, any>, amountMinor: run.checkout.totalCents };
  }

  it('an all-eligible cart: each line at its synced price, Flex’s total exactly Shopify’s amount, paid by HSA/FSA card', async () => {
    // The cart captured before the pay page is read with the page's claim of the payment, not on its own.
    const ownReads = jest.spyOn(h.components.repos.cartSnapshots, 'findByTokenWithCatalog');
    let ownReadCount: number;
    const { sent, redirectUrl, checkoutId, flex, amountMinor } = await checkout([{ variantId: catalog.thermometer, quantity: 2 }, { variantId: catalog.bandage }]).finally(() => {
      ownReadCount = ownReads.mock.calls.length;
      ownReads.mockRestore();
    });
    expect(ownReadCount!).toBe(0);
    expect(flex.amount_total).toBe(amountMinor);
    expect(flex.hsa_fsa_eligible).toBe(true);
    expect(flex.letter_of_medical_necessity_required).toBe(true);
    const lines = await flexLines(checkoutId);
    expect(lines.map((l) => [l.price.unit_amount, l.quantity, l.eligibility])).toEqual([
      [1250, 2, 'auto_substantiation'],
      [825, 1, 'letter_of_medical_necessity'],
    ]);
    const payment = await paymentOf(sent.session.id);
    expect(payment.cartSource).toBe('CART');
    expect(payment.cartLines.map((l) => [l.shopifyVariantId, l.quantity, Number(l.unitAmountMinor)])).toEqual([[catalog.thermometer, 2, 1250], [catalog.bandage, 1, 825]]);
    expect((await payOnFlexPage(redirectUrl, 'hsa_fsa')).status).toBe(303);
    expect((await h.shopify.waitForPaymentSession(sent.session.id, { timeoutMs: 15_000 })).status).toBe('resolved');
  });

  it('a mixed cart is split: the HSA/FSA card for the eligible line, a regular card for the rest', async () => {
    const { sent, redirectUrl, checkoutId, flex, amountMinor } = await checkout([{ variantId: catalog.thermometer }, { variantId: catalog.sunglasses }]);
    expect(flex.amount_total).toBe(amountMinor);
    expect((await flexLines(checkoutId)).map((l) => l.eligibility)).toEqual(['auto_substantiation', 'not_eligible']);
    expect((await payOnFlexPage(redirectUrl, 'split')).status).toBe(303);
    expect((await h.shopify.waitForPaymentSession(sent.session.id, { timeoutMs: 15_000 })).status).toBe('resolved');
    const intents = h.flex.paymentIntents({ checkoutSessionId: checkoutId }) as Array<Record<string, any>>;
    expect(intents).toHaveLength(2);
    expect(intents.reduce((sum, pi) => sum + pi.amount, 0)).toBe(amountMinor);
  });

  it('a non-eligible cart reaches Flex with its lines too', async () => {
    const { checkoutId, flex, amountMinor } = await checkout([{ variantId: catalog.sunglasses, quantity: 2 }]);
    expect(flex.amount_total).toBe(amountMinor);
    expect(flex.hsa_fsa_eligible).toBe(false);
    expect((await flexLines(checkoutId)).map((l) => [l.price.unit_amount, l.quantity])).toEqual([[2000, 2]]);
  });

  it('with a discount, shipping and tax, Flex’s total is still Shopify’s amount to the cent', async () => {
    const { sent, checkoutId, flex, amountMinor } = await checkout([{ variantId: catalog.thermometer, quantity: 3 }, { variantId: catalog.sunglasses }], {
      discount: { code: 'WELCOME', amount: '3.33' },
      shipping: { title: 'Ground', price: '4.99' },
      tax: { rate: 0.0825 },
    });
    expect(flex.amount_total).toBe(amountMinor);
    expect(flex.total_details).toMatchObject({ amount_shipping: 499, amount_discount: 333 });
    const lines = await flexLines(checkoutId);
    expect(lines.reduce((sum, l) => sum + l.amount_discount, 0)).toBe(333);
    const payment = await paymentOf(sent.session.id);
    expect(Number(payment.cartShippingMinor)).toBe(499);
    expect(Number(payment.cartDiscountMinor)).toBe(333);
  });

  it.each(['legacy', 'cn_cart_token', 'cn_checkout_token', 'cn_opaque'] as const)('finds the cart by the token in a %s cancel_url', async (form) => {
    const { sent, flex, amountMinor } = await checkout([{ variantId: catalog.bandage, quantity: 2 }], { cancelUrlForm: form });
    expect(flex.amount_total).toBe(amountMinor);
    expect((await paymentOf(sent.session.id)).cartSource).toBe('CART');
  });

  it('a payment stored without its checkout token (before the column was added) still gets its cart, found through cancel_url', async () => {
    const run = await h.shopify.runCheckout(shop.domain, { lines: [{ variantId: catalog.thermometer }, { variantId: catalog.sunglasses }] });
    const sent = run.session!;
    expect(sent.status).toBe(201);
    // Kept with the session (the pay page's claim reads the cart under it); as a row stored before this version, without it.
    const stored = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: sent.session.id } });
    expect(stored.checkoutToken).toEqual(expect.any(String));
    expect(stored.cancelUrl).toContain(stored.checkoutToken!);
    await h.prisma.paymentSession.update({ where: { id: stored.id }, data: { checkoutToken: null } });
    const ownReads = jest.spyOn(h.components.repos.cartSnapshots, 'findByTokenWithCatalog');
    let ownReadCount: number;
    const toFlex = await visit((sent.body as { redirect_url: string }).redirect_url).finally(() => {
      ownReadCount = ownReads.mock.calls.length;
      ownReads.mockRestore();
    });
    expect(ownReadCount!).toBe(1);
    expect(toFlex.status).toBe(303);
    const flex = h.flex.checkoutSession(checkoutIdOf(toFlex.location!)) as Record<string, any>;
    expect(flex.amount_total).toBe(run.checkout.totalCents);
    const payment = await paymentOf(sent.session.id);
    expect(payment.cartSource).toBe('CART');
    expect(payment.cartLines.map((l) => l.shopifyVariantId)).toEqual([catalog.thermometer, catalog.sunglasses]);
  });

  it('waits for a pixel that arrives after the session request', async () => {
    const run = await h.shopify.runCheckout(shop.domain, {
      lines: [{ variantId: catalog.thermometer }],
      cancelUrlForm: 'cn_opaque', // only the pixel knows this token
      skip: ['webhooks'],
      steps: [{ paymentSession: true }, { pixel: 'payment_info_submitted', delayMs: 1_000, wait: false }],
    });
    const toFlex = await visit((run.session!.body as { redirect_url: string }).redirect_url);
    expect(toFlex.status).toBe(303);
    const payment = await paymentOf(run.session!.session.id);
    expect(payment.cartSource).toBe('CART');
    expect(payment.events.find((e) => e.type === 'cart_joined')?.detail).toMatchObject({ snapshot: 'pixel' });
  });

  it('a forged pixel post cannot set prices: the catalog’s do, so its cart does not add up and Flex gets the catch-all line', async () => {
    const forged = h.shopify.createCheckout(shop.domain, { lines: [{ variantId: catalog.sunglasses, quantity: 1 }] });
    const key = (await h.prisma.shop.findUniqueOrThrow({ where: { domain: shop.domain } })).pixelKey!;
    // The buyer's browser claims the sunglasses are an eligible thermometer at 10.00.
    const post = {
      v: 1,
      shop: shop.domain,
      key,
      event: {
        id: `sh-${randomUUID()}`,
        name: 'payment_info_submitted',
        timestamp: new Date().toISOString(),
        location: forged.checkoutUrl,
        checkout: {
          token: forged.token,
          currencyCode: 'USD',
          totalPrice: { amount: 10, currencyCode: 'USD' },
          lineItems: [{ quantity: 1, title: 'Digital Thermometer', variant: { id: catalog.thermometer, price: { amount: 10, currencyCode: 'USD' }, product: { id: '1', title: 'x' } } }],
        },
      },
    };
    expect((await fetch(`${h.appUrl}/pixel/checkout`, { method: 'POST', body: JSON.stringify(post) })).status).toBe(204);
    const sent = await h.shopify.sendPaymentSession(shop.domain, { amount: '10.00', checkoutToken: forged.token });
    const toFlex = await visit((sent.body as { redirect_url: string }).redirect_url);
    expect(toFlex.status).toBe(303);
    const payment = await paymentOf(sent.session.id);
    expect(payment).toMatchObject({ cartSource: 'CATCH_ALL', cartFallbackReason: 'catalog_price_differs' });
    const lines = await flexLines(checkoutIdOf(toFlex.location!));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.eligibility).toBe('not_eligible');
  });

  it('when no cart was captured: the catch-all line, the reason on the timeline and counted on the settings page', async () => {
    const quiet = h.shopify.createCheckout(shop.domain, { lines: [{ variantId: catalog.thermometer }] });
    const sent = await h.shopify.sendPaymentSession(shop.domain, { amount: '12.50', checkoutToken: quiet.token });
    const toFlex = await visit((sent.body as { redirect_url: string }).redirect_url);
    expect(toFlex.status).toBe(303);
    const payment = await paymentOf(sent.session.id);
    expect(payment).toMatchObject({ cartSource: 'CATCH_ALL', cartFallbackReason: 'no_cart_captured' });
    expect(payment.events.find((e) => e.type === 'cart_fallback')?.detail).toMatchObject({ reason: 'no_cart_captured' });
    expect((h.flex.checkoutSession(checkoutIdOf(toFlex.location!)) as Record<string, any>).amount_total).toBe(1250);
    const view = await h.components.merchant.settingsView.execute(shop.domain as never);
    expect(view!.cart.fallbacks.find((f) => f.reason === 'no_cart_captured')?.count).toBeGreaterThanOrEqual(1);
    expect(view!.cart.withCart).toBeGreaterThan(0);
  });

  it('a product not synced to Flex yet: the catch-all line, with that reason', async () => {
    h.shopify.faults.dropWebhooks({ topic: 'products/create' });
    const fresh = String(h.shopify.createProduct(shop.domain, { title: 'New Nasal Spray', variants: [{ price: '6.00', barcode: '00011111111116' }] }).product.variants[0]!.id).split('/').pop()!;
    const { sent } = await checkout([{ variantId: fresh }]);
    expect(await paymentOf(sent.session.id)).toMatchObject({ cartSource: 'CATCH_ALL', cartFallbackReason: 'product_not_synced' });
  });

  it('the pay page opened five times at once makes one Flex checkout, with the cart', async () => {
    const run = await h.shopify.runCheckout(shop.domain, { lines: [{ variantId: catalog.thermometer }, { variantId: catalog.sunglasses }] });
    const payUrl = (run.session!.body as { redirect_url: string }).redirect_url;
    const answers = await Promise.all(Array.from({ length: 5 }, () => visit(payUrl)));
    expect(answers.every((a) => a.status === 303)).toBe(true);
    expect(new Set(answers.map((a) => a.location)).size).toBe(1);
    expect(h.flex.checkoutSessions({ clientReferenceId: run.session!.session.id })).toHaveLength(1);
    expect((await paymentOf(run.session!.session.id)).cartLines).toHaveLength(2);
  });
});
