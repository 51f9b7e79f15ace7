import { formatMoney } from '../lib/money';

/**
 * How a Shopify order differs from what Flex was asked to charge and charged: a list of typed
 * differences, stored on the order's row (`ShopifyOrder.differences`) and shown on the settings page.
 * An empty list means nothing differs. The order-level kinds are here; the line-level kinds come from
 * a `LineComparison` (compare-order-lines.ts), asked only when Flex was sent the cart's lines.
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
 * Line-level differences, between the order's lines and the product lines Flex was asked to charge
 * (the cart changed after the app captured it, or the order was edited). Each names one Shopify line
 * by its gid, or one Flex line item.
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
  /** The variant's gid (`gid://shopify/ProductVariant/…`); null for a custom item. */
  variantId: string | null;
  sku: string | null;
  /** The line after every discount allocated to it (its own and its share of the order's), before tax. */
  totalMinor: number;
}

/** A line Flex was asked to charge (`GET /v1/checkout/sessions/{id}/line_items`). */
export interface FlexOrderLine {
  id: string | null;
  description: string;
  quantity: number;
  /** Flex's amount_total of the line: with its share of the cart's coupons and of the tax. */
  totalMinor: number | null;
  priceId: string | null;
  productId: string | null;
  eligibility: string | null;
}

/**
 * A product line the app sent Flex for the payment (`PaymentCartLine`): what ties a Flex price to a
 * Shopify variant, and what Flex was asked to charge for it.
 */
export interface SentCartLine {
  shopifyVariantId: string;
  title: string;
  quantity: number;
  unitAmountMinor: number;
  /** Shopify's discount on the line, sent as a coupon on the line's price. */
  discountMinor: number;
  flexPriceId: string;
  flexProductId: string;
}

export interface LineComparisonInput {
  shopifyLines: ShopifyOrderLine[];
  /** False when the order has more lines than were read: a Flex line may be on the unread page. */
  shopifyLinesComplete: boolean;
  flexLines: FlexOrderLine[];
  sentLines: SentCartLine[];
}

/** Compares the order's lines with the lines Flex was asked to charge. */
export type LineComparison = (input: LineComparisonInput) => LineDifference[];

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
  shopifyLinesComplete: boolean;
  flexLines: FlexOrderLine[];
  /** The product lines the app sent Flex; null when it sent none (the catch-all line, or before carts were sent). */
  sentLines: SentCartLine[] | null;
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
  else if (input.sentLines) {
    found.push(...compareLines({ shopifyLines: input.shopifyLines, shopifyLinesComplete: input.shopifyLinesComplete, flexLines: input.flexLines, sentLines: input.sentLines }));
  }
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
      return `${d.quantity} × ${d.title} is in the order, but Flex was not asked to charge for it.`;
    case 'line_not_in_order':
      return `Flex was asked to charge for ${d.quantity} × ${d.description}, which is not in the order.`;
    case 'line_quantity':
      return `${d.title}: ${d.shopifyQuantity} in the order, but Flex was asked to charge for ${d.flexQuantity}.`;
    case 'line_amount':
      return `${d.title}: ${money(d.shopifyMinor)} in the order after discounts, but Flex was asked to charge ${money(d.flexMinor)} for it.`;
  }
}
