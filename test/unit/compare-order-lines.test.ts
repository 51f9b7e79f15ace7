import { compareOrderLines } from '../../src/orders/compare-order-lines';
import { describeDifference, orderDifferences, type FlexOrderLine, type LineComparisonInput, type SentCartLine, type ShopifyOrderLine } from '../../src/orders/order-differences';

// Two synced variants as the app sent them to Flex (PaymentCartLine), Flex's line items for them (its
// amount_total carries tax and coupon shares, on purpose not what the order line holds), and the order.
const sent: SentCartLine[] = [
  { shopifyVariantId: '101', title: 'Digital Thermometer', quantity: 2, unitAmountMinor: 1250, discountMinor: 150, flexPriceId: 'fprice_thermo', flexProductId: 'fprod_thermo' },
  { shopifyVariantId: '102', title: 'Compression Bandage', quantity: 1, unitAmountMinor: 825, discountMinor: 0, flexPriceId: 'fprice_bandage', flexProductId: 'fprod_bandage' },
];
const flex: FlexOrderLine[] = [
  { id: 'li_1', description: 'Digital Thermometer', quantity: 2, totalMinor: 2519, priceId: 'fprice_thermo', productId: 'fprod_thermo', eligibility: 'auto_substantiation' },
  { id: 'li_2', description: 'Compression Bandage', quantity: 1, totalMinor: 893, priceId: 'fprice_bandage', productId: 'fprod_bandage', eligibility: 'letter_of_medical_necessity' },
];
const line = (n: number, variant: string | null, title: string, quantity: number, totalMinor: number): ShopifyOrderLine => ({
  id: `gid://shopify/LineItem/${n}`,
  title,
  quantity,
  variantId: variant === null ? null : `gid://shopify/ProductVariant/${variant}`,
  sku: null,
  totalMinor,
});
const order: ShopifyOrderLine[] = [line(1, '101', 'Digital Thermometer', 2, 2350), line(2, '102', 'Compression Bandage', 1, 825)];
const compare = (over: Partial<LineComparisonInput> = {}) => compareOrderLines({ shopifyLines: order, shopifyLinesComplete: true, flexLines: flex, sentLines: sent, ...over });

