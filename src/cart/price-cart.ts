import type { CartSnapshotRecord } from '../db/repositories/cart-snapshots';

/** A variant as our catalog sync mirrored it in Flex: the only source of prices for a Flex checkout. */
export interface CatalogPrice {
  shopifyVariantId: string;
  shopifyProductId: string;
  title: string;
  priceMinor: number;
  currency: string;
  flexProductId: string;
  flexPriceId: string;
  eligibility: string | null;
}

/** One product line of the Flex checkout: a synced price, a quantity and the discount Shopify gave it. */
export interface PricedLine {
  shopifyVariantId: string;
  shopifyProductId: string;
  title: string;
  quantity: number;
  unitAmountMinor: number;
  discountMinor: number;
  flexProductId: string;
  flexPriceId: string;
  eligibility: string | null;
}

/**
 * The buyer's cart as Flex will be asked to charge it. Flex's `amount_total` is the lines, less the
 * discounts, plus shipping, tax and fees; `adjustmentMinor` makes that Shopify's amount to the cent
 * (a fee when positive, a discount when negative), as Flex's own plugin does for rounding.
 */
export interface PricedCart {
  lines: PricedLine[];
  /** Discount Shopify gave the order as a whole, not allocated to a line. */
  orderDiscountMinor: number;
  shippingMinor: number;
  taxMinor: number;
  adjustmentMinor: number;
}

/** Why a payment went to Flex as the catch-all line: shown on its timeline and counted on the settings page. */
export type CartFallbackReason =
  | 'no_checkout_token'
  | 'no_cart_captured'
  | 'cart_total_differs'
  | 'currency_differs'
  | 'line_without_product'
  | 'product_not_synced'
  | 'catalog_price_differs'
  | 'flex_refused_cart';

export const CART_FALLBACK_EXPLANATIONS: Record<CartFallbackReason, string> = {
  no_checkout_token: "the payment's cancel_url carried no checkout token to find the cart by",
  no_cart_captured: 'neither the cart pixel nor a checkout webhook described this checkout in time',
  cart_total_differs: "the captured cart's total is not the amount Shopify asked for (the cart changed after it was captured)",
  currency_differs: 'the cart or the catalog is in another currency than the payment',
  line_without_product: 'a line of the cart has no product variant (a custom item)',
  product_not_synced: 'a product of the cart is not synced to Flex (yet)',
  catalog_price_differs: "the cart re-priced from the synced catalog does not add up to Shopify's amount",
  flex_refused_cart: "Flex refused the checkout with the cart's lines",
};

export type PriceCartResult = { ok: true; cart: PricedCart } | { ok: false; reason: CartFallbackReason; detail: string };

/**
 * Rounding Shopify may do differently from a sum of our parts (tax per line, discounts split over
 * units): up to a cent per line, two at least. Anything more is a different cart, not rounding.
 */
export function roundingTolerance(lineCount: number): number {
  return Math.max(2, lineCount);
}

/**
 * Re-prices a captured cart from the synced catalog (never from the snapshot, whose prices may come
 * from a browser) and checks that it adds up to the payment's amount.
 */
export function priceCart(snapshot: CartSnapshotRecord, payment: { amountMinor: number; currency: string }, catalog: ReadonlyMap<string, CatalogPrice>): PriceCartResult {
  if (snapshot.currency !== payment.currency) return { ok: false, reason: 'currency_differs', detail: `the cart is in ${snapshot.currency}, the payment in ${payment.currency}` };
  if (snapshot.totalMinor !== payment.amountMinor) {
    return { ok: false, reason: 'cart_total_differs', detail: `captured cart total ${snapshot.totalMinor}, payment amount ${payment.amountMinor} (minor units)` };
  }
  if (snapshot.lines.length === 0) return { ok: false, reason: 'line_without_product', detail: 'the captured cart has no lines' };

  const merged = new Map<string, PricedLine>();
  for (const line of snapshot.lines) {
    if (!line.variantId) return { ok: false, reason: 'line_without_product', detail: `"${line.title}" has no product variant` };
    const variant = catalog.get(line.variantId);
    if (!variant) return { ok: false, reason: 'product_not_synced', detail: `variant ${line.variantId} ("${line.title}") is not synced to Flex` };
    if (variant.currency !== payment.currency) return { ok: false, reason: 'currency_differs', detail: `variant ${line.variantId} is priced in ${variant.currency}` };
    const existing = merged.get(variant.flexPriceId);
    if (existing) {
      existing.quantity += line.quantity;
      existing.discountMinor += line.discountMinor;
      continue;
    }
    merged.set(variant.flexPriceId, {
      shopifyVariantId: variant.shopifyVariantId,
      shopifyProductId: variant.shopifyProductId,
      title: variant.title,
      quantity: line.quantity,
      unitAmountMinor: variant.priceMinor,
      discountMinor: line.discountMinor,
      flexProductId: variant.flexProductId,
      flexPriceId: variant.flexPriceId,
      eligibility: variant.eligibility,
    });
  }
  const lines = [...merged.values()];
  for (const line of lines) {
    const gross = line.unitAmountMinor * line.quantity;
    if (line.discountMinor > gross) return { ok: false, reason: 'catalog_price_differs', detail: `the discount on "${line.title}" is more than its synced price` };
  }
  const gross = lines.reduce((sum, l) => sum + l.unitAmountMinor * l.quantity, 0);
  const lineDiscounts = lines.reduce((sum, l) => sum + l.discountMinor, 0);
  const orderDiscountMinor = Math.max(0, snapshot.discountMinor - lineDiscounts);
  const expected = gross - lineDiscounts - orderDiscountMinor + snapshot.shippingMinor + snapshot.taxMinor;
  const adjustmentMinor = payment.amountMinor - expected;
  if (Math.abs(adjustmentMinor) > roundingTolerance(lines.length) || gross - lineDiscounts - orderDiscountMinor < 0) {
    return { ok: false, reason: 'catalog_price_differs', detail: `re-priced from the catalog the cart comes to ${expected}, the payment is ${payment.amountMinor} (minor units)` };
  }
  return { ok: true, cart: { lines, orderDiscountMinor, shippingMinor: snapshot.shippingMinor, taxMinor: snapshot.taxMinor, adjustmentMinor } };
}
