// Mismatches at line level (issue 11.3, README "Orders"): once the buyer's cart reaches Flex line by
// line, the Shopify order is compared with it line by line. A cart that changed after the app captured
// it (same total, other lines) is flagged with what differs, on the order's row and on the settings
// page; a cart that did not change is not. Over real HTTP: the Shopify simulator's checkout (pixel,
// webhooks, session request, order webhooks), the app, the Flex sandbox.
import type { CheckoutStep } from '../../sandbox/shopify';
import { checkoutIdOf, payOnFlexPage, visit } from '../support/buyer';
import { eventually, useHarness } from '../support/harness';
import { MerchantBrowser } from '../support/merchant';

const { h, shop } = useHarness({ orderWebhooks: true, tuning: { cartWaitMs: 3_000, orderPollIntervalMs: 100 } });

const GTIN = { thermometer: '00036000291452', icePack: '00012345678905', heatingPad: '00098765432109' };
let catalog: { thermometer: string; icePack: string; heatingPad: string };

beforeAll(async () => {
  // A Standard plan's Admin API rate (100 points/s; README "Catalog sync"): each order is read once
  // per order webhook at about 415 points, which the simulator's older 50 points/s default makes a
  // queue of tens of seconds in a file that links several orders.
  h.shopify.setAdminThrottle(shop.domain, { maximumAvailable: 2000, restoreRate: 100, currentlyAvailable: 2000 });
  h.flex.setProductEligibility({ gtin: GTIN.thermometer }, 'auto_substantiation', 'On the SIGIS list');
  h.flex.setProductEligibility({ gtin: GTIN.icePack }, 'auto_substantiation', 'On the SIGIS list');
  h.flex.setProductEligibility({ gtin: GTIN.heatingPad }, 'auto_substantiation', 'On the SIGIS list');
  const make = (title: string, price: string, barcode: string) => String(h.shopify.createProduct(shop.domain, { title, variants: [{ price, barcode }] }).product.variants[0]!.id).split('/').pop()!;
  // The ice pack and the heating pad cost the same: swapping one for the other keeps the cart's total.
  catalog = { thermometer: make('Digital Thermometer', '12.50', GTIN.thermometer), icePack: make('Ice Pack', '9.75', GTIN.icePack), heatingPad: make('Heating Pad', '9.75', GTIN.heatingPad) };
  await eventually(
    async () => (await h.prisma.catalogVariant.count({ where: { shop: { domain: shop.domain }, mode: 'LIVE', shopifyVariantId: { in: Object.values(catalog) }, flexPriceId: { not: null }, deletedAt: null } })) === 3,
    30_000,
    'the products synced to Flex',
  );
  await eventually(async () => h.shopify.webPixel(shop.domain), 15_000, 'the cart pixel activated');
});

type Lines = Array<{ variantId: string; quantity: number }>;
const CAPTURED: CheckoutStep[] = [
  { pixel: 'checkout_started' },
  { webhook: 'checkouts/create' },
  { pixel: 'checkout_shipping_info_submitted' },
  { webhook: 'checkouts/update' },
];

/** A checkout the app captures, optionally changed before the buyer pays; paid on Flex; its order linked. */
async function paidOrder(lines: Lines, options: { changedTo?: Lines; extra?: Record<string, unknown> } = {}) {
  const steps: CheckoutStep[] = [...CAPTURED, ...(options.changedTo ? [{ changeCart: { lines: options.changedTo } }] : []), { paymentSession: true }];
  const run = await h.shopify.runCheckout(shop.domain, { lines, steps, ...options.extra });
  const sent = run.session!;
  expect(sent.status).toBe(201);
  const toFlex = await visit((sent.body as { redirect_url: string }).redirect_url);
  expect(toFlex.status).toBe(303);
  expect((await payOnFlexPage(toFlex.location!, 'hsa_fsa')).status).toBe(303);
  const order = await h.shopify.waitForOrder(sent.session.id);
  const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: sent.session.id }, include: { cartLines: { orderBy: { position: 'asc' } } } });
  const link = await eventually(() => h.prisma.shopifyOrder.findFirst({ where: { paymentSessionId: payment.id, annotatedAt: { not: null } } }), 60_000, 'the order linked');
  return { run, order, payment, link, checkoutId: checkoutIdOf(toFlex.location!) };
}

async function settingsRow(orderName: string): Promise<string> {
  const browser = new MerchantBrowser(h.appUrl);
  expect((await browser.get(h.shopify.installUrl(shop.domain))).status).toBe(303);
  const page = (await browser.get(`${h.appUrl}/settings`)).body;
  const at = page.indexOf(`data-order="${orderName}"`);
  if (at < 0) return '';
  const row = page.slice(at);
  return row.slice(0, row.indexOf('</tr>'));
}

