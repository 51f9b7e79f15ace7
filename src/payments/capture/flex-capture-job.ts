import type { Repositories, Transactor } from '../../db/repositories';
import type { FlexClient } from '../../flex/flex-client';
import type { FlexCheckoutSession } from '../../flex/flex-types';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { JobRecord } from '../../outbox/job-repository';
import type { JobHandler, JobResult } from '../../outbox/outbox-worker';
import { enqueueFollowUpReject, enqueueFollowUpResolve, FLEX_JOB_KIND, flexIdempotencyKey, flexReason, flexTargetFor, isDefiniteRefusal, isFlexError, retryUnknownFlexOutcome, type FlexJobPayload } from '../follow-up-outbox';
import { money } from '../refund/refund-outcomes';
import type { CaptureSessionRecord } from './capture-session-repository';
import type { CaptureRejectionCode } from './receive-capture-session';

/** The key our capture session id travels under in Flex's capture_metadata. */
export const CAPTURE_METADATA_KEY = 'capture_id';

/**
 * Captures a stored capture session in Flex: `POST /v1/checkout/sessions/{id}/capture` with the
 * amount and final_capture, our capture id in capture_metadata, and an Idempotency-Key derived from
 * the Shopify capture session id; then captureSessionResolve.
 *
 * An unknown outcome (timeout, 5xx, 429, 409 in progress, refused key) is retried with the same
 * key; before asking again the job reads the checkout session and adopts a capture that carries our
 * id. A definite 4xx is a rejection: `authorization_expired` → AUTHORIZATION_EXPIRED, anything else
 * → PROCESSING_ERROR with Flex's reason.
 */
export class FlexCaptureJob implements JobHandler {
  readonly kind = FLEX_JOB_KIND.capture;

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
    const capture = await repos.captures.findById(sessionId);
    if (!capture) return { status: 'failed', error: `capture session ${sessionId} no longer exists` };
    if (capture.status !== 'RECEIVED') return { status: 'succeeded', result: { skipped: capture.status } };

    const target = await flexTargetFor(repos, this.deps.flex, capture);
    if (!target.ok) {
      if ('result' in target) return target.result;
      await this.reject(capture, 'PROCESSING_ERROR', target.refuse, {});
      return { status: 'succeeded', result: { refused: target.refuse } };
    }

    let flexCaptureId: string | null | undefined;
    try {
      if (job.attempts > 1) flexCaptureId = captureIdIn(await target.flex.getCheckoutSession(target.checkoutSessionId), capture.id);
      if (flexCaptureId === undefined) {
        const checkout = await target.flex.captureCheckoutSession(
          target.checkoutSessionId,
          {
            amount: capture.amountMinor,
            final_capture: capture.finalCapture,
            capture_metadata: { [CAPTURE_METADATA_KEY]: capture.id, shopify_capture_session_id: capture.shopifyId, shopify_capture_session_gid: capture.gid },
          },
          flexIdempotencyKey('capture', target.shopDomain, capture.shopifyId),
        );
        flexCaptureId = captureIdIn(checkout, capture.id) ?? null;
      }
    } catch (error) {
      if (!isFlexError(error)) throw error;
      if (!isDefiniteRefusal(error)) return retryUnknownFlexOutcome(repos, this.deps.clock, this.deps.logger, 'capture', target, capture.id, error);
      const expired = error.code === 'authorization_expired';
      const merchantMessage = expired
        ? 'The authorization expired and Flex released the hold; it can no longer be captured.'
        : `Flex refused to capture ${money(capture)}: ${flexReason(error)}.`;
      await this.reject(capture, expired ? 'AUTHORIZATION_EXPIRED' : 'PROCESSING_ERROR', merchantMessage, { flexStatus: error.status ?? null, flexCode: error.code ?? null });
      this.deps.logger.warn({ captureSessionId: capture.id, flexError: { status: error.status, code: error.code } }, 'Flex refused the capture');
      return { status: 'succeeded', result: { refused: error.code ?? String(error.status) } };
    }

    const now = this.deps.clock.now();
    const decided = await this.deps.transactor.run(async (tx) => {
      if (!(await tx.captures.succeed(capture.id, flexCaptureId ?? null, now))) return false;
      await tx.payments.addEvent(capture.paymentSessionId, 'capture_succeeded', {
        amountMinor: capture.amountMinor,
        currency: capture.currency,
        finalCapture: capture.finalCapture,
        flexCaptureId: flexCaptureId ?? null,
        captureSessionId: capture.id,
      });
      await enqueueFollowUpResolve(tx.jobs, 'capture', capture, now);
      return true;
    });
    if (decided) this.deps.onJobEnqueued?.();
    if (target.connection.keyRejectedAt) await repos.flexConnections.clearKeyRejected(target.connection.id);
    return { status: 'succeeded', result: { flexCaptureId: flexCaptureId ?? null } };
  }

  async onGaveUp(job: JobRecord, error: string): Promise<void> {
    const { sessionId } = job.payload as unknown as FlexJobPayload;
    const capture = await this.deps.repos.captures.findById(sessionId);
    if (!capture) return;
    await this.deps.repos.payments.addEvent(capture.paymentSessionId, 'capture_needs_attention', { why: error, captureSessionId: capture.id });
  }

  private async reject(capture: CaptureSessionRecord, code: CaptureRejectionCode, merchantMessage: string, detail: Record<string, string | number | null>): Promise<void> {
    const now = this.deps.clock.now();
    const decided = await this.deps.transactor.run(async (tx) => {
      if (!(await tx.captures.reject(capture.id, code, merchantMessage, now))) return false;
      await tx.payments.addEvent(capture.paymentSessionId, 'capture_rejected', { merchantMessage, code, by: 'flex', ...detail, captureSessionId: capture.id });
      await enqueueFollowUpReject(tx.jobs, 'capture', capture, { code, merchantMessage }, now);
      return true;
    });
    if (decided) this.deps.onJobEnqueued?.();
  }
}

/** The id of the capture in `checkout` that carries our capture session id, if there is one. */
function captureIdIn(checkout: FlexCheckoutSession, captureSessionId: string): string | undefined {
  for (const item of checkout.captures ?? []) {
    if (!item || typeof item !== 'object') continue;
    const capture = item as { capture_id?: unknown; metadata?: Record<string, unknown> | null };
    if (capture.metadata?.[CAPTURE_METADATA_KEY] === captureSessionId && typeof capture.capture_id === 'string') return capture.capture_id;
  }
  return undefined;
}
