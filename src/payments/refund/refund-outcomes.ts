import type { Repositories } from '../../db/repositories';
import { FINAL_FLEX_REFUND_STATUSES, type RefundSessionRecord } from '../../db/repositories/refund-sessions';
import type { FlexRefund } from '../../flex/flex-types';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { formatMoney } from '../../lib/money';
import { reportOperationRejected, reportOperationResolved } from '../report-to-shopify';
import { REFUND_REJECTION_CODE } from './refund-policy';

/** Where the news about a Flex refund came from (recorded on the timeline). */
export type RefundEvidence = 'flex_response' | 'flex_lookup' | 'webhook' | 'poll';

export type RefundProgress = 'resolved' | 'failed' | 'pending' | 'needs_attention' | 'already_decided';

/** The key our refund session id travels under in Flex's refund_metadata (as Flex's own plugin does). */
export const REFUND_METADATA_KEY = 'refund_id';

/**
 * Turns what Flex says about a refund into the refund session's state and the Shopify mutation,
 * inside the caller's transaction. The job (Flex's answer), the webhooks and the poller all come
 * here; conditional updates make the first final word win and the others change nothing.
 *
 * Flex refunds are asynchronous: pending, then succeeded (resolve), or failed / canceled (reject:
 * no money moved). A refund session whose Flex refunds end differently from each other, or add up
 * to another amount, is left for a person: neither answer to Shopify would be true.
 */
export class RefundOutcomes {
  constructor(
    private readonly deps: {
      clock: Clock;
      logger: Logger;
      /** First wait before asking Flex about a refund still pending. */
      pollIntervalMs: number;
    },
  ) {}

  /** Records Flex refunds known to belong to `refund` and settles it when they are all final. */
  async recordFlexRefunds(repos: Repositories, refund: RefundSessionRecord, flexRefunds: FlexRefund[], evidence: RefundEvidence): Promise<RefundProgress> {
    const now = this.deps.clock.now();
    await repos.refunds.recordFlexRefunds(
      refund.id,
      refund.shopId,
      flexRefunds.map((r) => ({ flexRefundId: r.refund_id, amountMinor: r.amount ?? null, status: r.status })),
    );
    const current = await repos.refunds.findById(refund.id);
    if (!current) return 'already_decided';
    if (current.status === 'RECEIVED' && (await repos.refunds.markPending(refund.id, new Date(now.getTime() + this.deps.pollIntervalMs)))) {
      await repos.payments.addEvent(refund.paymentSessionId, 'refund_sent_to_flex', {
        amountMinor: refund.amountMinor,
        currency: refund.currency,
        flexStatus: flexRefunds.map((r) => r.status).join(','),
        evidence,
        flexRefundIds: flexRefunds.map((r) => r.refund_id),
        refundSessionId: refund.id,
      });
    } else if (current.status !== 'RECEIVED' && current.status !== 'PENDING') {
      return 'already_decided';
    }

    const known = await repos.refunds.listFlexRefunds(refund.id);
    if (known.length === 0 || known.some((r) => !FINAL_FLEX_REFUND_STATUSES.has(r.status))) return 'pending';

    const ids = known.map((r) => r.flexRefundId);
    const succeeded = known.filter((r) => r.status === 'succeeded');
    const total = known.reduce((sum, r) => sum + (r.amountMinor ?? 0), 0);
    const amountsKnown = known.every((r) => r.amountMinor !== null);

    if (succeeded.length === known.length && (!amountsKnown || total === refund.amountMinor)) {
      if (!(await repos.refunds.decide(refund.id, { status: 'SUCCEEDED' }, now))) return 'already_decided';
      await repos.payments.addEvent(refund.paymentSessionId, 'refund_succeeded', { amountMinor: refund.amountMinor, currency: refund.currency, evidence, flexRefundIds: ids, refundSessionId: refund.id });
      await reportOperationResolved(repos.jobs, 'refund', refund, now);
      this.deps.logger.info({ refundSessionId: refund.id, flexRefundIds: ids, evidence }, 'refund succeeded in Flex');
      return 'resolved';
    }
    if (succeeded.length === 0) {
      const ends = [...new Set(known.map((r) => r.status))].join(' / ');
      const reason = flexRefunds.map((r) => stringField(r, 'failure_reason')).find(Boolean);
      const merchantMessage =
        `Flex could not complete the refund of ${formatMoney(refund.amountMinor, refund.currency)}: it ended ${ends}${reason ? ` (${reason})` : ''}. ` +
        'No money was returned to the buyer; you can try the refund again.';
      if (!(await repos.refunds.decide(refund.id, { status: 'FAILED', rejectionCode: REFUND_REJECTION_CODE, rejectionMessage: merchantMessage }, now))) return 'already_decided';
      await repos.payments.addEvent(refund.paymentSessionId, 'refund_failed', { merchantMessage, flexStatus: ends, evidence, flexRefundIds: ids, refundSessionId: refund.id });
      await reportOperationRejected(repos.jobs, 'refund', refund, { code: REFUND_REJECTION_CODE, merchantMessage }, now);
      this.deps.logger.warn({ refundSessionId: refund.id, flexRefundIds: ids, flexStatus: ends, evidence }, 'refund failed in Flex');
      return 'failed';
    }
    const why = succeeded.length === known.length
      ? `Flex refunded ${formatMoney(total, refund.currency)} but Shopify asked for ${formatMoney(refund.amountMinor, refund.currency)}`
      : `Flex refunds ended differently: ${known.map((r) => `${r.flexRefundId} ${r.status}`).join(', ')}`;
    await repos.refunds.stopPolling(refund.id);
    await repos.payments.addEvent(refund.paymentSessionId, 'refund_needs_attention', { why, evidence, flexRefundIds: ids, refundSessionId: refund.id });
    this.deps.logger.error({ refundSessionId: refund.id, why }, 'refund needs attention');
    return 'needs_attention';
  }
}

function stringField(object: Record<string, unknown>, key: string): string | undefined {
  const value = object[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
