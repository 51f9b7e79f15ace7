/**
 * Where a shop's Shopify API lives. Normally https://{shop}; with SHOPIFY_API_ORIGIN set (the
 * simulator, tests) every call goes to that origin instead, path unchanged. The simulator tells
 * shops apart by the access token (API calls) or the authorization code (token exchange).
 */
export function shopifyUrl(shopDomain: string, path: string, apiOrigin: string | undefined): string {
  return apiOrigin ? `${apiOrigin}${path}` : `https://${shopDomain}${path}`;
}

/** Rewrites an absolute https://{shop}/… URL to the configured origin (no-op without one). */
export function rewriteShopifyUrl(url: string, apiOrigin: string | undefined): string {
  if (!apiOrigin) return url;
  const parsed = new URL(url);
  if (!parsed.hostname.endsWith('.myshopify.com')) return url;
  const target = new URL(`${parsed.pathname}${parsed.search}`, `${apiOrigin}/`);
  return target.toString();
}