describe('the order compared with Flex line by line', () => {
  it('a cart that did not change: with a discount allocated to its lines, shipping and tax, nothing differs', async () => {
    const { order, payment, link } = await paidOrder([{ variantId: catalog.thermometer, quantity: 2 }, { variantId: catalog.icePack, quantity: 1 }], {
      extra: { discount: { code: 'WELCOME', amount: '3.33' }, shipping: { price: '4.99' }, tax: { rate: 0.0825 } },
    });
    expect(payment.cartSource).toBe('CART');
    expect(payment.cartLines.reduce((sum, l) => sum + Number(l.discountMinor), 0)).toBe(333);
    expect(link.differences).toEqual([]);
    expect(link.flaggedAt).toBeNull();
    expect(await settingsRow(order.name)).not.toContain('Flex was asked to charge');
  });

  it('a cart that changed after the app captured it: flagged with each line that differs, on the order and the settings page', async () => {
    const captured = [{ variantId: catalog.thermometer, quantity: 1 }, { variantId: catalog.icePack, quantity: 2 }];
    const paidFor = [{ variantId: catalog.thermometer, quantity: 1 }, { variantId: catalog.icePack, quantity: 1 }, { variantId: catalog.heatingPad, quantity: 1 }];
    const { run, order, payment, link, checkoutId } = await paidOrder(captured, { changedTo: paidFor });

    // The premise: Flex was sent the captured cart (its total is the one paid), Shopify's order has the new one.
    expect(payment.cartSource).toBe('CART');
    expect(payment.cartLines.map((l) => [l.shopifyVariantId, l.quantity])).toEqual([[catalog.thermometer, 1], [catalog.icePack, 2]]);
    expect(h.flex.checkoutSession(checkoutId)).toMatchObject({ amount_total: run.checkout.totalCents });
    expect(order.lines.map((l) => [String(l.variantId), l.quantity])).toEqual([[catalog.thermometer, 1], [catalog.icePack, 1], [catalog.heatingPad, 1]]);

    const lineGid = (variant: string) => `gid://shopify/LineItem/${order.lines.find((l) => String(l.variantId) === variant)!.id}`;
    expect(link.differences).toEqual([
      { kind: 'line_quantity', lineId: lineGid(catalog.icePack), title: 'Ice Pack', shopifyQuantity: 1, flexQuantity: 2 },
      { kind: 'line_missing_in_flex', lineId: lineGid(catalog.heatingPad), title: 'Heating Pad', quantity: 1 },
    ]);
    expect(link.flaggedAt).not.toBeNull();
    expect((await h.timelineOf(payment.id)).map((e) => e.type)).toContain('order_mismatch_flagged');
    const row = await settingsRow(order.name);
    expect(row).toContain('Ice Pack: 1 in the order, but Flex was asked to charge for 2.');
    expect(row).toContain('1 × Heating Pad is in the order, but Flex was not asked to charge for it.');
  });

  it('a line Flex charged that the order does not have', async () => {
    const captured = [{ variantId: catalog.thermometer, quantity: 1 }, { variantId: catalog.icePack, quantity: 1 }];
    const paidFor = [{ variantId: catalog.thermometer, quantity: 1 }, { variantId: catalog.heatingPad, quantity: 1 }];
    const { order, payment, link, checkoutId } = await paidOrder(captured, { changedTo: paidFor });
    expect(payment.cartSource).toBe('CART');
    const flexLineId = await flexLineItemIdOf(checkoutId, 'Ice Pack');
    const heatingPad = order.lines.find((l) => String(l.variantId) === catalog.heatingPad)!;
    expect(link.differences).toEqual([
      { kind: 'line_missing_in_flex', lineId: `gid://shopify/LineItem/${heatingPad.id}`, title: 'Heating Pad', quantity: 1 },
      { kind: 'line_not_in_order', flexLineId, description: 'Ice Pack', quantity: 1 },
    ]);
    expect(await settingsRow(order.name)).toContain('Flex was asked to charge for 1 × Ice Pack, which is not in the order.');
  });
});

async function flexLineItemIdOf(checkoutId: string, description: string): Promise<string> {
  const res = await fetch(`${h.flex.url}/v1/checkout/sessions/${checkoutId}/line_items`, { headers: { Authorization: `Bearer ${shop.liveKey}` } });
  const lines = ((await res.json()) as { line_items: Array<{ line_item_id: string; description: string }> }).line_items;
  return lines.find((l) => l.description === description)!.line_item_id;
}
