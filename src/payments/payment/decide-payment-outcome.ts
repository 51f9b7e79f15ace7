import { expandedPaymentIntents, flexTime, type FlexCheckoutSession } from '../../flex/flex-types';
import { formatMoney } from '../../lib/money';
import { rejectionCodeForDecline, type RejectionCode } from '../../shopify/rejection-reasons';
import type { PaymentSessionRecord } from '../../db/repositories/payment-sessions';

export type PaymentDecision =
  | { type: 'resolve'; authorizationExpiresAt: Date | null }
  | { type: 'reject'; code: RejectionCode; merchantMessage: string }
  | { type: 'pending'; pendingExpiresAt: Date }
  | { type: 'wait'; why: string }
  | { type: 'needs_attention'; why: string };

/** Card authorizations usually hold for 7 days; used when Flex gives no expiry (an assumption, README). */
export const DEFAULT_AUTHORIZATION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
/** How long Shopify keeps a session pending while Flex finishes (Shopify allows up to 3 days). */
export const PENDING_LIFETIME_MS = 24 * 60 * 60 * 1000;

/**
 * What Flex's checkout session means for the Shopify payment session. Pure: the caller fetched the
 * session from Flex (or received it in a signed webhook) and applies the decision.
 *
 * - complete → resolve; for an authorization, with the authorization's expiry.
 * - paid (money partly taken, not complete) → pending.
 * - open → nothing yet, unless Flex shows money actually in progress (a payment intent processing,
 *   or authorized and waiting to be captured): then pending. The success URL alone proves nothing: a
 *   buyer who opens it without paying must not make Shopify create a "payment pending" order.
 * - expired or canceled → reject, with the card's decline reason when there was one.
 */
export function decidePaymentOutcome(input: {
  payment: PaymentSessionRecord;
  checkout: FlexCheckoutSession;
  now: Date;
  apiVersion: string;
}): PaymentDecision {
  const { payment, checkout, now, apiVersion } = input;
  const status = checkout.status;
  const declined = latestDecline(checkout);

  switch (status) {
    case 'complete': {
      const collected = checkout.amount_total ?? null;
      // Flex may add an LMN consultation fee, so more than our amount is fine; less is not.
      if (collected !== null && collected < payment.amountMinor) {
        return {
          type: 'needs_attention',
          why: `Flex completed the checkout for ${formatMoney(collected, payment.currency)} but Shopify expects ${formatMoney(payment.amountMinor, payment.currency)}`,
        };
      }
      if (payment.kind === 'SALE') return { type: 'resolve', authorizationExpiresAt: null };
      return { type: 'resolve', authorizationExpiresAt: authorizationExpiry(checkout, now) };
    }
    case 'paid':
      return { type: 'pending', pendingExpiresAt: new Date(now.getTime() + PENDING_LIFETIME_MS) };
    case 'expired':
      return declined
        ? rejectDeclined(declined, apiVersion)
        : { type: 'reject', code: 'PROCESSING_ERROR', merchantMessage: 'The buyer did not complete the Flex checkout before it expired.' };
    case 'canceled':
      return declined
        ? rejectDeclined(declined, apiVersion)
        : { type: 'reject', code: 'PROCESSING_ERROR', merchantMessage: 'The Flex checkout was canceled before payment.' };
    case 'open': {
      const expiresAt = flexTime(checkout.expires_at);
      if (expiresAt && expiresAt.getTime() <= now.getTime()) {
        return { type: 'reject', code: 'PROCESSING_ERROR', merchantMessage: 'The buyer did not complete the Flex checkout before it expired.' };
      }
      if (moneyInProgress(checkout)) return { type: 'pending', pendingExpiresAt: new Date(now.getTime() + PENDING_LIFETIME_MS) };
      return { type: 'wait', why: 'the Flex checkout is still open and no payment is in progress' };
    }
    default:
      return { type: 'wait', why: `unrecognised Flex checkout status "${status}"` };
  }
}

/** Intent statuses (Stripe's, which Flex mirrors) that mean the buyer's money is on its way. */
const IN_PROGRESS_INTENT_STATUSES = new Set(['processing', 'requires_capture']);

function moneyInProgress(checkout: FlexCheckoutSession): boolean {
  return expandedPaymentIntents(checkout).some((pi) => typeof pi.status === 'string' && IN_PROGRESS_INTENT_STATUSES.has(pi.status));
}

function latestDecline(checkout: FlexCheckoutSession): { code?: string; declineCode?: string; message?: string } | undefined {
  const errors = expandedPaymentIntents(checkout)
    .map((pi) => pi.last_payment_error)
    .filter((e): e is NonNullable<typeof e> => Boolean(e));
  const last = errors[errors.length - 1];
  if (!last) return undefined;
  return { code: last.code ?? undefined, declineCode: last.decline_code ?? undefined, message: last.message ?? undefined };
}

function rejectDeclined(declined: { code?: string; declineCode?: string; message?: string }, apiVersion: string): PaymentDecision {
  const reason = declined.declineCode ?? declined.code;
  return {
    type: 'reject',
    code: rejectionCodeForDecline(declined.declineCode ?? declined.code, apiVersion),
    merchantMessage: `The buyer's card was declined in the Flex checkout${reason ? ` (${reason})` : ''}.`,
  };
}

function authorizationExpiry(checkout: FlexCheckoutSession, now: Date): Date {
  const expiries = expandedPaymentIntents(checkout)
    .map((pi) => flexTime(pi.authorization_expires_at))
    .filter((d): d is Date => d !== undefined);
  if (expiries.length > 0) return new Date(Math.min(...expiries.map((d) => d.getTime())));
  return new Date(now.getTime() + DEFAULT_AUTHORIZATION_LIFETIME_MS);
}
