import type { PaymentBalance } from '../../db/repositories/payment-ledger';
import type { PaymentSessionRecord } from '../../db/repositories/payment-sessions';
import { formatMoney } from '../../lib/money';
import type { OperationPolicy } from '../operation/store-operation';

/** Shopify's only refund rejection code (reference §5.2). */
export const REFUND_REJECTION_CODE = 'PROCESSING_ERROR';

/**
 * Whether a refund of `amountMinor` may go to Flex: only for a resolved payment, and only while
 * refunds pending and succeeded stay within what was captured. Null = yes; else the merchant
 * message that says why not.
 */
export function refundRefusal(payment: PaymentSessionRecord, balance: PaymentBalance, amountMinor: number): string | null {
  const m = (minor: number) => formatMoney(minor, payment.currency);
  if (payment.status !== 'RESOLVED') {
    return `Payment ${payment.shopifyId} was not completed in Flex (it is ${payment.status.toLowerCase()}), so there is nothing to refund.`;
  }
  if (balance.capturedMinor === 0) {
    return `Nothing of payment ${payment.shopifyId} was captured, so there is nothing to refund (void the authorization instead).`;
  }
  const refundable = balance.capturedMinor - balance.refundCommittedMinor;
  if (amountMinor > refundable) {
    return (
      `Refund of ${m(amountMinor)} refused: only ${m(Math.max(0, refundable))} of this payment can still be refunded ` +
      `(${m(balance.capturedMinor)} captured, ${m(balance.refundCommittedMinor)} already refunded or being refunded).`
    );
  }
  return null;
}

/** Refund sessions (reference §3.3): counted against what was captured; a refusal says how much is left. */
export const refundPolicy: OperationPolicy<'refund'> = {
  kind: 'refund',
  refusal(payment, balance, request) {
    const merchantMessage = refundRefusal(payment, balance, request.amountMinor);
    return merchantMessage ? { code: REFUND_REJECTION_CODE, merchantMessage } : null;
  },
  insert(repos, fields, request) {
    return repos.refunds.insertIfNew({ ...fields, amountMinor: request.amountMinor, currency: request.currency });
  },
};
