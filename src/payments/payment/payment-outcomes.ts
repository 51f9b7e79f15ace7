import type { Prisma } from '@prisma/client';
import type { Repositories } from '../../db/repositories';
import type { NewJob } from '../../db/repositories/jobs';
import type { DecisionSource, DecisionWrite, PaymentSessionRecord, PaymentStatus } from '../../db/repositories/payment-sessions';
import type { Transactor } from '../../db/transactor';
import type { Clock } from '../../lib/clock';
import type { FlexCheckoutSessionId, PaymentId, ShopifySessionId } from '../../lib/ids';
import type { Logger } from '../../lib/logger';
import { enqueueJob, newJob } from '../../outbox/job-type';
import { reportDedupeKey, reportToShopifyJob, type SessionMutation } from '../report-to-shopify';
import type { PaymentDecision } from './decide-payment-outcome';
import { CANCEL_GROUP_CHECKOUTS, RETURN_LATE_PAYMENT } from './late-payment';

export type ApplyResult =
  /** `flexDeliveryOutcomeRecorded`: the Flex delivery's outcome ("applied") was written with the decision. */
  | { applied: true; flexDeliveryOutcomeRecorded: boolean }
  | { applied: false; reason: 'already_decided' | 'nothing_to_do' | 'needs_attention' | 'paid_after_decision' };

