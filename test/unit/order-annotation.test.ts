import { noteWithLine, orderAnnotation } from '../../src/orders/order-annotation';
import { describeDifference, orderDifferences, type OrderComparison } from '../../src/orders/order-differences';

const base: OrderComparison = {
  orderTotalMinor: 5000,
  otherPaymentsMinor: 0,
  shopifyAmountMinor: 5000,
  flexRequestedMinor: 5000,
  flexChargedMinor: 5000,
  expectedChargeMinor: 5000,
  catchAll: false,
  shopifyLines: [{ id: 'gid://shopify/LineItem/1', title: 'Thermometer', quantity: 1, variantId: null, sku: null, totalMinor: 5000 }],
  shopifyLinesComplete: true,
  flexLines: [],
  sentLines: [],
};

describe('order differences', () => {
  it('none when the order, the checkout and the charge agree', () => {
    expect(orderDifferences(base)).toEqual([]);
  });

  it('a gift card paying part of the order is not a difference', () => {
    expect(orderDifferences({ ...base, orderTotalMinor: 7000, otherPaymentsMinor: 2000 })).toEqual([]);
  });

  it('lists each difference, typed, and says it in words', () => {
    const found = orderDifferences({ ...base, orderTotalMinor: 5450, flexRequestedMinor: 5001, flexChargedMinor: 4000, catchAll: true });
    expect(found.map((d) => d.kind)).toEqual(['order_total', 'checkout_amount', 'flex_charged', 'catch_all_line']);
    expect(describeDifference(found[0]!, 'USD')).toBe("The order's total is 54.50 USD, but Flex was asked to charge 50.01 USD.");
    expect(describeDifference(found[3]!, 'USD')).toContain('instead of the order\'s 1 line');
  });

  it('asks the line comparison only when Flex was sent the cart’s lines', () => {
    const compare = jest.fn(() => [{ kind: 'line_quantity' as const, lineId: 'l1', title: 'Thermometer', shopifyQuantity: 1, flexQuantity: 2 }]);
    expect(orderDifferences({ ...base, catchAll: true }, compare).map((d) => d.kind)).toEqual(['catch_all_line']);
    expect(orderDifferences({ ...base, sentLines: null }, compare)).toEqual([]);
    expect(compare).not.toHaveBeenCalled();
    expect(orderDifferences(base, compare).map((d) => d.kind)).toEqual(['line_quantity']);
  });
});

describe('what is written on the order', () => {
  const facts = { orderGid: 'gid://shopify/Order/1', currency: 'USD', flexCheckoutSessionId: 'fcs_1', hsaFsaMinor: 3000, cardMinor: 2050, lmnRequired: true, lineEligibility: null };

  it('a split payment: both amounts, both tags, the letter, no per-line eligibility while unknown', () => {
    const a = orderAnnotation(facts);
    expect(a.tags).toEqual(['Flex HSA/FSA', 'Flex split']);
    expect(a.metafields.map((m) => [m.key, m.value])).toEqual([
      ['checkout_session_id', 'fcs_1'],
      ['hsa_fsa_amount', '{"amount":"30.00","currency_code":"USD"}'],
      ['card_amount', '{"amount":"20.50","currency_code":"USD"}'],
      ['lmn_required', 'true'],
    ]);
    expect(a.noteLine).toBe('Flex HSA/FSA: 30.00 USD on an HSA/FSA card and 20.50 USD on a regular card, Letter of Medical Necessity required (Flex checkout fcs_1).');
    expect(orderAnnotation(facts).digest).toBe(a.digest);
    expect(orderAnnotation({ ...facts, cardMinor: 2051 }).digest).not.toBe(a.digest);
  });

  it('a card-only payment is tagged as such', () => {
    expect(orderAnnotation({ ...facts, hsaFsaMinor: 0 }).tags).toEqual(['Flex card']);
  });

  it('the note keeps the merchant’s text exactly and gets our line once', () => {
    expect(noteWithLine(null, 'ours (Flex checkout fcs_1)', 'fcs_1')).toBe('ours (Flex checkout fcs_1)');
    expect(noteWithLine('Gift wrap  ', 'ours (Flex checkout fcs_1)', 'fcs_1')).toBe('Gift wrap  \nours (Flex checkout fcs_1)');
    expect(noteWithLine('Gift wrap\nours (Flex checkout fcs_1)', 'ours (Flex checkout fcs_1)', 'fcs_1')).toBeNull();
  });
});
