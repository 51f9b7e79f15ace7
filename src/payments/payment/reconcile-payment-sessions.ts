import type { Repositories } from '../../db/repositories';
import type { PaymentSessionRecord } from '../../db/repositories/payment-sessions';
import { FlexApiError, type FlexClient } from '../../flex/flex-client';
import type { Clock } from '../../lib/clock';
import { withLogContext } from '../../lib/log-context';
import type { Logger } from '../../lib/logger';
import { decidePaymentOutcome } from './decide-payment-outcome';
import type { PaymentOutcomes } from './payment-outcomes';
import { isDatabaseUnavailable } from '../../lib/database-unavailable';

export interface ReconcilerDeps {
  repos: Repositories;
  flex: FlexClient;
  outcomes: PaymentOutcomes;
  clock: Clock;
  logger: Logger;
  apiVersion: string;
  /** Sessions claimed at a time (default 100). */
  batchSize?: number;
  /** Flex reads in flight at once, per instance (default 8). */
  concurrency?: number;
  /** First wait between checks of a checkout Flex still has open; doubles up to maxCheckIntervalMs. */
  checkIntervalMs: number;
  maxCheckIntervalMs?: number;
  /** First wait after a read that failed (Flex down, timeout); doubles up to maxCheckIntervalMs / 4. */
  failedReadRetryMs?: number;
  /** A pass stops claiming new batches after this long, so that a stop is never kept waiting long (default 20 s). */
  passBudgetMs?: number;
}

/** What one pass did: the periodic task runs the next pass at once while `more` is true. */
export interface ReconcilePass {
  looked: number;
  more: boolean;
}

/** A shop's Flex key that answered 429: its sessions wait until Flex says to come back. */
interface KeyPause {
  until: number;
}

/**
 * Finalizes payments whose buyer never came back and whose webhook never arrived, by asking Flex.
 *
 * The pay page sets each session's first check about a minute after the Flex checkout is made
 * (RECONCILE_AFTER_SECONDS), when payment has become possible. A pass claims due sessions in batches
 * (moving their next check forward, with SKIP LOCKED, so that other instances take other sessions),
 * reads each from Flex with a few reads in flight, and applies the decision. A checkout still open
 * is looked at again later, less and less often, until Flex expires it; a failed read is retried
 * sooner. A backlog (after an outage) is drained batch after batch, as fast as Flex allows: a 429
 * pauses that Flex key (rate limits are per account and mode) for the Retry-After Flex gives, the
 * other shops carrying on.
 */
export class ReconcilePaymentSessions {
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly maxCheckIntervalMs: number;
  private readonly failedReadRetryMs: number;
  private readonly passBudgetMs: number;

  constructor(private readonly deps: ReconcilerDeps) {
    this.batchSize = deps.batchSize ?? 100;
    this.concurrency = deps.concurrency ?? 8;
    this.maxCheckIntervalMs = deps.maxCheckIntervalMs ?? 30 * 60 * 1000;
    this.failedReadRetryMs = deps.failedReadRetryMs ?? Math.max(1, Math.round(deps.checkIntervalMs / 4));
    this.passBudgetMs = deps.passBudgetMs ?? 20_000;
  }

  /** Claims and reconciles due sessions batch after batch until none is due or the pass's budget is spent. */
  async runOnce(): Promise<ReconcilePass> {
    const started = Date.now();
    const pauses = new Map<string, KeyPause>();
    let looked = 0;
    for (;;) {
      const now = this.deps.clock.now();
      // The lease: long enough for a batch at worst-case Flex timeouts; a crashed instance's claims
      // come due again after it.
      const due = await this.deps.repos.payments.claimDueForReconciliation(now, this.batchSize, 2 * 60 * 1000);
      looked += due.length;
      await this.inParallel(due, (payment) => this.reconcileLogged(payment, pauses));
      const full = due.length === this.batchSize;
      if (!full) return { looked, more: false };
      if (Date.now() - started >= this.passBudgetMs) return { looked, more: true };
    }
  }

