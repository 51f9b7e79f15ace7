import { z } from 'zod';
import type { Repositories } from '../../db/repositories';
import type { FlexConnectionWithSecrets } from '../../db/repositories/flex-connections';
import type { JobRecord } from '../../db/repositories/jobs';
import type { PaymentSessionRecord } from '../../db/repositories/payment-sessions';
import type { Transactor } from '../../db/transactor';
import { FlexApiError, type FlexAccountClient, type FlexClient } from '../../flex/flex-client';
import type { Clock } from '../../lib/clock';
import type { PaymentId, ShopDomain } from '../../lib/ids';
import type { Logger } from '../../lib/logger';
import { defineJobType, type JobType } from '../../outbox/job-type';
import { recordWhileLeaseLasts, type JobHandler, type JobResult } from '../../outbox/outbox-worker';
import { operationRef, operationSessions, reportOperationRejected, type OperationKind, type Refusal } from '../report-to-shopify';

/**
 * The Flex call of a refund, capture or void, made from an outbox job (never while Shopify waits),
 * with an Idempotency-Key derived from Shopify's session id. What the three share lives here:
 *
 * - the target: the payment's Flex checkout session and the connection of the payment's mode;
 * - a Flex answer is either **definite** (done; or refused outright with a 4xx other than 401/403/
 *   429) or **unknown** (timeout, network error, 429, 5xx, 409 in progress, refused key): unknown is
 *   retried with the same key, and is never turned into a rejection;
 * - before calling again after an unknown outcome, the job looks for what Flex already did for this
 *   session (our id in the object's metadata), so a lost answer is adopted rather than repeated;
 *   a lookup that fails, whatever its status, is unknown too;
 * - a refusal of a call made after an unknown outcome may be caused by that earlier attempt
 *   (already captured, exceeds refundable): the job looks again and ends in success, or in the hands
 *   of a person, never in a reject that would free the amount for a second refund or capture.
 */

const payload = z.object({ sessionId: z.string() });
export type FlexOperationPayload = z.infer<typeof payload>;

/** Outbox job types of the Flex calls. */
export const FLEX_OPERATION_JOB: Record<OperationKind, JobType<FlexOperationPayload>> = {
  refund: defineJobType('flex.refund', payload),
  capture: defineJobType('flex.capture', payload),
  void: defineJobType('flex.void', payload),
};

/** The Idempotency-Key of an operation's Flex call: derived from Shopify's id, the same on every retry. */
export function flexIdempotencyKey(kind: OperationKind, shopDomain: string, shopifyId: string): string {
  return `shopify-${kind}-session:${shopDomain}:${shopifyId}`;
}

/** What an operation's Flex call is aimed at. */
export interface FlexTarget {
  payment: PaymentSessionRecord;
  shopDomain: ShopDomain;
  checkoutSessionId: string;
  connection: FlexConnectionWithSecrets;
  flex: FlexAccountClient;
}

export interface OperationSession {
  id: string;
  shopId: string;
  paymentSessionId: PaymentId;
  shopifyId: string;
  gid: string;
  test: boolean;
  status: string;
}

export type Evidence = 'flex_response' | 'flex_lookup';

/** The part of an operation's Flex job that differs by kind. */
export interface FlexOperation<S extends OperationSession, Done> {
  readonly kind: OperationKind;
  /**
   * Flex answers a repeat of the call as the first time (a void of a canceled session): an unknown
   * outcome is then simply retried, and Flex's state is read only to explain a refusal.
   */
  readonly repeatable?: boolean;
  load(repos: Repositories, id: string): Promise<S | null>;
  /**
   * Runs before the first Flex call, to decide once what the call will send (a refund's lines):
   * `ready` with the session as it now is, `wait` to be run again shortly, or `refuse` (nothing was
   * sent to Flex; the session is rejected with this refusal).
   */
  prepare?(session: S, now: Date): Promise<{ ready: S } | { wait: string; retryAfterMs: number } | { refuse: Refusal }>;
  /** What Flex already did for this session, if anything (undefined: nothing of ours found). */
  lookUp(target: FlexTarget, session: S): Promise<Done | undefined>;
  /** The mutating call. */
  call(target: FlexTarget, session: S, idempotencyKey: string): Promise<Done>;
  /** Records Flex's answer (state, timeline, Shopify mutation) in the given transaction. */
  record(tx: Repositories, session: S, done: Done, context: { evidence: Evidence; now: Date }): Promise<void>;
  /** What the merchant reads when Flex refused the call outright. */
  refusal(error: FlexApiError, session: S): Refusal;
  /** A short summary of Flex's answer for the job's result. */
  summarize(done: Done): Record<string, string | number | boolean | null | string[]>;
}

