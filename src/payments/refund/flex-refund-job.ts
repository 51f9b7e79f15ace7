import type { Repositories, Transactor } from '../../db/repositories';
import type { FlexClient } from '../../flex/flex-client';
import type { FlexRefund } from '../../flex/flex-types';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { JobRecord } from '../../outbox/job-repository';
import type { JobHandler, JobResult } from '../../outbox/outbox-worker';
import { FLEX_JOB_KIND, flexIdempotencyKey, flexReason, flexTargetFor, isDefiniteRefusal, isFlexError, retryUnknownFlexOutcome, type FlexJobPayload } from '../follow-up-outbox';
import { money, REFUND_METADATA_KEY, type RefundOutcomes } from './refund-outcomes';

/**
 * Asks Flex for a stored refund session's refund: `POST /v1/checkout/sessions/{id}/refund` with the
 * amount in cents, our refund id in refund_metadata, and an Idempotency-Key derived from the
 * Shopify refund session id.
 *
 * - Flex takes it → the session is PENDING (or already final if Flex says so); webhooks and the
 *   poller follow it from there.
 * - Timeout, network error, 429, 5xx, 409 in progress, refused key → the outcome is unknown: retry
 *   later. Before asking again, look for the refund among the checkout session's refunds in Flex
 *   (by our refund id in its metadata), so that an answer lost on the way back is adopted rather
 *   than repeated, even after Flex forgot the idempotency key.
 * - Any other 4xx → Flex refused it; nothing was refunded: refundSessionReject with Flex's reason.
 */
export class FlexRefundJob implements JobHandler {
  readonly kind = FLEX_JOB_KIND.refund;

  constructor(
    private readonly deps: {
      repos: Repositories;
      transactor: Transactor;
      flex: FlexClient;
      outcomes: RefundOutcomes;
      clock: Clock;
      logger: Logger;
      onJobEnqueued?: () => void;
    },
  ) {}

  async handle(job: JobRecord): Promise<JobResult> {
    const { repos, transactor, outcomes } = this.deps;
    const { sessionId } = job.payload as unknown as FlexJobPayload;
    const refund = await repos.refunds.findById(sessionId);
    if (!refund) return { status: 'failed', error: `refund session ${sessionId} no longer exists` };
    if (refund.status !== 'RECEIVED') return { status: 'succeeded', result: { skipped: refund.status } };

    const target = await flexTargetFor(repos, this.deps.flex, refund);
    if (!target.ok) {
      if ('result' in target) return target.result;
      await transactor.run((tx) => outcomes.refuse(tx, refund, target.refuse, {}));
      this.deps.onJobEnqueued?.();
      return { status: 'succeeded', result: { refused: target.refuse } };
    }

    let flexRefunds: FlexRefund[] = [];
    let evidence: 'flex_response' | 'flex_lookup' = 'flex_response';
    try {
      if (job.attempts > 1) {
        const all = await target.flex.listRefundsForCheckoutSession(target.checkoutSessionId);
        flexRefunds = all.filter((r) => r.metadata?.[REFUND_METADATA_KEY] === refund.id);
        evidence = 'flex_lookup';
      }
      if (flexRefunds.length === 0) {
        evidence = 'flex_response';
        flexRefunds = await target.flex.refundCheckoutSession(
          target.checkoutSessionId,
          {
            amount: refund.amountMinor,
            refund_metadata: {
              [REFUND_METADATA_KEY]: refund.id,
              shopify_refund_session_id: refund.shopifyId,
              shopify_refund_session_gid: refund.gid,
              shopify_payment_session_id: target.payment.shopifyId,
              shopify_shop_domain: target.shopDomain,
            },
          },
          flexIdempotencyKey('refund', target.shopDomain, refund.shopifyId),
        );
      }
    } catch (error) {
      if (!isFlexError(error)) throw error;
      if (!isDefiniteRefusal(error)) return retryUnknownFlexOutcome(repos, this.deps.clock, this.deps.logger, 'refund', target, refund.id, error);
      const merchantMessage = `Flex refused the refund of ${money(refund)}: ${flexReason(error)}. No money was returned to the buyer.`;
      await transactor.run((tx) => outcomes.refuse(tx, refund, merchantMessage, { flexStatus: error.status ?? null, flexCode: error.code ?? null }));
      this.deps.onJobEnqueued?.();
      this.deps.logger.warn({ refundSessionId: refund.id, flexError: { status: error.status, code: error.code } }, 'Flex refused the refund');
      return { status: 'succeeded', result: { refused: error.code ?? String(error.status) } };
    }

    if (flexRefunds.length === 0) return { status: 'retry', error: 'Flex answered the refund with no refund object' };
    const progress = await transactor.run((tx) => outcomes.recordFlexRefunds(tx, refund, flexRefunds, evidence));
    if (progress === 'resolved' || progress === 'failed') this.deps.onJobEnqueued?.();
    if (target.connection.keyRejectedAt) await repos.flexConnections.clearKeyRejected(target.connection.id);
    return { status: 'succeeded', result: { flexRefundIds: flexRefunds.map((r) => r.refund_id), progress, evidence } };
  }

  async onGaveUp(job: JobRecord, error: string): Promise<void> {
    const { sessionId } = job.payload as unknown as FlexJobPayload;
    const refund = await this.deps.repos.refunds.findById(sessionId);
    if (!refund) return;
    // Flex may have carried it out: the refund keeps holding its amount until a person settles it.
    await this.deps.repos.payments.addEvent(refund.paymentSessionId, 'refund_needs_attention', { why: error, refundSessionId: refund.id });
  }
}