  private async inParallel(payments: PaymentSessionRecord[], work: (payment: PaymentSessionRecord) => Promise<void>): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < payments.length) await work(payments[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, payments.length) }, lane));
  }

  private reconcileLogged(payment: PaymentSessionRecord, pauses: Map<string, KeyPause>): Promise<void> {
    return withLogContext({ paymentSessionId: payment.id, shopId: payment.shopId }, async () => {
      try {
        await this.reconcile(payment, pauses);
      } catch (error) {
        // The database is gone: the rest of the pass would fail the same way; the task backs off.
        if (isDatabaseUnavailable(error)) throw error;
        this.deps.logger.error({ err: error }, 'reconciliation of a payment session failed');
        await this.deps.repos.payments.scheduleReconciliation(payment.id, this.afterFailedRead(payment)).catch(() => undefined);
      }
    });
  }

  private async reconcile(payment: PaymentSessionRecord, pauses: Map<string, KeyPause>): Promise<void> {
    const { repos, clock } = this.deps;
    if (!payment.flexCheckoutSessionId) {
      // The pay page has not made the Flex checkout: nothing to ask Flex. The pay page schedules
      // the first check when it does.
      await repos.payments.scheduleReconciliation(payment.id, null);
      return;
    }
    const mode = payment.test ? 'TEST' : 'LIVE';
    const pauseKey = `${payment.shopId}:${mode}`;
    const pause = pauses.get(pauseKey);
    if (pause && pause.until > Date.now()) {
      await repos.payments.scheduleReconciliation(payment.id, new Date(clock.now().getTime() + (pause.until - Date.now())));
      return;
    }
    const connection = await repos.flexConnections.find(payment.shopId, mode);
    if (!connection) {
      await repos.payments.scheduleReconciliation(payment.id, this.afterOpenCheck(payment));
      return;
    }
    try {
      const checkout = await this.deps.flex.forKey(connection.apiKey).getCheckoutSession(payment.flexCheckoutSessionId);
      const decision = decidePaymentOutcome({ payment, checkout, now: clock.now(), apiVersion: this.deps.apiVersion });
      const result = await this.deps.outcomes.apply(payment, decision, 'RECONCILER');
      if (result.applied) this.deps.logger.info({ decision: decision.type }, 'reconciler finalized a payment session');
      else await repos.payments.scheduleReconciliation(payment.id, this.afterOpenCheck(payment));
    } catch (error) {
      if (!(error instanceof FlexApiError)) throw error;
      if (error.status === 429) {
        const waitMs = error.retryAfterMs ?? 1000;
        pauses.set(pauseKey, { until: Date.now() + waitMs });
        await repos.payments.scheduleReconciliation(payment.id, new Date(clock.now().getTime() + waitMs));
        return;
      }
      this.deps.logger.warn({ flexError: { kind: error.kind, status: error.status } }, 'reconciler could not read the Flex checkout');
      await repos.payments.scheduleReconciliation(payment.id, this.afterFailedRead(payment));
    }
  }

  /** Flex has the checkout open: look again later, less and less often. */
  private afterOpenCheck(payment: PaymentSessionRecord): Date {
    return this.later(this.deps.checkIntervalMs, payment.reconcileAttempts, this.maxCheckIntervalMs);
  }

  /** The read failed: the payment may well be paid, so look again soon, backing off while Flex is down. */
  private afterFailedRead(payment: PaymentSessionRecord): Date {
    return this.later(this.failedReadRetryMs, payment.reconcileAttempts, Math.max(this.failedReadRetryMs, this.maxCheckIntervalMs / 4));
  }

  private later(baseMs: number, attempts: number, capMs: number): Date {
    const interval = Math.min(capMs, baseMs * 2 ** Math.min(20, Math.max(0, attempts - 1)));
    return new Date(this.deps.clock.now().getTime() + interval);
  }
}
