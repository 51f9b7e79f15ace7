import type { Transactor } from '../../db/repositories';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { formatMinor } from '../../lib/money';
import { enqueueFlexJob, enqueueFollowUpReject } from '../follow-up-outbox';
import { findFollowUpPayment, parseFollowUpRequest, replayOrConflict, storedRequestFields, type ReceiveFollowUpResult } from '../follow-up-request';
import type { PaymentBalance } from '../payment-ledger';
import type { PaymentSessionRecord } from '../payment-session-repository';

/** Shopify's only void rejection code (reference §5.2). */
export const VOID_REJECTION_CODE = 'PROCESSING_ERROR';

/** Whether the authorization may be voided in Flex: only a resolved one of which nothing was captured. Null = yes. */
export function voidRefusal(payment: PaymentSessionRecord, balance: PaymentBalance): string | null {
  if (payment.kind !== 'AUTHORIZATION') return `Payment ${payment.shopifyId} was a sale, captured at checkout; there is no authorization to void (refund it instead).`;
  if (payment.status !== 'RESOLVED') return `Authorization ${payment.shopifyId} was not completed in Flex (it is ${payment.status.toLowerCase()}), so there is nothing to void.`;
  if (balance.captureCommittedMinor > 0) {
    return `${formatMinor(balance.captureCommittedMinor, payment.currency)} ${payment.currency} of authorization ${payment.shopifyId} was already captured, so it can no longer be voided; refund it instead.`;
  }
  return null;
}

/**
 * Shopify asks to void an authorization (reference §3.5): stored once under a row lock on the
 * payment (from then on captures of it are refused), with the job that cancels it in Flex, in one
 * transaction; then 201 at once. A void after a capture is stored as rejected and Shopify hears
 * why through voidSessionReject.
 */
export class ReceiveVoidSession {
  constructor(
    private readonly deps: {
      transactor: Transactor;
      clock: Clock;
      logger: Logger;
      onJobEnqueued?: () => void;
    },
  ) {}

  async execute(headers: Record<string, string | string[] | undefined>, body: unknown): Promise<ReceiveFollowUpResult> {
    const parsed = parseFollowUpRequest('void', headers, body);
    if (!parsed.ok) return parsed;
    const request = parsed.value;
    const found = await findFollowUpPayment(this.deps.transactor.repos, request);
    if (!found.ok) return found;
    const { shop, payment } = found;

    const result = await this.deps.transactor.run(async (tx): Promise<ReceiveFollowUpResult> => {
      await tx.ledger.lock(payment.id);
      const existing = await tx.voids.findByShopifyId(shop.id, request.id);
      if (existing) return { ...replayOrConflict('void', existing, request), paymentSessionId: payment.id };

      const current = (await tx.payments.findById(payment.id))!;
      const balance = await tx.ledger.balance(current);
      const refusal = voidRefusal(current, balance);
      const now = this.deps.clock.now();
      const inserted = await tx.voids.insertIfNew({
        ...storedRequestFields(request, shop.id, payment.id),
        ...(refusal ? { status: 'REJECTED', rejectionCode: VOID_REJECTION_CODE, rejectionMessage: refusal, decidedAt: now } : { status: 'RECEIVED' }),
      });
      const stored = (await tx.voids.findByShopifyId(shop.id, request.id))!;
      if (!inserted) return { ...replayOrConflict('void', stored, request), paymentSessionId: payment.id };

      await tx.payments.addEvent(payment.id, 'void_received', { shopifyVoidSessionId: request.id, shopifyRequestId: request.shopifyRequestId, voidSessionId: stored.id });
      if (refusal) {
        await tx.payments.addEvent(payment.id, 'void_rejected', { merchantMessage: refusal, by: 'app', voidSessionId: stored.id });
        await enqueueFollowUpReject(tx.jobs, 'void', stored, { code: VOID_REJECTION_CODE, merchantMessage: refusal }, now);
      } else {
        await enqueueFlexJob(tx.jobs, 'void', stored, now);
      }
      return { ok: true, sessionId: stored.id, replayed: false, paymentSessionId: payment.id };
    });

    if (result.ok && !result.replayed) {
      this.deps.logger.info({ voidSessionId: result.sessionId, paymentSessionId: payment.id }, 'void session received');
      this.deps.onJobEnqueued?.();
    }
    return result;
  }
}
