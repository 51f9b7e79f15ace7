import type { Transactor } from '../../db/repositories';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { formatMinor } from '../../lib/money';
import { enqueueFlexJob, enqueueFollowUpReject } from '../follow-up-outbox';
import { findFollowUpPayment, parseFollowUpRequest, replayOrConflict, storedRequestFields, type ReceiveFollowUpResult } from '../follow-up-request';
import type { PaymentBalance } from '../payment-ledger';
import type { PaymentSessionRecord } from '../payment-session-repository';
import { REFUND_REJECTION_CODE } from './refund-outcomes';

/**
 * Whether a refund of `amountMinor` may go to Flex: only for a resolved payment, and only while
 * refunds pending and succeeded stay within what was captured. Null = yes; else the merchant
 * message that says why not.
 */
export function refundRefusal(payment: PaymentSessionRecord, balance: PaymentBalance, amountMinor: number): string | null {
  const m = (minor: number) => `${formatMinor(minor, payment.currency)} ${payment.currency}`;
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

/**
 * Shopify asks for a refund (reference §3.3): store it once under (shop, Shopify id), counted
 * against the payment under a row lock, with the job that will ask Flex, in one transaction; then
 * answer 201 at once. A refund that would take more than was captured is stored as rejected and
 * Shopify hears so through refundSessionReject: it is a valid request, and the merchant needs the reason.
 */
export class ReceiveRefundSession {
  constructor(
    private readonly deps: {
      transactor: Transactor;
      clock: Clock;
      logger: Logger;
      onJobEnqueued?: () => void;
    },
  ) {}

  async execute(headers: Record<string, string | string[] | undefined>, body: unknown): Promise<ReceiveFollowUpResult> {
    const parsed = parseFollowUpRequest('refund', headers, body);
    if (!parsed.ok) return parsed;
    const request = parsed.value;
    const amountMinor = request.amountMinor!;
    const currency = request.currency!;
    const found = await findFollowUpPayment(this.deps.transactor.repos, request);
    if (!found.ok) return found;
    const { shop, payment } = found;

    const result = await this.deps.transactor.run(async (tx): Promise<ReceiveFollowUpResult> => {
      await tx.ledger.lock(payment.id);
      const existing = await tx.refunds.findByShopifyId(shop.id, request.id);
      if (existing) return { ...replayOrConflict('refund', existing, request), paymentSessionId: payment.id };

      const current = (await tx.payments.findById(payment.id))!;
      const balance = await tx.ledger.balance(current);
      const refusal = refundRefusal(current, balance, amountMinor);
      const now = this.deps.clock.now();
      const inserted = await tx.refunds.insertIfNew({
        ...storedRequestFields(request, shop.id, payment.id),
        amountMinor,
        currency,
        ...(refusal ? { status: 'REJECTED', rejectionCode: REFUND_REJECTION_CODE, rejectionMessage: refusal, decidedAt: now } : { status: 'RECEIVED' }),
      });
      const stored = (await tx.refunds.findByShopifyId(shop.id, request.id))!;
      if (!inserted) return { ...replayOrConflict('refund', stored, request), paymentSessionId: payment.id };

      await tx.payments.addEvent(payment.id, 'refund_received', {
        amountMinor,
        currency,
        shopifyRefundSessionId: request.id,
        shopifyRequestId: request.shopifyRequestId,
        refundSessionId: stored.id,
      });
      if (refusal) {
        await tx.payments.addEvent(payment.id, 'refund_rejected', { merchantMessage: refusal, by: 'app', refundSessionId: stored.id });
        await enqueueFollowUpReject(tx.jobs, 'refund', stored, { code: REFUND_REJECTION_CODE, merchantMessage: refusal }, now);
      } else {
        await enqueueFlexJob(tx.jobs, 'refund', stored, now);
      }
      return { ok: true, sessionId: stored.id, replayed: false, paymentSessionId: payment.id };
    });

    if (result.ok && !result.replayed) {
      this.deps.logger.info({ refundSessionId: result.sessionId, paymentSessionId: payment.id, amountMinor }, 'refund session received');
      this.deps.onJobEnqueued?.();
    }
    return result;
  }
}
