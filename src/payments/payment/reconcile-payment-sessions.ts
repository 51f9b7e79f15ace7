import type { Repositories } from '../../db/repositories';
import { FlexApiError, type FlexClient } from '../../flex/flex-client';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { decidePaymentOutcome } from './decide-payment-outcome';
import type { PaymentOutcomes } from './payment-outcomes';
import type { PaymentSessionRecord } from '../../db/repositories/payment-sessions';
import { isDatabaseUnavailable } from '../../lib/database-unavailable';

export interface ReconcilerDeps {
  repos: Repositories;
  flex: FlexClient;
  outcomes: PaymentOutcomes;
  clock: Clock;
  logger: Logger;
  apiVersion: string;
  /** Sessions claimed per pass. */
  batchSize?: number;
  /** First wait between checks of a session that is still open; doubles up to maxCheckIntervalMs. */
  checkIntervalMs: number;
  maxCheckIntervalMs?: number;
}

/**
 * Finalizes payments whose buyer never came back and whose webhook never arrived, by asking Flex.
 *
 * Each session carries the time of its next check. A pass claims due sessions (moving that time
 * forward, so other instances skip them), reads each from Flex and applies the decision; a session
 * Flex still has open is checked again later, less and less often, until Flex expires it.
 */
export class ReconcilePaymentSessions {
  private readonly batchSize: number;
  private readonly maxCheckIntervalMs: number;

  constructor(private readonly deps: ReconcilerDeps) {
    this.batchSize = deps.batchSize ?? 25;
    this.maxCheckIntervalMs = deps.maxCheckIntervalMs ?? 60 * 60 * 1000;
  }

  /** One pass; returns how many sessions it looked at. */
  async runOnce(): Promise<number> {
    const now = this.deps.clock.now();
    const due = await this.deps.repos.payments.claimDueForReconciliation(now, this.batchSize, 5 * 60 * 1000);
    for (const payment of due) {
      try {
        await this.reconcile(payment);
      } catch (error) {
        // The database is gone: the rest of the pass would fail the same way; the task backs off.
        if (isDatabaseUnavailable(error)) throw error;
        this.deps.logger.error({ err: error, paymentSessionId: payment.id }, 'reconciliation of a payment session failed');
      }
    }
    return due.length;
  }

  private async reconcile(payment: PaymentSessionRecord): Promise<void> {
    const { repos, clock } = this.deps;
    if (!payment.flexCheckoutSessionId) {
      await repos.payments.scheduleReconciliation(payment.id, null);
      return;
    }
    const connection = await repos.flexConnections.find(payment.shopId, payment.test ? 'TEST' : 'LIVE');
    if (!connection) {
      await repos.payments.scheduleReconciliation(payment.id, this.nextCheck(payment));
      return;
    }
    try {
      const checkout = await this.deps.flex.forKey(connection.apiKey).getCheckoutSession(payment.flexCheckoutSessionId);
      const decision = decidePaymentOutcome({ payment, checkout, now: clock.now(), apiVersion: this.deps.apiVersion });
      const result = await this.deps.outcomes.apply(payment, decision, 'RECONCILER');
      if (!result.applied) await repos.payments.scheduleReconciliation(payment.id, this.nextCheck(payment));
      if (result.applied) this.deps.logger.info({ paymentSessionId: payment.id, decision: decision.type }, 'reconciler finalized a payment session');
    } catch (error) {
      if (!(error instanceof FlexApiError)) throw error;
      this.deps.logger.warn({ paymentSessionId: payment.id, flexError: { kind: error.kind, status: error.status } }, 'reconciler could not read the Flex checkout');
      await repos.payments.scheduleReconciliation(payment.id, this.nextCheck(payment));
    }
  }

  private nextCheck(payment: PaymentSessionRecord): Date {
    const interval = Math.min(this.maxCheckIntervalMs, this.deps.checkIntervalMs * 2 ** Math.max(0, payment.reconcileAttempts - 1));
    return new Date(this.deps.clock.now().getTime() + interval);
  }
}
