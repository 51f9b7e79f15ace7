import type { PaymentBalance } from '../../db/repositories/payment-ledger';
import type { PaymentSessionRecord } from '../../db/repositories/payment-sessions';
import { formatMoney } from '../../lib/money';
import type { OperationPolicy } from '../operation/store-operation';
import type { Refusal } from '../report-to-shopify';

/** Shopify's capture rejection codes (reference §5.2). */
export type CaptureRejectionCode = 'AUTHORIZATION_EXPIRED' | 'PROCESSING_ERROR';

/**
 * Whether a capture of `amountMinor` may go to Flex: only of a resolved authorization that was not
 * voided, has not expired, and still holds that much. Null = yes.
 */
export function captureRefusal(
  payment: PaymentSessionRecord,
  balance: PaymentBalance,
  amountMinor: number,
  now: Date,
): { code: CaptureRejectionCode; merchantMessage: string } | null {
  const m = (minor: number) => formatMoney(minor, payment.currency);
  const refuse = (merchantMessage: string) => ({ code: 'PROCESSING_ERROR' as const, merchantMessage });
  if (payment.kind !== 'AUTHORIZATION') return refuse(`Payment ${payment.shopifyId} was a sale, captured at checkout; there is no authorization to capture.`);
  if (payment.status !== 'RESOLVED') return refuse(`Authorization ${payment.shopifyId} was not completed in Flex (it is ${payment.status.toLowerCase()}), so there is nothing to capture.`);
  if (balance.voidCommitted) return refuse(`Authorization ${payment.shopifyId} was voided; it can no longer be captured.`);
  const remaining = balance.finalCaptureTaken ? 0 : payment.amountMinor - balance.captureCommittedMinor;
  if (remaining <= 0) return refuse(`Authorization ${payment.shopifyId} was already captured (${m(balance.captureCommittedMinor)}); nothing remains to capture.`);
  if (payment.authorizationExpiresAt && now.getTime() >= payment.authorizationExpiresAt.getTime()) {
    return {
      code: 'AUTHORIZATION_EXPIRED',
      merchantMessage: `The authorization expired on ${payment.authorizationExpiresAt.toISOString()} and Flex released the hold; it can no longer be captured.`,
    };
  }
  if (amountMinor > remaining) return refuse(`Capture of ${m(amountMinor)} refused: only ${m(remaining)} of this authorization remains to capture.`);
  return null;
}

/**
 * Capture sessions (reference §3.4), counted against what remains authorized. `multipleCapture` is
 * the extension's `multiple_capture`: off (our configuration), every capture is final and Flex
 * releases what it leaves uncaptured; on, only a capture of all that remains is final.
 */
export function capturePolicy(options: { multipleCapture: boolean } = { multipleCapture: false }): OperationPolicy<'capture'> {
  return {
    kind: 'capture',
    refusal: (payment, balance, request, now): Refusal | null => captureRefusal(payment, balance, request.amountMinor, now),
    insert(repos, fields, request, { payment, balance }) {
      const remaining = payment.amountMinor - balance.captureCommittedMinor;
      return repos.captures.insertIfNew({
        ...fields,
        amountMinor: request.amountMinor,
        currency: request.currency,
        finalCapture: !options.multipleCapture || request.amountMinor >= remaining,
      });
    },
  };
}
