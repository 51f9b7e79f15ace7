/**
 * The checkout token in a Shopify checkout URL: the payment session's `cancel_url`, or the page the
 * cart pixel ran on. Which token today's URLs carry (the checkout token, the cart token, or another)
 * is not documented (README "Assumptions"), so the token found here is matched against every token a
 * snapshot holds. The forms accepted:
 *
 * - `https://{shop}/{shop_id}/checkouts/{token}[?key=…]`: the legacy form, shopify.dev's example;
 * - `https://{shop}/checkouts/cn/{token}[/{locale}][?…]`: today's checkout pages;
 * - `https://{shop}/checkouts/c/{token}[/…]` and `https://{shop}/checkouts/{token}[/…]`: seen as
 *   variants of both, taken the same way.
 */
const TOKEN = /^[A-Za-z0-9][A-Za-z0-9_-]{7,255}$/;
const SHORT_FORMS = new Set(['cn', 'c', 'co']);

export function checkoutTokenOf(url: string | null | undefined): string | null {
  if (!url || url.length > 4096) return null;
  let segments: string[];
  try {
    segments = new URL(url).pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return null;
  }
  const at = segments.lastIndexOf('checkouts');
  if (at < 0) return null;
  let token = segments[at + 1];
  if (token !== undefined && SHORT_FORMS.has(token)) token = segments[at + 2];
  return token !== undefined && TOKEN.test(token) ? token : null;
}
