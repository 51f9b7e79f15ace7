/**
 * Ids that are easy to mix up carry their meaning in their type: a Shopify payment session id is not
 * our payment id, and neither is a Flex checkout session id, though all three are strings. A value
 * gets its brand where it enters the app (a validated request, a database row), through the
 * functions here or the repositories, never by a cast in the middle of a use case.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A shop's `*.myshopify.com` domain, lower case (lib/shop-domain.ts makes them). */
export type ShopDomain = Brand<string, 'ShopDomain'>;
/** Our id of a shop (uuid). */
export type ShopId = Brand<string, 'ShopId'>;
/** Our id of a payment (uuid of the stored Shopify payment session). */
export type PaymentId = Brand<string, 'PaymentId'>;
/** Shopify's id of a payment session (`id` of the request; `payment_id` of refunds, captures and voids). */
export type ShopifySessionId = Brand<string, 'ShopifySessionId'>;
/** Flex's id of a checkout session (`fcs_…`). */
export type FlexCheckoutSessionId = Brand<string, 'FlexCheckoutSessionId'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Our payment id from text that came from outside (a URL), or null when it cannot be one. */
export function paymentIdFrom(text: string): PaymentId | null {
  return isUuid(text) ? (text as PaymentId) : null;
}

export function shopifySessionId(text: string): ShopifySessionId {
  return text as ShopifySessionId;
}

export function flexCheckoutSessionId(text: string): FlexCheckoutSessionId {
  return text as FlexCheckoutSessionId;
}