describe('comparing the order’s lines with those Flex was asked to charge', () => {
  it('finds nothing when they agree: by variant, after discounts, whatever Flex’s line totals carry of tax and cart coupons', () => {
    expect(compare()).toEqual([]);
  });

  it('takes the order’s lines of one variant together, as they went to Flex as one line', () => {
    const split = [line(1, '101', 'Digital Thermometer', 1, 1175), line(3, '101', 'Digital Thermometer', 1, 1175), line(2, '102', 'Compression Bandage', 1, 825)];
    expect(compare({ shopifyLines: split })).toEqual([]);
  });

  it('a variant swapped after the cart was captured: the order’s line was never at Flex, Flex’s is not in the order', () => {
    const swapped = [line(1, '101', 'Digital Thermometer', 2, 2350), line(4, '103', 'Sunglasses', 1, 825)];
    expect(compare({ shopifyLines: swapped })).toEqual([
      { kind: 'line_missing_in_flex', lineId: 'gid://shopify/LineItem/4', title: 'Sunglasses', quantity: 1 },
      { kind: 'line_not_in_order', flexLineId: 'li_2', description: 'Compression Bandage', quantity: 1 },
    ]);
  });

  it('a quantity that differs is said once, not again as an amount', () => {
    const more = [line(1, '101', 'Digital Thermometer', 3, 3600), line(2, '102', 'Compression Bandage', 1, 825)];
    expect(compare({ shopifyLines: more })).toEqual([{ kind: 'line_quantity', lineId: 'gid://shopify/LineItem/1', title: 'Digital Thermometer', shopifyQuantity: 3, flexQuantity: 2 }]);
  });

  it('an amount that differs by a cent is a difference: unit × quantity less the line’s discount against the order line after its discounts', () => {
    const cheaper = [line(1, '101', 'Digital Thermometer', 2, 2349), line(2, '102', 'Compression Bandage', 1, 825)];
    expect(compare({ shopifyLines: cheaper })).toEqual([{ kind: 'line_amount', lineId: 'gid://shopify/LineItem/1', title: 'Digital Thermometer', shopifyMinor: 2349, flexMinor: 2350 }]);
  });

  it('a custom item (no variant) was never at Flex', () => {
    const withCustom = [...order, line(5, null, 'Gift wrap', 1, 450)];
    expect(compare({ shopifyLines: withCustom })).toEqual([{ kind: 'line_missing_in_flex', lineId: 'gid://shopify/LineItem/5', title: 'Gift wrap', quantity: 1 }]);
  });

  it('goes by what Flex has: a sent line Flex does not list, a Flex line of a price the app never sent', () => {
    const stranger: FlexOrderLine = { id: 'li_9', description: 'Something else', quantity: 1, totalMinor: 500, priceId: 'fprice_other', productId: 'fprod_other', eligibility: null };
    expect(compare({ flexLines: [flex[0]!, stranger] })).toEqual([
      { kind: 'line_missing_in_flex', lineId: 'gid://shopify/LineItem/2', title: 'Compression Bandage', quantity: 1 },
      { kind: 'line_not_in_order', flexLineId: 'li_9', description: 'Something else', quantity: 1 },
    ]);
  });

  it('places a Flex line by its product when Flex does not name the price', () => {
    expect(compare({ flexLines: flex.map((l) => ({ ...l, priceId: null })) })).toEqual([]);
  });

  it('says no Flex line is missing from the order while some of the order’s lines were not read', () => {
    expect(compare({ shopifyLines: [order[0]!], shopifyLinesComplete: false })).toEqual([]);
    expect(compare({ shopifyLines: [order[0]!] })).toEqual([{ kind: 'line_not_in_order', flexLineId: 'li_2', description: 'Compression Bandage', quantity: 1 }]);
  });

  it('is what orderDifferences asks, with the order-level differences, only for a cart sent line by line', () => {
    const base = {
      orderTotalMinor: 3175,
      otherPaymentsMinor: 0,
      shopifyAmountMinor: 3175,
      flexRequestedMinor: 3175,
      flexChargedMinor: 3175,
      expectedChargeMinor: 3175,
      catchAll: false,
      shopifyLines: [line(1, '101', 'Digital Thermometer', 1, 1100), line(2, '102', 'Compression Bandage', 1, 825)],
      shopifyLinesComplete: true,
      flexLines: flex,
    };
    expect(orderDifferences({ ...base, sentLines: sent }, compareOrderLines).map((d) => d.kind)).toEqual(['line_quantity']);
    expect(orderDifferences({ ...base, sentLines: null }, compareOrderLines)).toEqual([]);
  });

  it('says each in one sentence for the merchant', () => {
    expect(describeDifference({ kind: 'line_missing_in_flex', lineId: 'l', title: 'Sunglasses', quantity: 1 }, 'USD')).toBe('1 × Sunglasses is in the order, but Flex was not asked to charge for it.');
    expect(describeDifference({ kind: 'line_not_in_order', flexLineId: 'li', description: 'Compression Bandage', quantity: 2 }, 'USD')).toBe(
      'Flex was asked to charge for 2 × Compression Bandage, which is not in the order.',
    );
    expect(describeDifference({ kind: 'line_quantity', lineId: 'l', title: 'Digital Thermometer', shopifyQuantity: 3, flexQuantity: 2 }, 'USD')).toBe(
      'Digital Thermometer: 3 in the order, but Flex was asked to charge for 2.',
    );
    expect(describeDifference({ kind: 'line_amount', lineId: 'l', title: 'Digital Thermometer', shopifyMinor: 2349, flexMinor: 2350 }, 'USD')).toBe(
      'Digital Thermometer: 23.49 USD in the order after discounts, but Flex was asked to charge 23.50 USD for it.',
    );
  });
});