export class FlexOperationJob<S extends OperationSession, Done> implements JobHandler<FlexOperationPayload> {
  readonly type: JobType<FlexOperationPayload>;

  constructor(
    private readonly deps: { transactor: Transactor; flex: FlexClient; clock: Clock; logger: Logger },
    private readonly operation: FlexOperation<S, Done>,
  ) {
    this.type = FLEX_OPERATION_JOB[operation.kind];
  }

  private get kind(): OperationKind {
    return this.operation.kind;
  }

  async handle(job: JobRecord, { sessionId }: FlexOperationPayload): Promise<JobResult> {
    const { repos } = this.deps.transactor;
    const session = await this.operation.load(repos, sessionId);
    if (!session) return { status: 'failed', error: `${this.kind} session ${sessionId} no longer exists` };
    if (session.status !== 'RECEIVED') return { status: 'succeeded', result: { skipped: session.status } };

    const target = await this.targetOf(repos, session);
    if ('retry' in target) return { status: 'retry', error: target.retry };
    if ('refuse' in target) {
      await this.reject(session, { code: 'PROCESSING_ERROR', merchantMessage: target.refuse }, {});
      return { status: 'succeeded', result: { refused: target.refuse } };
    }

    let prepared = session;
    if (this.operation.prepare) {
      const preparation = await this.operation.prepare(session, this.deps.clock.now());
      if ('wait' in preparation) return { status: 'retry', error: preparation.wait, retryAfterMs: preparation.retryAfterMs };
      if ('refuse' in preparation) {
        await this.reject(session, preparation.refuse, {});
        return { status: 'succeeded', result: { refused: preparation.refuse.merchantMessage } };
      }
      prepared = preparation.ready;
    }
    return this.callFlex(job, prepared, target);
  }

  private async callFlex(job: JobRecord, session: S, target: FlexTarget): Promise<JobResult> {
    const { repos } = this.deps.transactor;
    // Any earlier run may have reached Flex: its outcome is unknown until Flex says what it did.
    const earlierAttempt = job.attempts > 1;
    let done: Done | undefined;
    let evidence: Evidence = 'flex_lookup';
    try {
      if (earlierAttempt && !this.operation.repeatable) done = await this.operation.lookUp(target, session);
    } catch (error) {
      if (error instanceof FlexApiError) return this.unknownOutcome(target, session, error, 'lookup');
      throw error;
    }
    if (done === undefined) {
      try {
        done = await this.operation.call(target, session, flexIdempotencyKey(this.kind, target.shopDomain, session.shopifyId));
        evidence = 'flex_response';
      } catch (error) {
        if (!(error instanceof FlexApiError)) throw error;
        if (!isDefiniteRefusal(error)) return this.unknownOutcome(target, session, error, 'call');
        if (!earlierAttempt) {
          const refusal = this.operation.refusal(error, session);
          await this.reject(session, refusal, { flexStatus: error.status ?? null, flexCode: error.code ?? null });
          this.deps.logger.warn({ ...operationRef(this.kind, session.id), flexError: { status: error.status, code: error.code } }, `Flex refused the ${this.kind}`);
          return { status: 'succeeded', result: { refused: error.code ?? String(error.status) } };
        }
        try {
          done = await this.operation.lookUp(target, session);
        } catch (lookupError) {
          if (lookupError instanceof FlexApiError) return this.unknownOutcome(target, session, lookupError, 'lookup');
          throw lookupError;
        }
        if (done === undefined) {
          return {
            status: 'failed',
            error:
              `Flex refused a retry of this ${this.kind} (${error.status ?? '?'} ${error.code ?? ''}: ${error.message}) after an earlier attempt whose outcome ` +
              'is unknown, and shows nothing of ours: check in the Flex dashboard whether it went through before deciding.',
          };
        }
      }
    }

    const answer = done;
    const now = this.deps.clock.now();
    // Flex has done it: a short database outage now must not make the job call Flex again.
    await recordWhileLeaseLasts(job, this.deps.clock, async () => {
      await this.deps.transactor.run((tx) => this.operation.record(tx, session, answer, { evidence, now }));
      if (target.connection.keyRejectedAt) await repos.flexConnections.clearKeyRejected(target.connection.id);
    });
    return { status: 'succeeded', result: { ...this.operation.summarize(answer), evidence } };
  }

