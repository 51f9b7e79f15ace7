/**
 * The Admin API access scopes the app asks for in OAuth (and lists in shopify.app.toml). The
 * payments scopes (write_payment_gateways, write_payment_sessions) come with the payments extension.
 *
 * - read_products, write_products: the catalog sync, and the eligibility written to product metafields.
 * - read_orders, write_orders: checkouts/* and orders/* webhooks, and what the app writes on orders.
 * - write_pixels, read_customer_events: activating the cart pixel (webPixelCreate).
 */
export const ADMIN_API_SCOPES = ['read_products', 'write_products', 'read_orders', 'write_orders', 'write_pixels', 'read_customer_events'] as const;
