import type { StoredPaymentCart } from '../../src/db/repositories/payment-carts';
import { breakDownRefund, lineRefundLimits, spreadRoundRobin } from '../../src/payments/refund/refund-lines';

/** Refunds by line: the amount spread over the refunded lines, cents round-robin, never more than a line has left. */
describe('refunds by line', () => {
  const cart: Extract<StoredPaymentCart, { source: 'CART' }> = {
    source: 'CART',
    snapshotId: null,
    lines: [
      { shopifyVariantId: '1', shopifyProductId: 'p1', title: 'Thermometer', quantity: 3, unitAmountMinor: 1000, discountMinor: 0, flexProductId: 'fp1', flexPriceId: 'fprice_1', eligibility: 'auto_substantiation' },
      { shopifyVariantId: '2', shopifyProductId: 'p2', title: 'Sunglasses', quantity: 1, unitAmountMinor: 2000, discountMinor: 200, flexProductId: 'fp2', flexPriceId: 'fprice_2', eligibility: 'not_eligible' },
    ],
    shippingMinor: 500,
    taxMinor: 480,
    discountMinor: 200,
    adjustmentMinor: 0,
  };
  const refund = (amountMinor: number) => ({ amountMinor, currency: 'USD' });

  it('spreads leftover cents round-robin from the first line, never all on one', () => {
    expect(spreadRoundRobin(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(spreadRoundRobin(101, [1, 1, 1])).toEqual([34, 34, 33]);
    expect(spreadRoundRobin(5, [1, 1, 1, 1, 1, 1, 1])).toEqual([1, 1, 1, 1, 1, 0, 0]);
    expect(spreadRoundRobin(1000, [3, 1])).toEqual([750, 250]);
    expect(spreadRoundRobin(7, [0, 0])).toEqual([4, 3]);
  });

  it('limits each line to its price less its discount plus its share of the tax', () => {
    // Nets 3000 and 1800: the tax (480) splits 300 / 180.
    expect([...lineRefundLimits(cart)]).toEqual([['fprice_1', 3300], ['fprice_2', 1980]]);
  });

  it('gives each refunded line its part of the amount, and shipping on its own', () => {
    const decision = breakDownRefund(refund(2701), { lines: [{ variantId: '1', quantity: 2, subtotalMinor: 2000, taxMinor: 200 }], shippingMinor: 500 }, cart, new Map());
    expect(decision).toEqual({ kind: 'by_line', breakdown: { lines: [{ flexPriceId: 'fprice_1', shopifyVariantId: '1', amountMinor: 2201 }], shippingMinor: 500 } });
    const two = breakDownRefund(
      refund(1001),
      { lines: [{ variantId: '1', quantity: 1, subtotalMinor: 1000, taxMinor: 0 }, { variantId: '2', quantity: 1, subtotalMinor: 1000, taxMinor: 0 }], shippingMinor: 0 },
      cart,
      new Map(),
    );
    expect(two.kind === 'by_line' && two.breakdown.lines.map((l) => l.amountMinor)).toEqual([501, 500]);
  });

  it('refuses more than a line has left once earlier refunds took from it', () => {
    const decision = breakDownRefund(refund(2000), { lines: [{ variantId: '2', quantity: 1, subtotalMinor: 1800, taxMinor: 180 }], shippingMinor: 0 }, cart, new Map([['fprice_2', 1000]]));
    expect(decision).toMatchObject({ kind: 'refuse' });
    expect(decision.kind === 'refuse' && decision.message).toMatch(/Sunglasses.*9\.80 USD left/);
  });

  it('goes by amount when a refunded line is not one Flex was sent, or only shipping is refunded', () => {
    expect(breakDownRefund(refund(500), { lines: [{ variantId: '9', quantity: 1, subtotalMinor: 500, taxMinor: 0 }], shippingMinor: 0 }, cart, new Map())).toEqual({ kind: 'by_amount', reason: 'refund_lines_not_in_flex_checkout' });
    expect(breakDownRefund(refund(500), { lines: [], shippingMinor: 500 }, cart, new Map())).toEqual({ kind: 'by_amount', reason: 'refund_gives_back_no_line' });
  });
});
