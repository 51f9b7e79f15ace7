import { z } from 'zod';
import type { ClaimedJob, JobRecord, JobRepository, JobSucceeded, NewJob } from '../db/repositories/jobs';
import type { Repositories } from '../db/repositories';
import type { Transactor } from '../db/transactor';
import type { PaymentId } from '../lib/ids';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { AppMetrics, SessionOutcome } from '../lib/metrics';
import { defineJobType, newJob } from '../outbox/job-type';
import { recordWhileLeaseLasts, type JobHandler, type JobResult } from '../outbox/outbox-worker';
import type { ShopifyAccessTokens } from '../shopify/access-tokens';
import type { MutationSubject, ShopifyPaymentsApiClient } from '../shopify/payments-api-client';
import { MUTATION_TARGET_STATE, type PaymentsMutationName } from '../shopify/payments-mutations';

/**
 * Answering Shopify: every outcome of a payment, refund, capture or void session reaches Shopify as
 * a Payments Apps mutation sent by this outbox job, written in the same transaction as the decision.
 * Shopify dedupes per (session, mutation) and so do we: one job per decision, retried until Shopify
 * acknowledges it or refuses it for good (then a person looks).
 */

export type SessionKind = 'payment' | 'refund' | 'capture' | 'void';
export type OperationKind = Exclude<SessionKind, 'payment'>;

const SESSION_MUTATIONS = [
  'paymentSessionResolve',
  'paymentSessionReject',
  'paymentSessionPending',
  'refundSessionResolve',
  'refundSessionReject',
  'captureSessionResolve',
  'captureSessionReject',
  'voidSessionResolve',
  'voidSessionReject',
] as const satisfies readonly PaymentsMutationName[];
export type SessionMutation = (typeof SESSION_MUTATIONS)[number];

/** Outbox subject type of each session kind (the value stored on jobs). */
export const SESSION_SUBJECT = { payment: 'payment_session', refund: 'refund_session', capture: 'capture_session', void: 'void_session' } as const;
const KIND_OF_SUBJECT = Object.fromEntries(Object.entries(SESSION_SUBJECT).map(([kind, subject]) => [subject, kind])) as Record<string, SessionKind>;

const OPERATION_MUTATIONS: Record<OperationKind, { resolve: SessionMutation; reject: SessionMutation }> = {
  refund: { resolve: 'refundSessionResolve', reject: 'refundSessionReject' },
  capture: { resolve: 'captureSessionResolve', reject: 'captureSessionReject' },
  void: { resolve: 'voidSessionResolve', reject: 'voidSessionReject' },
};

export const REPORT_TO_SHOPIFY = defineJobType(
  'shopify.payments-mutation',
  z.object({
    mutation: z.enum(SESSION_MUTATIONS),
    variables: z.record(z.string(), z.unknown()),
    shopId: z.string(),
    subject: z.object({ type: z.enum(Object.values(SESSION_SUBJECT) as [string, ...string[]]), id: z.string() }),
  }),
);
export type ReportToShopifyPayload = z.infer<typeof REPORT_TO_SHOPIFY.payload>;

interface SessionRef {
  id: string;
  shopId: string;
  gid: string;
}

/** The outbox job that carries a decision about a session (its dedupe key names the mutation and the gid). */
export function reportDedupeKey(mutation: SessionMutation, gid: string): string {
  return `shopify:${mutation}:${gid}`;
}

export function reportToShopify(jobs: JobRepository, kind: SessionKind, session: SessionRef, mutation: SessionMutation, variables: Record<string, unknown>, now: Date): Promise<JobRecord> {
  return jobs.enqueue(reportToShopifyJob(kind, session, mutation, variables, now));
}

