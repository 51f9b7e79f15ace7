import type { ShopDomain } from './ids';

/** What Shopify calls a shop: `<name>.myshopify.com`, lower case. */
export const SHOP_DOMAIN_PATTERN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

/** The shop domain in `value` (trimmed, lower-cased), or null when it is not one. */
export function normalizeShopDomain(value: unknown): ShopDomain | null {
  if (typeof value !== 'string') return null;
  const shop = value.trim().toLowerCase();
  return SHOP_DOMAIN_PATTERN.test(shop) ? (shop as ShopDomain) : null;
}
