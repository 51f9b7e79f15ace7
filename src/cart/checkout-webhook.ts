import { z } from 'zod';
import type { CartSnapshotLine } from '../db/repositories/cart-snapshots';
import { minorOf, type CartSnapshotDraft } from './cart-snapshot';

/**
 * The `checkouts/create` and `checkouts/update` webhook body (Shopify's REST checkout), the parts a
 * cart snapshot needs. HMAC-verified before it gets here, so it is Shopify talking; amounts are
 * decimal strings.
 */
const decimal = z.union([z.string().max(32), z.number()]);

const lineSchema = z.looseObject({
  variant_id: z.number().int().nullish(),
  product_id: z.number().int().nullish(),
  title: z.string().max(1024).nullish(),
  quantity: z.number().int().min(0).max(1_000_000),
  discount_allocations: z.array(z.looseObject({ amount: decimal })).max(100).nullish(),
});

export const checkoutWebhookSchema = z.looseObject({
  token: z.string().min(1).max(256),
  cart_token: z.string().max(256).nullish(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  taxes_included: z.boolean().nullish(),
  updated_at: z.string().max(64).nullish(),
  created_at: z.string().max(64).nullish(),
  line_items: z.array(lineSchema).max(1000),
  shipping_lines: z.array(z.looseObject({ price: decimal })).max(50).nullish(),
  subtotal_price: decimal.nullish(),
  total_tax: decimal.nullish(),
  total_discounts: decimal.nullish(),
  total_price: decimal,
});

export type CheckoutWebhook = z.infer<typeof checkoutWebhookSchema>;

export function snapshotOfCheckoutWebhook(body: CheckoutWebhook): { ok: true; draft: CartSnapshotDraft } | { ok: false; reason: string } {
  const currency = body.currency;
  const total = minorOf(body.total_price, currency);
  if (total === null) return { ok: false, reason: 'total_price is not an exact amount' };
  let shipping = 0;
  for (const line of body.shipping_lines ?? []) {
    const minor = minorOf(line.price, currency);
    if (minor === null) return { ok: false, reason: 'a shipping line price is not an exact amount' };
    shipping += minor;
  }
  const lines: CartSnapshotLine[] = [];
  for (const line of body.line_items) {
    if (line.quantity === 0) continue;
    let discount = 0;
    for (const allocation of line.discount_allocations ?? []) {
      const minor = minorOf(allocation.amount, currency);
      if (minor === null) return { ok: false, reason: 'a line discount is not an exact amount' };
      discount += minor;
    }
    lines.push({
      variantId: line.variant_id ? String(line.variant_id) : null,
      productId: line.product_id ? String(line.product_id) : null,
      title: line.title ?? '',
      quantity: line.quantity,
      discountMinor: discount,
    });
  }
  const observed = Date.parse(body.updated_at ?? body.created_at ?? '');
  return {
    ok: true,
    draft: {
      source: 'WEBHOOK',
      checkoutToken: body.token,
      cartToken: body.cart_token ?? null,
      urlToken: null,
      currency,
      totalMinor: total,
      subtotalMinor: minorOf(body.subtotal_price, currency) ?? 0,
      // Prices that include tax (taxes_included) already carry it: adding it again would overcharge.
      taxMinor: body.taxes_included ? 0 : (minorOf(body.total_tax, currency) ?? 0),
      shippingMinor: shipping,
      discountMinor: minorOf(body.total_discounts, currency) ?? 0,
      lines,
      observedAt: new Date(Number.isFinite(observed) ? observed : 0),
    },
  };
}
