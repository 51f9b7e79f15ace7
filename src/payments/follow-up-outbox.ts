import type { Prisma } from '@prisma/client';
import type { Repositories } from '../db/repositories';
import { FlexApiError, type FlexAccountClient, type FlexClient } from '../flex/flex-client';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { JobRecord, JobRepository } from '../outbox/job-repository';
import type { JobResult } from '../outbox/outbox-worker';
import { enqueueShopifyMutation, type MutationSubjectHooks } from '../outbox/shopify-mutation-job';
import type { MutationSubject } from '../shopify/payments-api-client';
import type { PaymentsMutationName } from '../shopify/payments-mutations';
import type { FlexConnectionWithSecrets } from '../shops/flex-connection-repository';
import type { FollowUpKind } from './follow-up-request';
import type { PaymentSessionRecord, PaymentSessionRepository } from './payment-session-repository';

/**
 * How refund, capture and void sessions use the outbox: one job per session carries the Flex call
 * (written in the transaction that stored the session), and the Shopify mutation that reports the
 * outcome is another job (written in the transaction that decided it).
 */

/** Subject types of the Shopify mutation jobs, and the keys of their hooks. */
export const FOLLOW_UP_SUBJECT: Record<FollowUpKind, string> = {
  refund: 'refund_session',
  capture: 'capture_session',
  void: 'void_session',
};

/** Outbox job kinds of the Flex calls. */
export const FLEX_JOB_KIND: Record<FollowUpKind, string> = {
  refund: 'flex.refund',
  capture: 'flex.capture',
  void: 'flex.void',
};

const MUTATIONS: Record<FollowUpKind, { resolve: PaymentsMutationName; reject: PaymentsMutationName }> = {
  refund: { resolve: 'refundSessionResolve', reject: 'refundSessionReject' },
  capture: { resolve: 'captureSessionResolve', reject: 'captureSessionReject' },
  void: { resolve: 'voidSessionResolve', reject: 'voidSessionReject' },
};

/** The Idempotency-Key of a session's Flex call: derived from Shopify's id, the same on every retry. */
export function flexIdempotencyKey(kind: FollowUpKind, shopDomain: string, shopifyId: string): string {
  return `shopify-${kind}-session:${shopDomain}:${shopifyId}`;
}

export interface FlexJobPayload {
  sessionId: string;
}

interface SessionRef {
  id: string;
  shopId: string;
  gid: string;
}

export function enqueueFlexJob(jobs: JobRepository, kind: FollowUpKind, session: SessionRef, now: Date): Promise<JobRecord> {
  const payload: FlexJobPayload = { sessionId: session.id };
  return jobs.enqueue({
    kind: FLEX_JOB_KIND[kind],
    dedupeKey: `${FLEX_JOB_KIND[kind]}:${session.id}`,
    payload: payload as unknown as Prisma.InputJsonValue,
    shopId: session.shopId,
    subjectType: FOLLOW_UP_SUBJECT[kind],
    subjectId: session.id,
    runAt: now,
  });
}

export function enqueueFollowUpResolve(jobs: JobRepository, kind: FollowUpKind, session: SessionRef, now: Date): Promise<JobRecord> {
  return enqueueShopifyMutation(jobs, {
    shopId: session.shopId,
    mutation: MUTATIONS[kind].resolve,
    variables: { id: session.gid },
    subject: { type: FOLLOW_UP_SUBJECT[kind], id: session.id },
    now,
  });
}

export function enqueueFollowUpReject(
  jobs: JobRepository,
  kind: FollowUpKind,
  session: SessionRef,
  reason: { code: string; merchantMessage: string },
  now: Date,
): Promise<JobRecord> {
  return enqueueShopifyMutation(jobs, {
    shopId: session.shopId,
    mutation: MUTATIONS[kind].reject,
    variables: { id: session.gid, reason },
    subject: { type: FOLLOW_UP_SUBJECT[kind], id: session.id },
    now,
  });
}

/** What a follow-up's Flex job needs before calling Flex, or why it cannot call yet. */
export type FlexTarget =
  | { ok: true; payment: PaymentSessionRecord; shopDomain: string; checkoutSessionId: string; connection: FlexConnectionWithSecrets; flex: FlexAccountClient }
  | { ok: false; result: JobResult }
  | { ok: false; refuse: string };

