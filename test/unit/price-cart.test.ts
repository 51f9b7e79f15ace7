import type { CartSnapshotRecord } from '../../src/db/repositories/cart-snapshots';
import { priceCart, type CatalogPrice } from '../../src/cart/price-cart';
import { expectedAmountTotal, flexCheckoutBody } from '../../src/payments/payment/flex-checkout-body';
import type { PaymentSessionRecord } from '../../src/db/repositories/payment-sessions';

/** Re-pricing a captured cart from the synced catalog, and the Flex checkout it becomes. */
describe('priceCart', () => {
  const variant = (id: string, priceMinor: number, extra: Partial<CatalogPrice> = {}): CatalogPrice => ({
    shopifyVariantId: id,
    shopifyProductId: `p${id}`,
    title: `Product ${id}`,
    priceMinor,
    currency: 'USD',
    flexProductId: `fprod_${id}`,
    flexPriceId: `fprice_${id}`,
    eligibility: 'auto_substantiation',
    ...extra,
  });
  const catalog = new Map([
    ['1', variant('1', 1250)],
    ['2', variant('2', 2000, { eligibility: 'not_eligible' })],
  ]);
  const snapshot = (overrides: Partial<CartSnapshotRecord> = {}): CartSnapshotRecord =>
    ({
      id: 's1',
      shopId: 'shop',
      source: 'WEBHOOK',
      checkoutToken: 't',
      cartToken: null,
      urlToken: null,
      currency: 'USD',
      lines: [
        { variantId: '1', productId: 'p1', title: 'A', quantity: 2, discountMinor: 0 },
        { variantId: '2', productId: 'p2', title: 'B', quantity: 1, discountMinor: 0 },
      ],
      totalMinor: 4500,
      subtotalMinor: 4500,
      taxMinor: 0,
      shippingMinor: 0,
      discountMinor: 0,
      observedAt: new Date(),
      receivedAt: new Date(),
      expiresAt: new Date(),
      ...overrides,
    }) as CartSnapshotRecord;
  const payment = (amountMinor: number) => ({ amountMinor, currency: 'USD' });
  const record = { id: 'pay', shopifyId: 'sid', gid: 'gid', groupId: 'g', kind: 'SALE', customer: null, amountMinor: 0 } as unknown as PaymentSessionRecord;

  function flexTotal(amountMinor: number, cart: ReturnType<typeof priceCart>) {
    if (!cart.ok) throw new Error(cart.detail);
    const content = {
      kind: 'cart' as const,
      lines: cart.cart.lines,
      shippingMinor: cart.cart.shippingMinor,
      taxMinor: cart.cart.taxMinor,
      discountMinor: cart.cart.lines.reduce((s, l) => s + l.discountMinor, 0) + cart.cart.orderDiscountMinor,
      adjustmentMinor: cart.cart.adjustmentMinor,
    };
    const body = flexCheckoutBody({ ...record, amountMinor } as PaymentSessionRecord, 'shop.myshopify.com', 'https://app', content);
    // What Flex computes: lines, less the coupons, plus shipping, tax and fees.
    const lines = body.line_items.reduce((s, l) => s + (l.price === 'fprice_1' ? 1250 : 2000) * l.quantity, 0);
    const coupons = (body.discounts ?? []).reduce((s, d) => s + d.coupon_data.amount_off, 0);
    const fees = (body.fees ?? []).reduce((s, f) => s + f.amount, 0);
    expect(expectedAmountTotal(content, amountMinor)).toBe(amountMinor);
    return { body, total: lines - coupons + (body.shipping_options?.shipping_rate_data.amount ?? 0) + (body.tax_rate?.amount ?? 0) + fees };
  }

  it('prices every line from the catalog and adds up to the amount exactly', () => {
    const priced = priceCart(snapshot(), payment(4500), catalog);
    expect(priced.ok && priced.cart.lines.map((l) => [l.flexPriceId, l.quantity, l.unitAmountMinor])).toEqual([['fprice_1', 2, 1250], ['fprice_2', 1, 2000]]);
    expect(flexTotal(4500, priced).total).toBe(4500);
  });

  it('puts line discounts on their lines, the rest of the discount on the order, and keeps shipping and tax', () => {
    const lines = [
      { variantId: '1', productId: 'p1', title: 'A', quantity: 2, discountMinor: 165 },
      { variantId: '2', productId: 'p2', title: 'B', quantity: 1, discountMinor: 0 },
    ];
    const priced = priceCart(snapshot({ lines, discountMinor: 265, shippingMinor: 400, taxMinor: 283, totalMinor: 4500 - 265 + 400 + 283 }), payment(4918), catalog);
    const { body, total } = flexTotal(4918, priced);
    expect(total).toBe(4918);
    expect(body.discounts).toEqual([
      { coupon_data: { name: 'Discount on Product 1', amount_off: 165, applies_to: { prices: ['fprice_1'] } } },
      { coupon_data: { name: 'Order discount', amount_off: 100 } },
    ]);
    expect(body.shipping_options).toEqual({ shipping_rate_data: { display_name: 'Shipping', amount: 400 } });
    expect(body.tax_rate).toEqual({ amount: 283 });
  });

  it('merges lines of the same variant', () => {
    const lines = [
      { variantId: '1', productId: 'p1', title: 'A', quantity: 1, discountMinor: 0 },
      { variantId: '1', productId: 'p1', title: 'A', quantity: 1, discountMinor: 0 },
      { variantId: '2', productId: 'p2', title: 'B', quantity: 1, discountMinor: 0 },
    ];
    const priced = priceCart(snapshot({ lines }), payment(4500), catalog);
    expect(priced.ok && priced.cart.lines.map((l) => l.quantity)).toEqual([2, 1]);
  });

  it('closes a rounding difference of a cent or two with a fee or a coupon, so Flex charges the amount exactly', () => {
    const up = priceCart(snapshot({ totalMinor: 4502 }), payment(4502), catalog);
    expect(up.ok && up.cart.adjustmentMinor).toBe(2);
    const upBody = flexTotal(4502, up);
    expect(upBody.total).toBe(4502);
    expect(upBody.body.fees).toEqual([expect.objectContaining({ amount: 2, name: 'Rounding adjustment' })]);
    const down = priceCart(snapshot({ totalMinor: 4499 }), payment(4499), catalog);
    expect(down.ok && down.cart.adjustmentMinor).toBe(-1);
    expect(flexTotal(4499, down).total).toBe(4499);
  });

  it.each([
    ['the cart total is not the amount', { totalMinor: 4600 }, 4500, 'cart_total_differs'],
    ['prices that the catalog does not confirm (a forged pixel post)', { totalMinor: 3000 }, 3000, 'catalog_price_differs'],
    ['another currency', { currency: 'EUR' }, 4500, 'currency_differs'],
    ['a product not synced', { lines: [{ variantId: '9', productId: null, title: 'C', quantity: 1, discountMinor: 0 }], totalMinor: 4500 }, 4500, 'product_not_synced'],
    ['a line without a variant', { lines: [{ variantId: null, productId: null, title: 'Custom', quantity: 1, discountMinor: 0 }] }, 4500, 'line_without_product'],
    ['no lines', { lines: [] }, 4500, 'line_without_product'],
  ] as const)('refuses %s', (_case, overrides, amount, reason) => {
    const priced = priceCart(snapshot(overrides as Partial<CartSnapshotRecord>), payment(amount), catalog);
    expect(priced).toMatchObject({ ok: false, reason });
  });
});