  async onGaveUp(_job: JobRecord, { sessionId }: FlexOperationPayload, error: string): Promise<void> {
    const { repos } = this.deps.transactor;
    const session = await this.operation.load(repos, sessionId);
    if (!session) return;
    // Flex may have carried it out: the operation keeps holding its amount until a person settles it.
    await repos.payments.addEvent(session.paymentSessionId, `${this.kind}_needs_attention`, { why: error, ...operationRef(this.kind, session.id) });
  }

  private async targetOf(repos: Repositories, session: S): Promise<FlexTarget | { retry: string } | { refuse: string }> {
    const [payment, shop] = await Promise.all([repos.payments.findById(session.paymentSessionId), repos.shops.findById(session.shopId)]);
    if (!payment || !shop) return { retry: 'the payment or the shop no longer exists' };
    if (!payment.flexCheckoutSessionId) return { refuse: `Payment ${payment.shopifyId} has no Flex checkout session.` };
    const mode = session.test ? 'TEST' : 'LIVE';
    const connection = await repos.flexConnections.find(session.shopId, mode);
    // The merchant may be reconnecting Flex; the job retries until its deadline.
    if (!connection) return { retry: `no Flex ${mode.toLowerCase()} connection for the shop` };
    return { payment, shopDomain: shop.domain, checkoutSessionId: payment.flexCheckoutSessionId, connection, flex: this.deps.flex.forKey(connection.apiKey) };
  }

  /** Refused (by the app before calling, or by Flex outright): nothing moved; Shopify is told why. */
  private async reject(session: S, refusal: Refusal, detail: Record<string, string | number | null>): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.transactor.run(async (tx) => {
      if (!(await operationSessions(tx, this.kind).reject(session.id, refusal.code, refusal.merchantMessage, now))) return;
      await tx.payments.addEvent(session.paymentSessionId, `${this.kind}_rejected`, { merchantMessage: refusal.merchantMessage, code: refusal.code, by: 'flex', ...detail, ...operationRef(this.kind, session.id) });
      await reportOperationRejected(tx.jobs, this.kind, session, refusal, now);
    });
  }

  /**
   * Unknown (timeout, network, 429, 5xx, request in progress, a failed lookup) or a refused key: retry
   * later with the same Idempotency-Key, never reject. On the timeline, so the merchant and on-call
   * can see why it is taking long.
   */
  private async unknownOutcome(target: FlexTarget, session: S, error: FlexApiError, during: 'call' | 'lookup'): Promise<JobResult> {
    const { repos } = this.deps.transactor;
    if (error.kind === 'unauthorized') await repos.flexConnections.markKeyRejected(target.connection.id, this.deps.clock.now());
    await repos.payments.addEvent(session.paymentSessionId, `${this.kind}_waiting_for_flex`, {
      message: error.message,
      willRetry: true,
      during,
      kind: error.kind,
      status: error.status ?? null,
      code: error.code ?? null,
      ...operationRef(this.kind, session.id),
    });
    this.deps.logger.warn(
      { ...operationRef(this.kind, session.id), during, flexError: { kind: error.kind, status: error.status, code: error.code } },
      `Flex ${this.kind} outcome unknown; will retry with the same idempotency key`,
    );
    return { status: 'retry', error: error.message, retryAfterMs: error.retryAfterMs };
  }
}

/** True for a Flex answer that settles the request: a refusal (4xx other than 401/403/429). */
export function isDefiniteRefusal(error: FlexApiError): boolean {
  return error.kind === 'rejected' || error.kind === 'not_found';
}

/** Flex's own words for a refusal, for a merchant message (without the client's "Flex rejected…" prefix). */
export function flexReason(error: FlexApiError): string {
  const reason = error.message.replace(/^Flex rejected the request \(\d+\): /, '').replace(/^Flex object not found: /, '');
  return `${reason} (HTTP ${error.status ?? '?'})`;
}
