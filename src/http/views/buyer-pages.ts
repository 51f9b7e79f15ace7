import { escapeHtml as e } from './html';
import { messagePage } from './layout';

/** Pages for buyers passing through the app between Shopify's checkout and Flex's. */

export function processingPage(refreshUrl: string): string {
  return messagePage(
    'Confirming your payment…',
    'Flex has your payment details; we are confirming the order with the store. This page updates by itself.',
    `<p><a href="${e(refreshUrl)}">Check again</a></p>`,
    `<meta http-equiv="refresh" content="3;url=${e(refreshUrl)}">`,
  );
}

/**
 * Flex shows no payment for this checkout yet. A buyer who paid sees it confirmed on a refresh (the
 * page refreshes itself for a while); one who came here without paying goes back to pay, or to the
 * store's checkout. Nothing is told to Shopify from here.
 */
export function waitingForFlexPage(input: { refreshUrl: string; payUrl: string | null; checkoutUrl: string }): string {
  const pay = input.payUrl ? `<a class="button primary" href="${e(input.payUrl)}">Continue paying with Flex</a>` : '';
  return messagePage(
    'Waiting for your payment',
    'Flex has not confirmed a payment for this order yet. If you just paid, this page updates by itself in a moment; if you have not paid, continue with Flex or go back to the checkout.',
    `<div class="actions">${pay}<a class="button" href="${e(input.checkoutUrl)}">Back to checkout</a><a class="button plain" href="${e(input.refreshUrl)}">Check again</a></div>`,
    `<meta http-equiv="refresh" content="5;url=${e(input.refreshUrl)}">`,
  );
}

/** Flex did not answer while the checkout was being made: nothing happened yet; try again. */
export function flexUnavailablePage(input: { retryUrl: string; checkoutUrl: string }): string {
  return messagePage(
    'Flex is not answering',
    'We could not reach Flex to start your payment. Nothing was charged. Try again in a moment, or go back to the checkout and choose another way to pay.',
    `<div class="actions"><a class="button primary" href="${e(input.retryUrl)}">Try again</a><a class="button" href="${e(input.checkoutUrl)}">Back to checkout</a></div>`,
  );
}

/** Flex will not take this payment: back to Shopify's checkout, where another method can be chosen. */
export function cannotPayPage(input: { reason: string; checkoutUrl: string }): string {
  return messagePage('This order cannot be paid with Flex', `${input.reason} Nothing was charged.`, `<div class="actions"><a class="button primary" href="${e(input.checkoutUrl)}">Back to checkout</a></div>`);
}

export function notFoundPage(): string {
  return messagePage('Payment not found', 'This payment link is not valid. Return to the store and try again.');
}
