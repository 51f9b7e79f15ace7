import type { Transactor } from '../../db/repositories';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { formatMinor } from '../../lib/money';
import { enqueueFlexJob, enqueueFollowUpReject } from '../follow-up-outbox';
import { findFollowUpPayment, parseFollowUpRequest, replayOrConflict, storedRequestFields, type ReceiveFollowUpResult } from '../follow-up-request';
import type { PaymentBalance } from '../payment-ledger';
import type { PaymentSessionRecord } from '../payment-session-repository';

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
  const m = (minor: number) => `${formatMinor(minor, payment.currency)} ${payment.currency}`;
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
 * Shopify asks to capture an authorization (reference §3.4): stored once, counted against what
 * remains authorized under a row lock on the payment, with the job that will ask Flex, in one
 * transaction; then 201 at once. A capture the app can already tell will not work (expired,
 * voided, too much) is stored as rejected and Shopify hears why through captureSessionReject.
 */
export class ReceiveCaptureSession {
  constructor(
    private readonly deps: {
      transactor: Transactor;
      clock: Clock;
      logger: Logger;
      /**
       * The extension's `multiple_capture`. Off (our configuration): every capture is final, and
       * Flex releases what it leaves uncaptured. On: only a capture of all that remains is final.
       */
      multipleCapture?: boolean;
      onJobEnqueued?: () => void;
    },
  ) {}

  async execute(headers: Record<string, string | string[] | undefined>, body: unknown): Promise<ReceiveFollowUpResult> {
    const parsed = parseFollowUpRequest('capture', headers, body);
    if (!parsed.ok) return parsed;
    const request = parsed.value;
    const amountMinor = request.amountMinor!;
    const currency = request.currency!;
    const found = await findFollowUpPayment(this.deps.transactor.repos, request);
    if (!found.ok) return found;
    const { shop, payment } = found;

    const result = await this.deps.transactor.run(async (tx): Promise<ReceiveFollowUpResult> => {
      await tx.ledger.lock(payment.id);
      const existing = await tx.captures.findByShopifyId(shop.id, request.id);
      if (existing) return { ...replayOrConflict('capture', existing, request), paymentSessionId: payment.id };

      const current = (await tx.payments.findById(payment.id))!;
      const balance = await tx.ledger.balance(current);
      const now = this.deps.clock.now();
      const refusal = captureRefusal(current, balance, amountMinor, now);
      const remaining = current.amountMinor - balance.captureCommittedMinor;
      const inserted = await tx.captures.insertIfNew({
        ...storedRequestFields(request, shop.id, payment.id),
        amountMinor,
        currency,
        finalCapture: !this.deps.multipleCapture || amountMinor >= remaining,
        ...(refusal ? { status: 'REJECTED', rejectionCode: refusal.code, rejectionMessage: refusal.merchantMessage, decidedAt: now } : { status: 'RECEIVED' }),
      });
      const stored = (await tx.captures.findByShopifyId(shop.id, request.id))!;
      if (!inserted) return { ...replayOrConflict('capture', stored, request), paymentSessionId: payment.id };

      await tx.payments.addEvent(payment.id, 'capture_received', {
        amountMinor,
        currency,
        shopifyCaptureSessionId: request.id,
        shopifyRequestId: request.shopifyRequestId,
        captureSessionId: stored.id,
      });
      if (refusal) {
        await tx.payments.addEvent(payment.id, 'capture_rejected', { merchantMessage: refusal.merchantMessage, code: refusal.code, by: 'app', captureSessionId: stored.id });
        await enqueueFollowUpReject(tx.jobs, 'capture', stored, refusal, now);
      } else {
        await enqueueFlexJob(tx.jobs, 'capture', stored, now);
      }
      return { ok: true, sessionId: stored.id, replayed: false, paymentSessionId: payment.id };
    });

    if (result.ok && !result.replayed) {
      this.deps.logger.info({ captureSessionId: result.sessionId, paymentSessionId: payment.id, amountMinor }, 'capture session received');
      this.deps.onJobEnqueued?.();
    }
    return result;
  }
}
