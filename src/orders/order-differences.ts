import { formatMoney } from '../lib/money';

/**
 * How a Shopify order differs from what Flex was asked to charge and charged: a list of typed
 * differences, stored on the order's row (`ShopifyOrder.differences`) and shown on the settings page.
 * An empty list means nothing differs. The order-level kinds are here; the line-level kinds (a line
 * Flex did not see, a quantity or an amount that differs, once Flex's checkout carries the buyer's
 * real lines) join this union and come from a `LineComparison` (see `orderDifferences`).
 */
export type OrderDifference =
  /** The order asks for more or less than Flex was asked to charge (and other payments do not explain it). */
  | { kind: 'order_total'; orderTotalMinor: number; otherPaymentsMinor: number; flexRequestedMinor: number }
  /** Shopify's payment session and the Flex checkout made for it are for different amounts. */
  | { kind: 'checkout_amount'; shopifyAmountMinor: number; flexRequestedMinor: number }
  /** Flex took (or holds) another amount than it was asked to and Shopify expects. */
  | { kind: 'flex_charged'; expectedMinor: number; flexChargedMinor: number }
  /** Flex was sent one catch-all line for the whole amount, not the order's lines. */
  | { kind: 'catch_all_line'; shopifyLineCount: number }
  | LineDifference;

/**
 * Line-level differences. None are produced yet: until the Flex checkout carries the buyer's real
 * lines (issue 10), every payment reaches Flex as the catch-all line and there is nothing to compare
 * line by line. Each is a difference of one Shopify line (by its gid) against Flex's lines.
 */
export type LineDifference =
  | { kind: 'line_missing_in_flex'; lineId: string; title: string; quantity: number }
  | { kind: 'line_not_in_order'; flexLineId: string; description: string; quantity: number }
  | { kind: 'line_quantity'; lineId: string; title: string; shopifyQuantity: number; flexQuantity: number }
  | { kind: 'line_amount'; lineId: string; title: string; shopifyMinor: number; flexMinor: number };

/** A line of the Shopify order, as stored on the order's row for comparing. */
export interface ShopifyOrderLine {
  id: string;
  title: string;
  quantity: number;
  variantId: string | null;
  sku: string | null;
  totalMinor: number;
}

/** A line Flex was asked to charge (`GET /v1/checkout/sessions/{id}/line_items`). */
export interface FlexOrderLine {
  id: string | null;
  description: string;
  quantity: number;
  totalMinor: number | null;
  productId: string | null;
  eligibility: string | null;
}

/** Compares Shopify's lines with Flex's: the hook for line-level mismatches. */
export type LineComparison = (shopify: ShopifyOrderLine[], flex: FlexOrderLine[]) => LineDifference[];

/** Until Flex sees real lines there is nothing to compare line by line. */
export const NO_LINE_COMPARISON: LineComparison = () => [];

export interface OrderComparison {
  orderTotalMinor: number;
  /** What the order's other successful payments (gift cards, other gateways) brought in. */
  otherPaymentsMinor: number;
  /** The Shopify payment session's amount. */
  shopifyAmountMinor: number;
  /** The Flex checkout session's amount_total; null when Flex did not say. */
  flexRequestedMinor: number | null;
  /** What Flex took or holds on every card. */
  flexChargedMinor: number;
  /** What Flex should have by now: a sale's amount, an authorization's hold or what was captured of it. */
  expectedChargeMinor: number;
  /** Flex saw only the catch-all line (the cart could not be sent). */
  catchAll: boolean;
  shopifyLines: ShopifyOrderLine[];
  flexLines: FlexOrderLine[];
}

export function orderDifferences(input: OrderComparison, compareLines: LineComparison = NO_LINE_COMPARISON): OrderDifference[] {
  const found: OrderDifference[] = [];
  const requested = input.flexRequestedMinor ?? input.shopifyAmountMinor;
  if (input.orderTotalMinor - input.otherPaymentsMinor !== requested) {
    found.push({ kind: 'order_total', orderTotalMinor: input.orderTotalMinor, otherPaymentsMinor: input.otherPaymentsMinor, flexRequestedMinor: requested });
  }
  if (input.flexRequestedMinor !== null && input.flexRequestedMinor !== input.shopifyAmountMinor) {
    found.push({ kind: 'checkout_amount', shopifyAmountMinor: input.shopifyAmountMinor, flexRequestedMinor: input.flexRequestedMinor });
  }
  if (input.flexChargedMinor !== input.expectedChargeMinor) {
    found.push({ kind: 'flex_charged', expectedMinor: input.expectedChargeMinor, flexChargedMinor: input.flexChargedMinor });
  }
  if (input.catchAll) found.push({ kind: 'catch_all_line', shopifyLineCount: input.shopifyLines.length });
  else found.push(...compareLines(input.shopifyLines, input.flexLines));
  return found;
}

/** One sentence for the merchant per difference. */
export function describeDifference(d: OrderDifference, currency: string): string {
  const money = (minor: number) => formatMoney(minor, currency);
  switch (d.kind) {
    case 'order_total':
      return `The order's total is ${money(d.orderTotalMinor)}${d.otherPaymentsMinor ? ` (${money(d.otherPaymentsMinor)} of it paid otherwise)` : ''}, but Flex was asked to charge ${money(d.flexRequestedMinor)}.`;
    case 'checkout_amount':
      return `Shopify asked for ${money(d.shopifyAmountMinor)}, but the Flex checkout was for ${money(d.flexRequestedMinor)}.`;
    case 'flex_charged':
      return `Flex took ${money(d.flexChargedMinor)}, not the ${money(d.expectedMinor)} expected.`;
    case 'catch_all_line':
      return `Flex saw one line for the whole amount instead of the order's ${d.shopifyLineCount} line${d.shopifyLineCount === 1 ? '' : 's'}, so it could not judge HSA/FSA eligibility item by item.`;
    case 'line_missing_in_flex':
      return `Flex was not sent ${d.quantity} × ${d.title}.`;
    case 'line_not_in_order':
      return `Flex charged ${d.quantity} × ${d.description}, which is not in the order.`;
    case 'line_quantity':
      return `${d.title}: ${d.shopifyQuantity} in the order, ${d.flexQuantity} at Flex.`;
    case 'line_amount':
      return `${d.title}: ${money(d.shopifyMinor)} in the order, ${money(d.flexMinor)} at Flex.`;
  }
}
