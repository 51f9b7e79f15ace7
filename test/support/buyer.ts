import type { Harness, RegisteredShop } from './harness';

/**
 * The buyer's browser, reduced to HTTP: it follows the redirects between Shopify's checkout, the
 * Flex hosted page and our app one hop at a time, so each step can be checked.
 */

export interface Hop {
  status: number;
  location: string | null;
  body: string;
}

export async function visit(url: string): Promise<Hop> {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

/** Submits the Flex hosted checkout page with one of its buttons. */
export async function payOnFlexPage(redirectUrl: string, outcome: 'hsa_fsa' | 'split' | 'decline' | 'abandon' | 'processing', extra: Record<string, string> = {}): Promise<Hop> {
  const res = await fetch(redirectUrl, { method: 'POST', body: new URLSearchParams({ outcome, ...extra }), redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

/** The "Return to store" link on Flex's decline page. */
export function returnToStoreLink(declinePage: string): string {
  const match = /href="([^"]+)"[^>]*>[^<]*Return to store/i.exec(declinePage) ?? /<a[^>]+href="([^"]+)"/i.exec(declinePage);
  if (!match) throw new Error('no return link on the Flex page');
  return match[1]!.replace(/&amp;/g, '&');
}

export function checkoutIdOf(redirectUrl: string): string {
  const id = new URL(redirectUrl).pathname.split('/').pop();
  if (!id) throw new Error(`no checkout id in ${redirectUrl}`);
  return id;
}

/**
 * Shopify sends a payment session and the app answers with its pay page; the buyer's browser opens
 * it and the app sends it on to the Flex checkout it made (`redirectUrl`).
 */
export async function startCheckout(h: Harness, shop: RegisteredShop, input: Parameters<Harness['shopify']['sendPaymentSession']>[1]) {
  const sent = await h.shopify.sendPaymentSession(shop.domain, input);
  if (sent.status !== 201 || typeof (sent.body as { redirect_url?: unknown }).redirect_url !== 'string') {
    throw new Error(`app answered ${sent.status}: ${JSON.stringify(sent.body)}`);
  }
  const payUrl = (sent.body as { redirect_url: string }).redirect_url;
  const toFlex = await visit(payUrl);
  if (toFlex.status !== 303 || !toFlex.location) throw new Error(`the pay page answered ${toFlex.status}: ${toFlex.body.slice(0, 300)}`);
  return { session: sent.session, payUrl, redirectUrl: toFlex.location, checkoutId: checkoutIdOf(toFlex.location) };
}

/** Buyer pays on Flex with `outcome`, lands on our success URL, and follows us to Shopify. */
export async function payAndReturn(redirectUrl: string, outcome: 'hsa_fsa' | 'split' | 'processing', extra: Record<string, string> = {}) {
  const flexAnswer = await payOnFlexPage(redirectUrl, outcome, extra);
  if (flexAnswer.status !== 303 || !flexAnswer.location) throw new Error(`Flex page answered ${flexAnswer.status}`);
  const appAnswer = await visit(flexAnswer.location);
  return { successUrl: flexAnswer.location, appAnswer };
}
