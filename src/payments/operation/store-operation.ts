import type { Repositories } from '../../db/repositories';
import type { PaymentBalance } from '../../db/repositories/payment-ledger';
import type { PaymentSessionRecord } from '../../db/repositories/payment-sessions';
import type { Transactor } from '../../db/transactor';
import type { PaymentId } from '../../lib/ids';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { enqueueJob } from '../../outbox/job-type';
import { operationRef, operationSessions, reportOperationRejected, type OperationKind, type Refusal } from '../report-to-shopify';
import type { RequestProblem } from '../shopify-session-request';
import { FLEX_OPERATION_JOB } from './flex-operation-job';
import { findOperationPayment, parseOperationRequest, type OperationRequest, type RequestOfKind } from './operation-request';

/** The row fields every operation stores, whatever its kind. */
export interface StoredOperationFields {
  shopId: string;
  paymentSessionId: string;
  shopifyId: string;
  gid: string;
  test: boolean;
  merchantLocale: string | null;
  proposedAt: Date | null;
  rawRequest: OperationRequest['raw'];
  requestFingerprint: string;
  apiVersion: string;
  shopifyRequestId: string | null;
  status: 'RECEIVED' | 'REJECTED';
  rejectionCode?: string;
  rejectionMessage?: string;
  decidedAt?: Date;
  createdAt?: Date;
}

/** The small part of receiving an operation that differs by kind. */
export interface OperationPolicy<K extends OperationKind> {
  readonly kind: K;
  /** Whether the operation may go to Flex, judged on the payment's balance under its row lock. */
  refusal(payment: PaymentSessionRecord, balance: PaymentBalance, request: RequestOfKind<K>, now: Date): Refusal | null;
  /** Inserts the session with its kind's own columns; false when (shop, Shopify id) was taken meanwhile. */
  insert(repos: Repositories, fields: StoredOperationFields, request: RequestOfKind<K>, context: { payment: PaymentSessionRecord; balance: PaymentBalance }): Promise<boolean>;
}

export type ReceiveOperationResult =
  | { ok: true; sessionId: string; replayed: boolean; paymentSessionId?: PaymentId }
  | { ok: false; problem: RequestProblem; sessionId?: string; paymentSessionId?: PaymentId };

/**
 * Shopify asks for a refund, capture or void: store it once under (shop, Shopify id), decided
 * against the payment's balance under a row lock on the payment, with the job that will ask Flex
 * (or, when the app already knows it cannot be done, the Shopify reject) in the same transaction;
 * then answer 201 at once. A repeat, even a concurrent one, finds the stored row and gets the same
 * answer; the same id with other details is a conflict.
 */
export class ReceiveOperation<K extends OperationKind> {
  constructor(
    private readonly deps: { transactor: Transactor; clock: Clock; logger: Logger },
    private readonly policy: OperationPolicy<K>,
  ) {}

  async execute(headers: Record<string, string | string[] | undefined>, body: unknown): Promise<ReceiveOperationResult> {
    const { kind } = this.policy;
    const parsed = parseOperationRequest(kind, headers, body);
    if (!parsed.ok) return parsed;
    const request = parsed.value;
    const found = await findOperationPayment(this.deps.transactor.repos, request);
    if (!found.ok) return found;
    const { shop, payment } = found;

    const result = await this.deps.transactor.run(async (tx): Promise<ReceiveOperationResult> => {
      await tx.ledger.lock(payment.id);
      const sessions = operationSessions(tx, kind);
      const existing = await sessions.findByShopifyId(shop.id, request.id);
      if (existing) return { ...replayOrConflict(kind, existing, request), paymentSessionId: payment.id };

      const current = (await tx.payments.findById(payment.id))!;
      const balance = await tx.ledger.balance(current);
      const now = this.deps.clock.now();
      const refusal = this.policy.refusal(current, balance, request, now);
      const fields: StoredOperationFields = {
        shopId: shop.id,
        paymentSessionId: payment.id,
        shopifyId: request.id,
        gid: request.gid,
        test: request.test,
        merchantLocale: request.merchantLocale,
        proposedAt: request.proposedAt,
        rawRequest: request.raw,
        requestFingerprint: request.fingerprint,
        apiVersion: request.apiVersion,
        shopifyRequestId: request.shopifyRequestId,
        createdAt: now,
        ...(refusal ? { status: 'REJECTED', rejectionCode: refusal.code, rejectionMessage: refusal.merchantMessage, decidedAt: now } : { status: 'RECEIVED' }),
      };
      const inserted = await this.policy.insert(tx, fields, request, { payment: current, balance });
      const stored = (await sessions.findByShopifyId(shop.id, request.id))!;
      if (!inserted) return { ...replayOrConflict(kind, stored, request), paymentSessionId: payment.id };

      const shopifyIdKey = `shopify${kind.charAt(0).toUpperCase()}${kind.slice(1)}SessionId`;
      await tx.payments.addEvent(payment.id, `${kind}_received`, {
        ...amountOf(request),
        [shopifyIdKey]: request.id,
        shopifyRequestId: request.shopifyRequestId,
        ...operationRef(kind, stored.id),
      });
      if (refusal) {
        await tx.payments.addEvent(payment.id, `${kind}_rejected`, { merchantMessage: refusal.merchantMessage, code: refusal.code, by: 'app', ...operationRef(kind, stored.id) });
        await reportOperationRejected(tx.jobs, kind, stored, refusal, now);
      } else {
        await enqueueJob(tx.jobs, FLEX_OPERATION_JOB[kind], { sessionId: stored.id }, {
          dedupeKey: `${FLEX_OPERATION_JOB[kind].kind}:${stored.id}`,
          shopId: shop.id,
          subject: { type: `${kind}_session`, id: stored.id },
          runAt: now,
        });
      }
      return { ok: true, sessionId: stored.id, replayed: false, paymentSessionId: payment.id };
    });

    if (result.ok && !result.replayed) {
      this.deps.logger.info({ ...operationRef(kind, result.sessionId), paymentSessionId: payment.id }, `${kind} session received`);
    }
    return result;
  }
}

function amountOf(request: OperationRequest): { amountMinor?: number; currency?: string } {
  return request.kind === 'void' ? {} : { amountMinor: request.amountMinor, currency: request.currency };
}

/** The answer to a request whose (shop, id) was stored before: the same 201, unless the details differ. */
function replayOrConflict(kind: OperationKind, stored: { id: string; requestFingerprint: string }, request: OperationRequest): ReceiveOperationResult {
  if (stored.requestFingerprint !== request.fingerprint) {
    const name = `${kind.charAt(0).toUpperCase()}${kind.slice(1)}`;
    return {
      ok: false,
      sessionId: stored.id,
      problem: { status: 409, code: 'idempotency_conflict', message: `${name} session ${request.id} was already received with different details` },
    };
  }
  return { ok: true, sessionId: stored.id, replayed: true };
}