/** The same job as a row, for the statement that writes the decision it carries (payment-outcomes.ts). */
export function reportToShopifyJob(kind: SessionKind, session: SessionRef, mutation: SessionMutation, variables: Record<string, unknown>, now: Date): NewJob {
  return newJob(REPORT_TO_SHOPIFY, { mutation, variables: { ...variables, id: session.gid }, shopId: session.shopId, subject: { type: SESSION_SUBJECT[kind], id: session.id } }, {
    dedupeKey: reportDedupeKey(mutation, session.gid),
    shopId: session.shopId,
    subject: { type: SESSION_SUBJECT[kind], id: session.id },
    runAt: now,
  });
}

/** A refund, capture or void is done in Flex: `…SessionResolve`. */
export function reportOperationResolved(jobs: JobRepository, kind: OperationKind, session: SessionRef, now: Date): Promise<JobRecord> {
  return reportToShopify(jobs, kind, session, OPERATION_MUTATIONS[kind].resolve, {}, now);
}

/** Why a refund, capture or void will not happen, as Shopify shows it to the merchant. */
export interface Refusal {
  code: string;
  merchantMessage: string;
}

/** A refund, capture or void will not happen: `…SessionReject` with the reason the merchant reads. */
export function reportOperationRejected(jobs: JobRepository, kind: OperationKind, session: SessionRef, reason: Refusal, now: Date): Promise<JobRecord> {
  return reportToShopify(jobs, kind, session, OPERATION_MUTATIONS[kind].reject, { reason }, now);
}

/** Sends one Payments Apps session mutation and records on the session what Shopify acknowledged. */
export class ReportToShopifyJob implements JobHandler<ReportToShopifyPayload> {
  readonly type = REPORT_TO_SHOPIFY;

  constructor(
    private readonly deps: {
      transactor: Transactor;
      tokens: ShopifyAccessTokens;
      client: ShopifyPaymentsApiClient;
      logger: Logger;
      metrics: AppMetrics;
      clock: Clock;
    },
  ) {}

  async handle(job: ClaimedJob, payload: ReportToShopifyPayload): Promise<JobResult> {
    const { repos } = this.deps.transactor;
    // The claim read the job's shop's domain and its offline token already; the shop and its token are
    // read only when that is not the payload's shop, or when there is no token to say why.
    const claimedShop = job.shopId === payload.shopId && job.shopDomain !== null;
    const shopDomain = claimedShop ? job.shopDomain : (await repos.shops.findById(payload.shopId))?.domain;
    if (!shopDomain) return { status: 'failed', error: 'shop no longer exists' };
    const token = claimedShop && job.sealedOfflineAccessToken !== null ? this.deps.tokens.openStored(shopDomain, job.sealedOfflineAccessToken) : await this.deps.tokens.forShop(shopDomain);
    if (!token) {
      const shop = await repos.shops.findById(payload.shopId);
      if (!shop) return { status: 'failed', error: 'shop no longer exists' };
      // Uninstalled: the outcome of money already moved is still Shopify's to hear. It waits for the
      // merchant to install the app again (then it goes through), or for a person once it runs out.
      return { status: 'retry', error: shop.status === 'UNINSTALLED' ? 'the app is uninstalled from this shop; waiting for it to be installed again' : 'no Shopify access token stored for this shop' };
    }
    const outcome = await this.deps.client.mutate(shopDomain, token, payload.mutation, payload.variables);
    switch (outcome.kind) {
      case 'acknowledged':
        // Counted when Shopify first takes the outcome (a repeat finds it already in that state).
        if (!outcome.alreadyInState) this.deps.metrics.sessionOutcome(KIND_OF_SUBJECT[payload.subject.type]!, outcomeOf(payload.mutation));
        // Shopify has it: a short database outage now must not make the job send it again.
        const result = { state: outcome.subject?.state?.code ?? null, alreadyInState: outcome.alreadyInState };
        // A payment's acknowledgement marks the job succeeded in its own statement (one round trip fewer).
        const succeeded = job.lockToken ? { id: job.id, lockToken: job.lockToken, now: this.deps.clock.now(), result } : undefined;
        const recorded = await recordWhileLeaseLasts(job, this.deps.clock, () => this.recordAcknowledged(repos, payload, outcome.subject, outcome.alreadyInState, succeeded));
        return { status: 'succeeded', result, recorded };
      case 'retry':
        return { status: 'retry', error: outcome.reason, retryAfterMs: outcome.retryAfterMs };
      case 'failed':
        return {
          status: 'failed',
          error: outcome.reason,
          result: { userErrors: outcome.userErrors.map((e) => ({ field: e.field ?? null, message: e.message, code: e.code ?? null })), state: outcome.subject?.state?.code ?? null },
        };
    }
  }

