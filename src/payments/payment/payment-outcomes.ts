import type { Repositories } from '../../db/repositories';
import type { JobRecord } from '../../db/repositories/jobs';
import type { DecisionSource, PaymentSessionRecord, PaymentStatus } from '../../db/repositories/payment-sessions';
import type { Transactor } from '../../db/transactor';
import type { Clock } from '../../lib/clock';
import type { FlexCheckoutSessionId } from '../../lib/ids';
import type { Logger } from '../../lib/logger';
import { reportDedupeKey, reportToShopify, type SessionMutation } from '../report-to-shopify';
import type { PaymentDecision } from './decide-payment-outcome';

export type ApplyResult =
  | { applied: true; job: JobRecord }
  | { applied: false; reason: 'already_decided' | 'nothing_to_do' | 'needs_attention' };

/**
 * Turns a decision about a payment into state and a Shopify mutation, in one transaction: the
 * session row is updated only if no final decision was made before (so buyer return, webhook and
 * reconciler can race and the first wins), and the mutation is written to the outbox with it.
 */
export class PaymentOutcomes {
  constructor(
    private readonly deps: {
      transactor: Transactor;
      clock: Clock;
      logger: Logger;
      reconcileRetryMs: number;
    },
  ) {}

  apply(payment: PaymentSessionRecord, decision: PaymentDecision, source: DecisionSource): Promise<ApplyResult> {
    return this.deps.transactor.run((repos) => this.applyWithin(repos, payment, decision, source));
  }

  /** The same, inside a caller's transaction (the webhook records its delivery in the same one). */
  async applyWithin(repos: Repositories, payment: PaymentSessionRecord, decision: PaymentDecision, source: DecisionSource, flexCheckoutSessionId?: FlexCheckoutSessionId): Promise<ApplyResult> {
    const now = this.deps.clock.now();
    const log = this.deps.logger.child({ paymentSessionId: payment.id, shopifyPaymentSessionId: payment.shopifyId, source });
    switch (decision.type) {
      case 'resolve': {
        const won = await repos.payments.decideFinal(payment.id, { status: 'RESOLVED', authorizationExpiresAt: decision.authorizationExpiresAt }, source, now, flexCheckoutSessionId);
        if (!won) return { applied: false, reason: 'already_decided' };
        await repos.payments.addEvent(payment.id, 'decided_resolve', { source, authorizationExpiresAt: decision.authorizationExpiresAt?.toISOString() ?? null });
        const variables: Record<string, unknown> = {};
        if (payment.kind === 'AUTHORIZATION' && decision.authorizationExpiresAt) variables.authorizationExpiresAt = decision.authorizationExpiresAt.toISOString();
        log.info('payment decided: resolve');
        return { applied: true, job: await this.enqueue(repos, payment, 'paymentSessionResolve', variables, now) };
      }
      case 'reject': {
        const won = await repos.payments.decideFinal(
          payment.id,
          { status: 'REJECTED', rejectionCode: decision.code, rejectionMessage: decision.merchantMessage },
          source,
          now,
          flexCheckoutSessionId,
        );
        if (!won) return { applied: false, reason: 'already_decided' };
        await repos.payments.addEvent(payment.id, 'decided_reject', { source, code: decision.code, merchantMessage: decision.merchantMessage });
        log.info({ code: decision.code }, 'payment decided: reject');
        return {
          applied: true,
          job: await this.enqueue(repos, payment, 'paymentSessionReject', { reason: { code: decision.code, merchantMessage: decision.merchantMessage } }, now),
        };
      }
      case 'pending': {
        const nextCheck = new Date(now.getTime() + this.deps.reconcileRetryMs);
        const won = await repos.payments.decidePending(payment.id, decision.pendingExpiresAt, source, now, nextCheck);
        if (!won) return { applied: false, reason: 'already_decided' };
        await repos.payments.addEvent(payment.id, 'decided_pending', { source, pendingExpiresAt: decision.pendingExpiresAt.toISOString() });
        log.info('payment decided: pending');
        return {
          applied: true,
          job: await this.enqueue(
            repos,
            payment,
            'paymentSessionPending',
            { pendingExpiresAt: decision.pendingExpiresAt.toISOString(), reason: 'PARTNER_ACTION_REQUIRED' },
            now,
          ),
        };
      }
      case 'needs_attention':
        await repos.payments.addEvent(payment.id, 'needs_attention', { source, why: decision.why });
        log.error({ why: decision.why }, 'payment needs attention');
        return { applied: false, reason: 'needs_attention' };
      case 'wait':
        return { applied: false, reason: 'nothing_to_do' };
    }
  }

  private enqueue(repos: Repositories, payment: PaymentSessionRecord, mutation: SessionMutation, variables: Record<string, unknown>, now: Date): Promise<JobRecord> {
    return reportToShopify(repos.jobs, 'payment', payment, mutation, variables, now);
  }
}

/** The outbox job that carries the decision a payment is in. */
export function decisionJobKey(status: PaymentStatus, gid: string): string | undefined {
  const mutation: Partial<Record<PaymentStatus, SessionMutation>> = {
    RESOLVED: 'paymentSessionResolve',
    REJECTED: 'paymentSessionReject',
    PENDING: 'paymentSessionPending',
  };
  const name = mutation[status];
  return name ? reportDedupeKey(name, gid) : undefined;
}
