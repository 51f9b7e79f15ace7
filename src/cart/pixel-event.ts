import { z } from 'zod';
import type { CartSnapshotLine } from '../db/repositories/cart-snapshots';
import { minorOf, type CartSnapshotDraft } from './cart-snapshot';
import { checkoutTokenOf } from './checkout-tokens';

/**
 * The body our web pixel (extensions/flex-cart-pixel) posts to `POST /pixel/checkout`, version 1:
 * `{ v: 1, shop, key, event: { id, name, seq, timestamp, location, checkout } }`, where `checkout`
 * is the part of Shopify's standard `Checkout` event data we need (README "How the cart reaches
 * Flex"). The endpoint is public: this schema bounds every string, list and number, and whatever
 * it lets through is still only the buyer's browser talking (prices are never taken from it).
 */
export const PIXEL_EVENTS_WITH_A_CART = [
  'checkout_started',
  'checkout_contact_info_submitted',
  'checkout_address_info_submitted',
  'checkout_shipping_info_submitted',
  'payment_info_submitted',
] as const;

const text = (max: number) => z.string().max(max);
const money = z.object({ amount: z.number().finite().min(0).max(1e12), currencyCode: z.string().regex(/^[A-Z]{3}$/) });
const numericId = z.union([z.string().regex(/^\d{1,20}$/), z.string().regex(/^gid:\/\/shopify\/\w{1,40}\/\d{1,20}$/)]);

const lineSchema = z.object({
  id: text(128).nullish(),
  quantity: z.number().int().min(1).max(100_000),
  title: text(512).nullish(),
  finalLinePrice: money.nullish(),
  variant: z
    .object({
      id: numericId,
      sku: text(255).nullish(),
      price: money.nullish(),
      product: z.object({ id: numericId.nullish(), title: text(512).nullish() }).nullish(),
    })
    .nullish(),
  discountAllocations: z.array(z.object({ amount: money })).max(50).nullish(),
});

export const pixelPostSchema = z.object({
  v: z.literal(1),
  shop: text(255),
  key: text(128),
  event: z.object({
    id: text(128),
    name: text(64),
    seq: z.number().int().min(0).max(1e9).nullish(),
    timestamp: text(64),
    location: text(4096).nullish(),
    checkout: z
      .object({
        token: text(256).nullish(),
        currencyCode: z.string().regex(/^[A-Z]{3}$/),
        totalPrice: money.nullish(),
        subtotalPrice: money.nullish(),
        totalTax: money.nullish(),
        shippingLine: z.object({ price: money.nullish() }).nullish(),
        discountsAmount: money.nullish(),
        lineItems: z.array(lineSchema).max(250),
      })
      .nullish(),
  }),
});

export type PixelPost = z.infer<typeof pixelPostSchema>;

/** The numeric id of a Shopify id given numeric or as a gid. */
export function numericIdOf(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1);
}

/**
 * The snapshot a pixel post describes, or why it describes none (an event without a cart, amounts
 * in another currency or not exact).
 */
export function snapshotOfPixelPost(post: PixelPost): { ok: true; draft: CartSnapshotDraft } | { ok: false; reason: string } {
  const { event } = post;
  if (!(PIXEL_EVENTS_WITH_A_CART as readonly string[]).includes(event.name)) return { ok: false, reason: `event ${event.name} carries no cart to keep` };
  const checkout = event.checkout;
  if (!checkout?.token) return { ok: false, reason: 'the event has no checkout token' };
  const currency = checkout.currencyCode;
  const amount = (value: { amount: number; currencyCode: string } | null | undefined): number | null | 'other_currency' => {
    if (!value) return null;
    if (value.currencyCode !== currency) return 'other_currency';
    return minorOf(value.amount, currency);
  };
  const total = amount(checkout.totalPrice);
  const subtotal = amount(checkout.subtotalPrice);
  const tax = amount(checkout.totalTax);
  const shipping = amount(checkout.shippingLine?.price);
  const discount = amount(checkout.discountsAmount);
  const amounts = [total, subtotal, tax, shipping, discount];
  if (amounts.includes('other_currency')) return { ok: false, reason: 'amounts in more than one currency' };
  if (typeof total !== 'number') return { ok: false, reason: 'no exact total' };

  const lines: CartSnapshotLine[] = [];
  for (const line of checkout.lineItems) {
    let lineDiscount = 0;
    for (const allocation of line.discountAllocations ?? []) {
      const minor = amount(allocation.amount);
      if (typeof minor !== 'number') return { ok: false, reason: 'a line discount that is not an exact amount' };
      lineDiscount += minor;
    }
    lines.push({
      variantId: line.variant ? numericIdOf(line.variant.id) : null,
      productId: line.variant?.product?.id ? numericIdOf(line.variant.product.id) : null,
      title: line.title ?? line.variant?.product?.title ?? '',
      quantity: line.quantity,
      discountMinor: lineDiscount,
    });
  }
  const observed = Date.parse(event.timestamp);
  return {
    ok: true,
    draft: {
      source: 'PIXEL',
      checkoutToken: checkout.token,
      cartToken: null,
      urlToken: checkoutTokenOf(event.location),
      currency,
      totalMinor: total,
      subtotalMinor: typeof subtotal === 'number' ? subtotal : 0,
      taxMinor: typeof tax === 'number' ? tax : 0,
      shippingMinor: typeof shipping === 'number' ? shipping : 0,
      discountMinor: typeof discount === 'number' ? discount : 0,
      lines,
      observedAt: new Date(Number.isFinite(observed) ? observed : 0),
    },
  };
}