  async onGaveUp(_job: JobRecord, payload: ReportToShopifyPayload, error: string): Promise<void> {
    const { repos } = this.deps.transactor;
    const kind = KIND_OF_SUBJECT[payload.subject.type]!;
    const paymentId = await this.paymentOf(repos, kind, payload.subject.id);
    if (!paymentId) return;
    await repos.payments.addEvent(paymentId, 'shopify_mutation_needs_attention', { mutation: payload.mutation, error, ...operationRef(kind, payload.subject.id) });
  }

  /** True when the job's success was recorded with it (`succeeded`, for a payment session's mutation). */
  private async recordAcknowledged(repos: Repositories, payload: ReportToShopifyPayload, subject: MutationSubject | null, alreadyInState: boolean, succeeded?: JobSucceeded): Promise<boolean> {
    const kind = KIND_OF_SUBJECT[payload.subject.type]!;
    const state = subject?.state?.code ?? MUTATION_TARGET_STATE[payload.mutation]!;
    const sessionId = payload.subject.id;
    const event = { mutation: payload.mutation, state, alreadyInState, ...operationRef(kind, sessionId) };
    if (kind === 'payment') {
      // One statement: the state, unless a late "pending" acknowledgement would hide a final state
      // Shopify already confirmed, and the timeline event; nothing when the payment is gone.
      const recorded = await repos.payments.recordShopifyAcknowledged(
        sessionId as PaymentId,
        state,
        subject?.nextAction?.context?.redirectUrl ?? null,
        payload.mutation === 'paymentSessionPending',
        { type: 'shopify_acknowledged', detail: event },
        succeeded,
      );
      if (recorded) this.deps.logger.info({ paymentSessionId: sessionId, mutation: payload.mutation, state }, 'Shopify acknowledged the payment session mutation');
      return succeeded !== undefined;
    }
    const paymentId = await this.paymentOf(repos, kind, sessionId);
    if (!paymentId) return false;
    await operationSessions(repos, kind).recordShopifyState(sessionId, state);
    await repos.payments.addEvent(paymentId, 'shopify_acknowledged', event);
    this.deps.logger.info({ [`${kind}SessionId`]: sessionId, mutation: payload.mutation, state }, `Shopify acknowledged the ${kind} session mutation`);
    return false;
  }

  private async paymentOf(repos: Repositories, kind: SessionKind, sessionId: string): Promise<PaymentId | null> {
    if (kind === 'payment') return sessionId as PaymentId;
    return (await operationSessions(repos, kind).findById(sessionId))?.paymentSessionId ?? null;
  }
}

function outcomeOf(mutation: SessionMutation): SessionOutcome {
  return mutation.endsWith('Resolve') ? 'resolved' : mutation.endsWith('Reject') ? 'rejected' : 'pending';
}

/** The repository of one kind of operation (refund, capture, void). */
export function operationSessions(repos: Repositories, kind: OperationKind) {
  return kind === 'refund' ? repos.refunds : kind === 'capture' ? repos.captures : repos.voids;
}

/** How timeline events name the operation they are about (`refundSessionId: …`). */
export function operationRef(kind: SessionKind, sessionId: string): Record<string, string> {
  return kind === 'payment' ? {} : { [`${kind}SessionId`]: sessionId };
}
