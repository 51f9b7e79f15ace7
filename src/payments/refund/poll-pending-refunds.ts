import { FINAL_FLEX_REFUND_STATUSES, type RefundSessionRecord } from '../../db/repositories/refund-sessions';
import type { Transactor } from '../../db/transactor';
import { FlexApiError, type FlexClient } from '../../flex/flex-client';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { RefundOutcomes } from './refund-outcomes';
import { isDatabaseUnavailable } from '../../lib/database-unavailable';

export interface PollPendingRefundsDeps {
  transactor: Transactor;
  flex: FlexClient;
  outcomes: RefundOutcomes;
  clock: Clock;
  logger: Logger;
  /** First wait between checks of a refund still pending; doubles up to maxCheckIntervalMs. */
  checkIntervalMs: number;
  maxCheckIntervalMs?: number;
  batchSize?: number;
}

/**
 * Settles refunds whose webhooks were lost or late by asking Flex (`GET /v1/refunds/{id}`).
 *
 * Each pending refund session carries the time of its next check. A pass claims due ones (moving
 * that time forward, so other instances skip them), reads their Flex refunds and applies what Flex
 * says; a refund still pending is checked again later, less and less often (capped), for as long
 * as Flex keeps it pending.
 */
export class PollPendingRefunds {
  constructor(private readonly deps: PollPendingRefundsDeps) {}

  /** One pass; returns how many refund sessions it looked at. */
  async runOnce(): Promise<number> {
    const due = await this.deps.transactor.repos.refunds.claimDueForPolling(this.deps.clock.now(), this.deps.batchSize ?? 25, 5 * 60 * 1000);
    for (const refund of due) {
      try {
        await this.poll(refund);
      } catch (error) {
        // The database is gone: the rest of the pass would fail the same way; the task backs off.
        if (isDatabaseUnavailable(error)) throw error;
        this.deps.logger.error({ err: error, refundSessionId: refund.id }, 'polling a pending refund failed');
      }
    }
    return due.length;
  }

  private async poll(refund: RefundSessionRecord): Promise<void> {
    const { repos } = this.deps.transactor;
    const connection = await repos.flexConnections.find(refund.shopId, refund.test ? 'TEST' : 'LIVE');
    if (!connection) {
      await repos.refunds.schedulePoll(refund.id, this.nextCheck(refund));
      return;
    }
    const flex = this.deps.flex.forKey(connection.apiKey);
    const open = (await repos.refunds.listFlexRefunds(refund.id)).filter((r) => !FINAL_FLEX_REFUND_STATUSES.has(r.status));
    try {
      const fresh = await Promise.all(open.map((r) => flex.getRefund(r.flexRefundId)));
      const progress = await this.deps.transactor.run((tx) => this.deps.outcomes.recordFlexRefunds(tx, refund, fresh, 'poll'));
      if (progress === 'pending') await repos.refunds.schedulePoll(refund.id, this.nextCheck(refund));
    } catch (error) {
      if (!(error instanceof FlexApiError)) throw error;
      this.deps.logger.warn({ refundSessionId: refund.id, flexError: { kind: error.kind, status: error.status } }, 'could not read a pending refund from Flex');
      await repos.refunds.schedulePoll(refund.id, this.nextCheck(refund));
    }
  }

  private nextCheck(refund: RefundSessionRecord): Date {
    const interval = Math.min(this.deps.maxCheckIntervalMs ?? 60 * 60 * 1000, this.deps.checkIntervalMs * 2 ** Math.max(0, refund.pollAttempts - 1));
    return new Date(this.deps.clock.now().getTime() + interval);
  }
}
