// Everything the simulator does where Shopify's behaviour is not documented, in one place. Each
// switch has the value we believe most likely as its default, and tests flip it to prove the app
// copes with the other possibilities (`shopify.assumptions.cancelUrlForm = 'legacy'`, or
// `new ShopifySimulator({ assumptions: { … } })`). See README.md, "Assumptions".

/**
 * Which URL Shopify puts in `payment_method.data.cancel_url` of a payment session for a cart:
 * - `legacy`: `{base}/{shop_id}/checkouts/{checkout_token}` — the form in shopify.dev's example.
 * - `cn_cart_token`: `{base}/checkouts/cn/{cart_token}[/{locale}]?…` — today's checkout URLs; a shipped
 *   payments app (Solana Pay, 2023) matched the last path segment to the webhook's `cart_token`.
 * - `cn_checkout_token`: the same path carrying the checkout token (the pixel's `checkout.token`).
 * - `cn_opaque`: the same path carrying a token that is in no webhook or pixel payload (only the
 *   pixel's `context.document.location` shows it). Reference §2: which one real Shopify uses is UNKNOWN.
 */
export type CancelUrlForm = 'legacy' | 'cn_cart_token' | 'cn_checkout_token' | 'cn_opaque';

/** When `payment_info_submitted` reaches the pixel relative to the payment session request (UNKNOWN). */
export type PaymentInfoTiming = 'before_session' | 'after_session' | 'concurrent';

/**
 * The `Origin` header of the pixel's `fetch` (UNKNOWN): strict pixels run in a web worker inside a
 * sandboxed iframe, whose origin is opaque (`null`); the alternative is the checkout's own origin.
 */
export type PixelOrigin = 'null' | 'checkout_origin';

/**
 * What the order's refund transaction carries as `paymentId` / `payment_id` (UNVERIFIED). The refund
 * session request itself has only `payment_id` (the payment session id) and `amount`; nothing
 * documented names the order's refund. `payment_session_id`: the refund transaction repeats the
 * payment's id, so the app can only join by payment + amount + time. `refund_session_id`: it carries the
 * refund session id, an exact join.
 */
export type RefundTransactionPaymentId = 'payment_session_id' | 'refund_session_id';

export interface Assumptions {
  cancelUrlForm: CancelUrlForm;
  /** The locale segment of `cn` checkout URLs (`/checkouts/cn/{token}/en-us`); null = none. */
  checkoutUrlLocale: string | null;
  paymentInfoTiming: PaymentInfoTiming;
  pixelOrigin: PixelOrigin;
  /**
   * Whether the Admin GraphQL `orders(query: "payment_id:…")` filter works (UNVERIFIED: the admin's
   * order search documents `payment_id:`; the API's search syntax for orders does not list it). When
   * false the term is ignored like any unknown field, so every order matches, as Shopify does with
   * unknown search terms.
   */
  ordersPaymentIdSearch: boolean;
  refundTransactionPaymentId: RefundTransactionPaymentId;
  /** Whether `refunds/create` is sent before or after the refund session request (UNKNOWN; tests can also choose per refund). */
  refundWebhookTiming: 'before_session' | 'after_session';
  /**
   * Refund transactions stay `PENDING` until the app resolves the refund session (then `SUCCESS`, or
   * `FAILURE` on reject). UNVERIFIED: Shopify shows asynchronous refunds as pending in the admin.
   */
  refundTransactionPendingUntilResolved: boolean;
  /**
   * How many variants a products/create or products/update payload carries in `variants` (UNVERIFIED:
   * products may have up to 2,048 variants, and REST payloads were long capped at 100); `variant_gids`
   * always lists every variant. null = all of them.
   */
  productWebhookVariantLimit: number | null;
}

export const DEFAULT_ASSUMPTIONS: Readonly<Assumptions> = Object.freeze({
  cancelUrlForm: 'cn_cart_token',
  checkoutUrlLocale: null,
  paymentInfoTiming: 'before_session',
  pixelOrigin: 'null',
  ordersPaymentIdSearch: true,
  refundTransactionPaymentId: 'payment_session_id',
  refundWebhookTiming: 'before_session',
  refundTransactionPendingUntilResolved: true,
  productWebhookVariantLimit: null,
});

const ALLOWED: { [K in keyof Assumptions]?: readonly unknown[] } = {
  cancelUrlForm: ['legacy', 'cn_cart_token', 'cn_checkout_token', 'cn_opaque'],
  paymentInfoTiming: ['before_session', 'after_session', 'concurrent'],
  pixelOrigin: ['null', 'checkout_origin'],
  ordersPaymentIdSearch: [true, false],
  refundTransactionPaymentId: ['payment_session_id', 'refund_session_id'],
  refundWebhookTiming: ['before_session', 'after_session'],
  refundTransactionPendingUntilResolved: [true, false],
};

/** A fresh set of switches with `overrides` checked and applied. */
export function createAssumptions(overrides: Partial<Assumptions> = {}): Assumptions {
  const assumptions: Assumptions = { ...DEFAULT_ASSUMPTIONS };
  return setAssumptions(assumptions, overrides);
}

/** Applies overrides in place (so holders of the object see them), refusing unknown values. */
export function setAssumptions(target: Assumptions, overrides: Partial<Assumptions>): Assumptions {
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in DEFAULT_ASSUMPTIONS)) throw new Error(`Unknown assumption ${key}`);
    if (key === 'productWebhookVariantLimit' && value !== null && !(Number.isInteger(value) && (value as number) >= 1)) {
      throw new Error('Assumption productWebhookVariantLimit must be a whole number of at least 1, or null');
    }
    const allowed = ALLOWED[key as keyof Assumptions];
    if (allowed && !allowed.includes(value)) {
      throw new Error(`Assumption ${key} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`);
    }
    (target as unknown as Record<string, unknown>)[key] = value;
  }
  return target;
}