export async function flexTargetFor(repos: Repositories, flex: FlexClient, session: { shopId: string; paymentSessionId: string; test: boolean }): Promise<FlexTarget> {
  const [payment, shop] = await Promise.all([repos.payments.findById(session.paymentSessionId), repos.shops.findById(session.shopId)]);
  if (!payment || !shop) return { ok: false, result: { status: 'failed', error: 'the payment or the shop no longer exists' } };
  if (!payment.flexCheckoutSessionId) return { ok: false, refuse: `Payment ${payment.shopifyId} has no Flex checkout session.` };
  const connection = await repos.flexConnections.find(session.shopId, session.test ? 'TEST' : 'LIVE');
  // The merchant may be reconnecting Flex; the job retries until its deadline.
  if (!connection) return { ok: false, result: { status: 'retry', error: `no Flex ${session.test ? 'test' : 'live'} connection for the shop` } };
  return { ok: true, payment, shopDomain: shop.domain, checkoutSessionId: payment.flexCheckoutSessionId, connection, flex: flex.forKey(connection.apiKey) };
}

/**
 * A Flex call whose outcome is unknown (timeout, network, 429, 5xx, request in progress) or whose
 * key was refused: retry later with the same Idempotency-Key, never reject. Recorded on the
 * payment's timeline so the merchant and on-call can see why it is taking long.
 */
export async function retryUnknownFlexOutcome(
  repos: Repositories,
  clock: Clock,
  logger: Logger,
  kind: FollowUpKind,
  target: { payment: PaymentSessionRecord; connection: FlexConnectionWithSecrets },
  sessionId: string,
  error: FlexApiError,
): Promise<JobResult> {
  if (error.kind === 'unauthorized') await repos.flexConnections.markKeyRejected(target.connection.id, clock.now());
  await repos.payments.addEvent(target.payment.id, `${kind}_waiting_for_flex`, {
    message: error.message,
    willRetry: true,
    kind: error.kind,
    status: error.status ?? null,
    code: error.code ?? null,
    [`${kind}SessionId`]: sessionId,
  });
  logger.warn({ [`${kind}SessionId`]: sessionId, flexError: { kind: error.kind, status: error.status, code: error.code } }, `Flex ${kind} outcome unknown; will retry with the same idempotency key`);
  return { status: 'retry', error: error.message, retryAfterMs: error.retryAfterMs };
}

/** True for a Flex answer that settles the request: a definite refusal (4xx other than 401/403/429). */
export function isDefiniteRefusal(error: FlexApiError): boolean {
  return error.kind === 'rejected' || error.kind === 'not_found';
}

export function isFlexError(error: unknown): error is FlexApiError {
  return error instanceof FlexApiError;
}

/** Flex's own words for a refusal, for a merchant message (without the client's "Flex rejected…" prefix). */
export function flexReason(error: FlexApiError): string {
  const reason = error.message.replace(/^Flex rejected the request \(\d+\): /, '').replace(/^Flex object not found: /, '');
  return `${reason} (HTTP ${error.status ?? '?'})`;
}

/**
 * Records on the session and on the payment's timeline what Shopify acknowledged.
 */
export class FollowUpMutationHooks implements MutationSubjectHooks {
  constructor(
    private readonly kind: FollowUpKind,
    private readonly sessions: { findById(id: string): Promise<{ paymentSessionId: string } | null>; recordShopifyState(id: string, state: string): Promise<void> },
    private readonly payments: PaymentSessionRepository,
    private readonly logger: Logger,
  ) {}

  async onAcknowledged(sessionId: string, mutation: PaymentsMutationName, subject: MutationSubject | null, alreadyInState: boolean): Promise<void> {
    const session = await this.sessions.findById(sessionId);
    if (!session) return;
    const state = subject?.state?.code ?? (mutation === MUTATIONS[this.kind].resolve ? 'RESOLVED' : 'REJECTED');
    await this.sessions.recordShopifyState(sessionId, state);
    await this.payments.addEvent(session.paymentSessionId, 'shopify_acknowledged', { mutation, state, alreadyInState, [`${this.kind}SessionId`]: sessionId });
    this.logger.info({ [`${this.kind}SessionId`]: sessionId, mutation, state }, `Shopify acknowledged the ${this.kind} session mutation`);
  }

  async onGaveUp(sessionId: string, mutation: PaymentsMutationName, error: string): Promise<void> {
    const session = await this.sessions.findById(sessionId);
    if (!session) return;
    await this.payments.addEvent(session.paymentSessionId, 'shopify_mutation_needs_attention', { mutation, error, [`${this.kind}SessionId`]: sessionId });
  }
}
