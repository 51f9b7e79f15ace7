import type { PaymentBalance } from '../../db/repositories/payment-ledger';
import type { PaymentSessionRecord } from '../../db/repositories/payment-sessions';
import { formatMoney } from '../../lib/money';
import type { OperationPolicy } from '../operation/store-operation';

/** Shopify's only void rejection code (reference §5.2). */
export const VOID_REJECTION_CODE = 'PROCESSING_ERROR';

/** Whether the authorization may be voided in Flex: only a resolved one of which nothing was captured. Null = yes. */
export function voidRefusal(payment: PaymentSessionRecord, balance: PaymentBalance): string | null {
  if (payment.kind !== 'AUTHORIZATION') return `Payment ${payment.shopifyId} was a sale, captured at checkout; there is no authorization to void (refund it instead).`;
  if (payment.status !== 'RESOLVED') return `Authorization ${payment.shopifyId} was not completed in Flex (it is ${payment.status.toLowerCase()}), so there is nothing to void.`;
  if (balance.captureCommittedMinor > 0) {
    return `${formatMoney(balance.captureCommittedMinor, payment.currency)} of authorization ${payment.shopifyId} was already captured, so it can no longer be voided; refund it instead.`;
  }
  return null;
}

/** Void sessions (reference §3.5): once one is stored, captures of the payment are refused. */
export const voidPolicy: OperationPolicy<'void'> = {
  kind: 'void',
  refusal(payment, balance) {
    const merchantMessage = voidRefusal(payment, balance);
    return merchantMessage ? { code: VOID_REJECTION_CODE, merchantMessage } : null;
  },
  insert: (repos, fields) => repos.voids.insertIfNew(fields),
};
