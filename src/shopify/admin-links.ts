import { rewriteShopifyUrl } from './shopify-url';

/**
 * A URL on the shop's Shopify admin that a merchant's browser opens. With SHOPIFY_API_ORIGIN set
 * (the simulator) the host no longer names the shop, so the shop goes in a `shop` query parameter,
 * which is how the simulator's pages (authorize, admin) tell shops apart.
 */
export function shopAdminUrl(shopDomain: string, pathAndQuery: string, apiOrigin: string | undefined): string {
  return rewriteForBrowser(`https://${shopDomain}${pathAndQuery}`, shopDomain, apiOrigin);
}

/** Rewrites an absolute https://{shop}/… URL for the browser (see shopAdminUrl). */
export function rewriteForBrowser(url: string, shopDomain: string, apiOrigin: string | undefined): string {
  if (!apiOrigin) return url;
  const rewritten = new URL(rewriteShopifyUrl(url, apiOrigin));
  if (!rewritten.searchParams.has('shop')) rewritten.searchParams.append('shop', shopDomain);
  return rewritten.toString();
}

/**
 * Where Shopify's payments-app template sends the merchant back to: the gateway's settings in the
 * admin (a template convention; not in Shopify's reference docs).
 */
export function returnToShopifyUrl(shopDomain: string, apiKey: string, apiOrigin: string | undefined): string {
  return shopAdminUrl(shopDomain, `/services/payments_partners/gateways/${encodeURIComponent(apiKey)}/settings`, apiOrigin);
}