/**
 * Turns a decision about a payment into state and a Shopify mutation, in one transaction: the
 * session row is updated only if no final decision was made before (so buyer return, webhook and
 * reconciler can race and the first wins), and the mutation is written to the outbox with it.
 *
 * Money that arrives after a decision is never lost silently. When Flex shows the buyer paid a
 * checkout whose Shopify session was already rejected (an expiry at the boundary, clock skew, a
 * split cart finishing late), or a second checkout of a Shopify checkout that another one already
 * paid, the payment is flagged for the merchant and the money goes back (late-payment.ts). And once
 * one checkout of a group is paid, the group's other open Flex checkouts are canceled, so the buyer
 * cannot pay twice.
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
    // Every statement of a decision is SQL as written (the webhook runs it in its own SQL transaction too).
    return this.deps.transactor.runSql((repos) => this.applyWithin(repos, payment, decision, source));
  }

  /**
   * The same, inside a caller's transaction. The Flex webhook records its delivery in the same one,
   * and passes `flexDeliveryId`: the outcome "applied" is then recorded on the delivery in the
   * decision's statement (`flexDeliveryOutcomeRecorded`), and any other outcome is the caller's to record.
   */
  async applyWithin(
    repos: Repositories,
    payment: PaymentSessionRecord,
    decision: PaymentDecision,
    source: DecisionSource,
    flexCheckoutSessionId?: FlexCheckoutSessionId,
    flexDeliveryId?: string,
  ): Promise<ApplyResult> {
    const now = this.deps.clock.now();
    const log = this.deps.logger.child({ paymentSessionId: payment.id, shopifyPaymentSessionId: payment.shopifyId, source });
    // Each decision is written with its timeline event and the outbox job that carries it to Shopify
    // in one statement, only if no decision was written before (and a delivery's outcome with it).
    const write = (event: { type: string; detail: Prisma.InputJsonValue }, job: NewJob): DecisionWrite => ({
      source,
      now,
      flexCheckoutSessionId,
      event,
      job,
      flexDeliveryOutcome: flexDeliveryId ? { deliveryId: flexDeliveryId, outcome: 'applied' } : undefined,
    });
    // A decision that takes the buyer's money is made under the group's lock, and only if no other
    // payment of the group took it; it closes the group's other open Flex checkouts.
    const inGroup = (w: DecisionWrite): DecisionWrite => ({ ...w, group: { shopId: payment.shopId, groupId: payment.groupId, closeJob: this.closeGroupJob(payment, now) } });
    if (decision.type === 'resolve' || decision.type === 'pending') await repos.payments.lockGroup(payment.shopId, payment.groupId);
    switch (decision.type) {
      case 'resolve': {
        const variables: Record<string, unknown> = {};
        if (payment.kind === 'AUTHORIZATION' && decision.authorizationExpiresAt) variables.authorizationExpiresAt = decision.authorizationExpiresAt.toISOString();
        const written = await repos.payments.decideFinal(
          payment.id,
          { status: 'RESOLVED', authorizationExpiresAt: decision.authorizationExpiresAt },
          inGroup(
            write(
              { type: 'decided_resolve', detail: { source, authorizationExpiresAt: decision.authorizationExpiresAt?.toISOString() ?? null } },
              this.report(payment, 'paymentSessionResolve', variables, now),
            ),
          ),
        );
        if (written.paidSibling) return this.secondPaymentOfGroup(repos, payment, written.paidSibling, source, now, flexCheckoutSessionId);
        if (!written.won) return this.moneyAfterDecision(repos, payment, 'Flex completed the checkout', now);
        log.info('payment decided: resolve');
        return { applied: true, flexDeliveryOutcomeRecorded: written.flexDeliveryOutcomeRecorded };
      }
      case 'reject': {
        const reason = { code: decision.code, merchantMessage: decision.merchantMessage };
        const written = await repos.payments.decideFinal(
          payment.id,
          { status: 'REJECTED', rejectionCode: decision.code, rejectionMessage: decision.merchantMessage },
          write({ type: 'decided_reject', detail: { source, ...reason } }, this.report(payment, 'paymentSessionReject', { reason }, now)),
        );
        if (!written.won) return { applied: false, reason: 'already_decided' };
        log.info({ code: decision.code }, 'payment decided: reject');
        return { applied: true, flexDeliveryOutcomeRecorded: written.flexDeliveryOutcomeRecorded };
      }
      case 'pending': {
        const pendingExpiresAt = decision.pendingExpiresAt.toISOString();
        const written = await repos.payments.decidePending(
          payment.id,
          decision.pendingExpiresAt,
          new Date(now.getTime() + this.deps.reconcileRetryMs),
          inGroup(
            write(
              { type: 'decided_pending', detail: { source, pendingExpiresAt } },
              this.report(payment, 'paymentSessionPending', { pendingExpiresAt, reason: 'PARTNER_ACTION_REQUIRED' }, now),
            ),
          ),
        );
        if (written.paidSibling) return this.secondPaymentOfGroup(repos, payment, written.paidSibling, source, now, flexCheckoutSessionId);
        if (!written.won) return this.moneyAfterDecision(repos, payment, 'Flex shows a payment in progress', now);
        log.info('payment decided: pending');
        return { applied: true, flexDeliveryOutcomeRecorded: written.flexDeliveryOutcomeRecorded };
      }
      case 'needs_attention':
        await repos.payments.addEvent(payment.id, 'needs_attention', { source, why: decision.why });
        log.error({ why: decision.why }, 'payment needs attention');
        return { applied: false, reason: 'needs_attention' };
      case 'wait':
        return { applied: false, reason: 'nothing_to_do' };
    }
  }

  /** Flex shows money for a payment decided before: if the app had rejected it, the money goes back. */
  private async moneyAfterDecision(repos: Repositories, payment: PaymentSessionRecord, what: string, now: Date): Promise<ApplyResult> {
    const current = await repos.payments.findById(payment.id);
    if (current?.status !== 'REJECTED') return { applied: false, reason: 'already_decided' };
    await this.returnMoney(repos, current, `${what} after the app had rejected the Shopify session (${current.rejectionMessage ?? current.rejectionCode ?? 'rejected'})`, now);
    return { applied: false, reason: 'paid_after_decision' };
  }

  /**
   * The buyer paid a second Flex checkout of one Shopify checkout: the first stays, this one's
   * Shopify session is rejected (Shopify keeps one payment per group) and its money goes back.
   */
  private async secondPaymentOfGroup(
    repos: Repositories,
    payment: PaymentSessionRecord,
    kept: { id: PaymentId; shopifyId: ShopifySessionId },
    source: DecisionSource,
    now: Date,
    flexCheckoutSessionId?: FlexCheckoutSessionId,
  ): Promise<ApplyResult> {
    const merchantMessage = `The buyer paid this checkout twice with Flex; payment ${kept.shopifyId} was kept and this one is returned to the buyer.`;
    const reason = { code: 'PROCESSING_ERROR' as const, merchantMessage };
    await repos.payments.decideFinal(
      payment.id,
      { status: 'REJECTED', rejectionCode: 'PROCESSING_ERROR', rejectionMessage: merchantMessage },
      { source, now, flexCheckoutSessionId, event: { type: 'decided_reject', detail: { source, ...reason } }, job: this.report(payment, 'paymentSessionReject', { reason }, now) },
    );
    const current = (await repos.payments.findById(payment.id))!;
    if (current.status === 'REJECTED') await this.returnMoney(repos, current, `another Flex checkout of the same Shopify checkout (payment ${kept.shopifyId}) was already paid`, now);
    return { applied: false, reason: 'paid_after_decision' };
  }

  private async returnMoney(repos: Repositories, payment: PaymentSessionRecord, why: string, now: Date): Promise<void> {
    if (!(await repos.payments.markPaidAfterDecision(payment.id, now))) return;
    await repos.payments.addEvent(payment.id, 'flex_paid_after_decision', { why });
    await enqueueJob(repos.jobs, RETURN_LATE_PAYMENT, { paymentId: payment.id }, {
      dedupeKey: `${RETURN_LATE_PAYMENT.kind}:${payment.id}`,
      shopId: payment.shopId,
      subject: { type: 'payment_session', id: payment.id },
      runAt: now,
    });
    this.deps.logger.warn({ paymentSessionId: payment.id, why }, 'Flex took money after the payment was decided; returning it');
  }

  /**
   * The group is paid: its other open Flex checkouts are canceled, so the buyer cannot pay twice.
   * Written with the decision when another payment of the group has one (decideFinal's `group`); the
   * job reads them again when it runs.
   */
  private closeGroupJob(payment: PaymentSessionRecord, now: Date): NewJob {
    return newJob(CANCEL_GROUP_CHECKOUTS, { paymentId: payment.id }, {
      dedupeKey: `${CANCEL_GROUP_CHECKOUTS.kind}:${payment.id}`,
      shopId: payment.shopId,
      subject: { type: 'payment_session', id: payment.id },
      runAt: now,
    });
  }

  /** The outbox job that tells Shopify a decision, written with it (decideFinal, decidePending). */
  private report(payment: PaymentSessionRecord, mutation: SessionMutation, variables: Record<string, unknown>, now: Date): NewJob {
    return reportToShopifyJob('payment', payment, mutation, variables, now);
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
