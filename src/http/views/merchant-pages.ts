import { escapeHtml as e } from './html';
import { messagePage } from './layout';

/** The merchant's pages around the settings page: signing in, refusals, install failures. */

/** Where the merchant goes with no session and no link from Shopify: open from the admin, or name the store. */
export function welcomePage(message?: string): string {
  return messagePage(
    'Open the app from Shopify',
    message ?? 'This page is opened from your Shopify admin: Settings → Payments → Flex HSA/FSA → Manage. Or enter your store to sign in through Shopify.',
    shopForm(),
  );
}

export function signedOutPage(message?: string): string {
  return messagePage('Signed out', message ?? 'Your session has ended. Open the app again from your Shopify admin (Settings → Payments → Flex HSA/FSA → Manage).', shopForm());
}

export function forbiddenPage(message: string): string {
  return messagePage('Not allowed', message);
}

export function installFailedPage(message: string, shop?: string): string {
  const retry = shop ? `<p><a class="button primary" href="/auth?shop=${encodeURIComponent(shop)}">Start again</a></p>` : '';
  return messagePage('Installation did not complete', message, retry);
}

/** Signed in to one shop, the merchant opened a link for another: they confirm the switch. */
export function confirmSwitchPage(input: { from: string; to: string; csrfToken: string; ticket: string }): string {
  return messagePage(
    'Switch store?',
    `You are signed in to ${input.from}. This link opens ${input.to}. Switch only if you manage ${input.to} and opened it from its Shopify admin yourself.`,
    `<form method="post" action="/switch-shop" class="actions"><input type="hidden" name="_csrf" value="${e(input.csrfToken)}"><input type="hidden" name="to_shop" value="${e(input.to)}"><input type="hidden" name="ticket" value="${e(input.ticket)}"><button class="button primary" type="submit">Switch to ${e(input.to)}</button><a class="button" href="/settings">Stay in ${e(input.from)}</a></form>`,
  );
}

export function botPage(): string {
  return messagePage('Open this link in your browser', 'This address signs a merchant in to the app through Shopify, which only works in a web browser.');
}

function shopForm(): string {
  return `<form method="get" action="/auth" class="actions">
<input type="text" name="shop" placeholder="your-store.myshopify.com" aria-label="Store address" required pattern="[a-zA-Z0-9][a-zA-Z0-9\\-]*\\.myshopify\\.com">
<button class="button primary" type="submit">Sign in with Shopify</button></form>`;
}

