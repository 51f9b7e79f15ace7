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

export function notFoundPage(): string {
  return messagePage('Payment not found', 'This payment link is not valid. Return to the store and try again.');
}
