import type { Repositories, Transactor } from '../../db/repositories';
import type { FlexClient } from '../../flex/flex-client';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { JobRecord } from '../../outbox/job-repository';
import type { JobHandler, JobResult } from '../../outbox/outbox-worker';
import { enqueueFollowUpReject, enqueueFollowUpResolve, FLEX_JOB_KIND, flexIdempotencyKey, flexReason, flexTargetFor, isDefiniteRefusal, isFlexError, retryUnknownFlexOutcome, type FlexJobPayload } from '../follow-up-outbox';
import type { VoidSessionRecord } from './void-session-repository';
import { VOID_REJECTION_CODE } from './receive-void-session';

/**
 * Cancels the authorization of a stored void session in Flex (`POST /v1/checkout/sessions/{id}/cancel`,
 * Idempotency-Key derived from the Shopify void session id), then voidSessionResolve. Canceling is
 * idempotent in Flex too (an already canceled session is answered unchanged), so an unknown outcome
 * is simply retried. A definite 4xx (e.g. `already_captured`) → voidSessionReject with Flex's reason.
 */
export class FlexVoidJob implements JobHandler {
  readonly kind = FLEX_JOB_KIND.void;

  constructor(
    private readonly deps: {
      repos: Repositories;
      transactor: Transactor;
      flex: FlexClient;
      clock: Clock;
      logger: Logger;
      onJobEnqueued?: () => void;
    },
  ) {}

  async handle(job: JobRecord): Promise<JobResult> {
    const { repos } = this.deps;
    const { sessionId } = job.payload as unknown as FlexJobPayload;
    const voidSession = await repos.voids.findById(sessionId);
    if (!voidSession) return { status: 'failed', error: `void session ${sessionId} no longer exists` };
    if (voidSession.status !== 'RECEIVED') return { status: 'succeeded', result: { skipped: voidSession.status } };

    const target = await flexTargetFor(repos, this.deps.flex, voidSession);
    if (!target.ok) {
      if ('result' in target) return target.result;
      await this.reject(voidSession, target.refuse, {});
      return { status: 'succeeded', result: { refused: target.refuse } };
    }

    let flexStatus: string;
    try {
      const checkout = await target.flex.cancelCheckoutSession(target.checkoutSessionId, flexIdempotencyKey('void', target.shopDomain, voidSession.shopifyId));
      flexStatus = checkout.status;
    } catch (error) {
      if (!isFlexError(error)) throw error;
      if (!isDefiniteRefusal(error)) return retryUnknownFlexOutcome(repos, this.deps.clock, this.deps.logger, 'void', target, voidSession.id, error);
      const merchantMessage =
        error.code === 'already_captured'
          ? 'Flex refused to void the authorization: money was already captured; refund it instead.'
          : `Flex refused to void the authorization: ${flexReason(error)}.`;
      await this.reject(voidSession, merchantMessage, { flexStatus: error.status ?? null, flexCode: error.code ?? null });
      this.deps.logger.warn({ voidSessionId: voidSession.id, flexError: { status: error.status, code: error.code } }, 'Flex refused the void');
      return { status: 'succeeded', result: { refused: error.code ?? String(error.status) } };
    }

    const now = this.deps.clock.now();
    const decided = await this.deps.transactor.run(async (tx) => {
      if (!(await tx.voids.succeed(voidSession.id, now))) return false;
      await tx.payments.addEvent(voidSession.paymentSessionId, 'void_succeeded', { flexStatus, voidSessionId: voidSession.id });
      await enqueueFollowUpResolve(tx.jobs, 'void', voidSession, now);
      return true;
    });
    if (decided) this.deps.onJobEnqueued?.();
    if (target.connection.keyRejectedAt) await repos.flexConnections.clearKeyRejected(target.connection.id);
    return { status: 'succeeded', result: { flexStatus } };
  }

  async onGaveUp(job: JobRecord, error: string): Promise<void> {
    const { sessionId } = job.payload as unknown as FlexJobPayload;
    const voidSession = await this.deps.repos.voids.findById(sessionId);
    if (!voidSession) return;
    await this.deps.repos.payments.addEvent(voidSession.paymentSessionId, 'void_needs_attention', { why: error, voidSessionId: voidSession.id });
  }

  private async reject(voidSession: VoidSessionRecord, merchantMessage: string, detail: Record<string, string | number | null>): Promise<void> {
    const now = this.deps.clock.now();
    const decided = await this.deps.transactor.run(async (tx) => {
      if (!(await tx.voids.reject(voidSession.id, VOID_REJECTION_CODE, merchantMessage, now))) return false;
      await tx.payments.addEvent(voidSession.paymentSessionId, 'void_rejected', { merchantMessage, by: 'flex', ...detail, voidSessionId: voidSession.id });
      await enqueueFollowUpReject(tx.jobs, 'void', voidSession, { code: VOID_REJECTION_CODE, merchantMessage }, now);
      return true;
    });
    if (decided) this.deps.onJobEnqueued?.();
  }
}
