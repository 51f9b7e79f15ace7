import type { FlexOrderLine, LineComparison, LineDifference, SentCartLine, ShopifyOrderLine } from './order-differences';

const VARIANT_GID = 'gid://shopify/ProductVariant/';

/**
 * The order's lines against the product lines Flex was asked to charge, joined by Shopify variant.
 *
 * Flex's line items name only its own prices, so the app's record of what it sent (`PaymentCartLine`:
 * variant ↔ Flex price) ties them to variants; Flex's answer says which of those it really has and in
 * what quantity. Every Flex line item is a product line: the app's rounding adjustment and the order's
 * own discount go as a fee and coupons, shipping and tax on the session (flex-checkout-body.ts).
 *
 * An amount is compared after discounts and before tax, on both sides: the order line less every
 * discount allocated to it, against the synced unit price × quantity less the line's discount the app
 * sent as a coupon. Flex's own amount_total of a line is not used: it carries a share of the tax and of
 * the cart-wide coupons (the rounding adjustment among them) that Shopify's line does not.
 *
 * Order lines of one variant are taken together, as the app merged them into one Flex line. A line
 * whose quantity differs is reported for that alone: its amount then differs as a matter of course.
 */
export const compareOrderLines: LineComparison = ({ shopifyLines, shopifyLinesComplete, flexLines, sentLines }) => {
  const atFlex = flexByVariant(flexLines, sentLines);
  const found: LineDifference[] = [];
  const seen = new Set<string>();
  for (const group of byVariant(shopifyLines)) {
    const flex = group.variant === null ? undefined : atFlex.lines.get(group.variant);
    if (group.variant !== null) seen.add(group.variant);
    if (!flex) {
      found.push({ kind: 'line_missing_in_flex', lineId: group.id, title: group.title, quantity: group.quantity });
    } else if (flex.quantity !== group.quantity) {
      found.push({ kind: 'line_quantity', lineId: group.id, title: group.title, shopifyQuantity: group.quantity, flexQuantity: flex.quantity });
    } else if (flex.amountMinor !== group.totalMinor) {
      found.push({ kind: 'line_amount', lineId: group.id, title: group.title, shopifyMinor: group.totalMinor, flexMinor: flex.amountMinor });
    }
  }
  // With lines of the order unread, a Flex line may be one of them: nothing is said it is not in the order.
  if (!shopifyLinesComplete) return found;
  for (const [variant, flex] of atFlex.lines) {
    if (!seen.has(variant)) found.push({ kind: 'line_not_in_order', flexLineId: flex.flexLineId, description: flex.description, quantity: flex.quantity });
  }
  for (const line of atFlex.unknown) {
    found.push({ kind: 'line_not_in_order', flexLineId: line.id ?? line.priceId ?? '', description: line.description, quantity: line.quantity });
  }
  return found;
};

interface FlexSideLine {
  flexLineId: string;
  description: string;
  quantity: number;
  amountMinor: number;
}

/** Flex's line items by the variant the app sent for their price; those it cannot place, apart. */
function flexByVariant(flexLines: FlexOrderLine[], sentLines: SentCartLine[]): { lines: Map<string, FlexSideLine>; unknown: FlexOrderLine[] } {
  const placed = new Map<string, { sent: SentCartLine; line: FlexSideLine }>();
  const unknown: FlexOrderLine[] = [];
  for (const line of flexLines) {
    // By price; by product only when Flex did not name the price (the catalog makes a Flex product per variant).
    const sent = sentLines.find((s) => (line.priceId !== null ? s.flexPriceId === line.priceId : line.productId !== null && s.flexProductId === line.productId));
    if (!sent) {
      unknown.push(line);
      continue;
    }
    const variant = variantNumber(sent.shopifyVariantId);
    const entry = placed.get(variant) ?? { sent, line: { flexLineId: line.id ?? sent.flexPriceId, description: sent.title || line.description, quantity: 0, amountMinor: 0 } };
    entry.line.quantity += line.quantity;
    placed.set(variant, entry);
  }
  const lines = new Map<string, FlexSideLine>();
  for (const [variant, { sent, line }] of placed) {
    // The line's discount went to Flex as an amount off its price, whatever quantity Flex has.
    lines.set(variant, { ...line, amountMinor: Math.max(0, sent.unitAmountMinor * line.quantity - sent.discountMinor) });
  }
  return { lines, unknown };
}

interface ShopifyGroup {
  variant: string | null;
  id: string;
  title: string;
  quantity: number;
  totalMinor: number;
}

/** The order's lines, one group per variant (in the order's order); custom items each on their own. */
function byVariant(lines: ShopifyOrderLine[]): ShopifyGroup[] {
  const groups: ShopifyGroup[] = [];
  const index = new Map<string, ShopifyGroup>();
  for (const line of lines) {
    const variant = line.variantId === null ? null : variantNumber(line.variantId);
    const existing = variant === null ? undefined : index.get(variant);
    if (existing) {
      existing.quantity += line.quantity;
      existing.totalMinor += line.totalMinor;
      continue;
    }
    const group = { variant, id: line.id, title: line.title, quantity: line.quantity, totalMinor: line.totalMinor };
    groups.push(group);
    if (variant !== null) index.set(variant, group);
  }
  return groups;
}

/** The Admin API names variants by gid, the catalog (and so `PaymentCartLine`) by number. */
function variantNumber(id: string): string {
  return id.startsWith(VARIANT_GID) ? id.slice(VARIANT_GID.length) : id;
}
