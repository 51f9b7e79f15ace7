import type { Repositories } from '../../db/repositories';
import { FlexApiError, type FlexClient } from '../../flex/flex-client';
import type { Clock } from '../../lib/clock';
import { paymentIdFrom, type PaymentId } from '../../lib/ids';
import type { Logger } from '../../lib/logger';
import { sleep } from '../../lib/sleep';
import type { OutboxWorker } from '../../outbox/outbox-worker';
import type { DecisionSource, PaymentSessionRecord } from '../../db/repositories/payment-sessions';
import { decidePaymentOutcome } from './decide-payment-outcome';
import { decisionJobKey, type PaymentOutcomes } from './payment-outcomes';

export type BuyerReturnOutcome =
  | { type: 'redirect'; url: string }
  | { type: 'processing'; payment: PaymentSessionRecord }
  /** Flex shows no payment yet: the buyer may still be paying, or came here without paying. */
  | { type: 'waiting_for_flex'; payment: PaymentSessionRecord }
  | { type: 'not_found' };

export interface BuyerReturnDeps {
  repos: Repositories;
  flex: FlexClient;
  outcomes: PaymentOutcomes;
  worker: OutboxWorker;
  clock: Clock;
  logger: Logger;
  apiVersion: string;
  /** Inline attempts at the Shopify mutation while the buyer waits, before the processing page. */
  inlineAttempts?: number;
}

/**
 * The buyer comes back from Flex, through the success URL (paid, we hope) or the cancel URL.
 *
 * The redirect itself proves nothing: the app reads the checkout session from Flex and decides on
 * Flex's word. Then it tries to deliver the decision to Shopify while the buyer waits, so it can
 * send them straight on to Shopify's next page; if Shopify is slow, the buyer sees a page that
 * refreshes until the outbox has delivered it.
 */
export class HandleBuyerReturn {
  private readonly inlineAttempts: number;

  constructor(private readonly deps: BuyerReturnDeps) {
    this.inlineAttempts = deps.inlineAttempts ?? 3;
  }

  /** Back through the success URL. */
  async returned(paymentSessionId: string): Promise<BuyerReturnOutcome> {
    const id = paymentIdFrom(paymentSessionId);
    const payment = id ? await this.deps.repos.payments.findById(id) : null;
    if (!payment) return { type: 'not_found' };
    if (!payment.buyerReturnedAt) {
      await this.deps.repos.payments.recordBuyerReturn(payment.id, this.deps.clock.now());
      await this.deps.repos.payments.addEvent(payment.id, 'buyer_returned');
    }
    await this.decideFromFlex(payment, 'BUYER_RETURN');
    return this.nextStep(payment.id, undefined);
  }

  /**
   * Back through the cancel URL: the buyer gave up on Flex for now. Unless Flex ended the checkout
   * (a decline, an expiry), the Shopify session stays open so the buyer can pay again; they go back
   * to Shopify's checkout.
   */
  async canceled(paymentSessionId: string): Promise<BuyerReturnOutcome> {
    const id = paymentIdFrom(paymentSessionId);
    const payment = id ? await this.deps.repos.payments.findById(id) : null;
    if (!payment) return { type: 'not_found' };
    await this.deps.repos.payments.recordBuyerCancel(payment.id, this.deps.clock.now());
    await this.deps.repos.payments.addEvent(payment.id, 'buyer_canceled');
    await this.decideFromFlex(payment, 'BUYER_CANCEL');
    return this.nextStep(payment.id, payment.cancelUrl);
  }

  private async decideFromFlex(payment: PaymentSessionRecord, source: DecisionSource): Promise<void> {
    if (!payment.flexCheckoutSessionId || (payment.status !== 'CHECKOUT_CREATED' && payment.status !== 'PENDING')) return;
    const connection = await this.deps.repos.flexConnections.find(payment.shopId, payment.test ? 'TEST' : 'LIVE');
    if (!connection) return;
    try {
      const checkout = await this.deps.flex.forKey(connection.apiKey).getCheckoutSession(payment.flexCheckoutSessionId);
      const decision = decidePaymentOutcome({ payment, checkout, now: this.deps.clock.now(), apiVersion: this.deps.apiVersion });
      await this.deps.outcomes.apply(payment, decision, source);
    } catch (error) {
      if (!(error instanceof FlexApiError)) throw error;
      // The webhook or the reconciler will settle it; the buyer sees the processing page meanwhile.
      this.deps.logger.warn({ paymentSessionId: payment.id, flexError: { kind: error.kind, status: error.status } }, 'could not read the Flex checkout on the buyer’s return');
    }
  }

  /** Where a buyer goes now for a payment that was decided (the pay page opened again, say). */
  async current(paymentSessionId: PaymentId): Promise<BuyerReturnOutcome> {
    const payment = await this.deps.repos.payments.findById(paymentSessionId);
    if (!payment) return { type: 'not_found' };
    return this.nextStep(payment.id, payment.cancelUrl);
  }

  private async nextStep(paymentSessionId: PaymentId, fallbackUrl: string | undefined): Promise<BuyerReturnOutcome> {
    let payment = (await this.deps.repos.payments.findById(paymentSessionId))!;
    const dedupeKey = decisionJobKey(payment.status, payment.gid);
    if (!dedupeKey) {
      return fallbackUrl ? { type: 'redirect', url: fallbackUrl } : { type: 'waiting_for_flex', payment };
    }
    if (payment.shopifyState !== payment.status) {
      const job = await this.deps.repos.jobs.findByDedupeKey(dedupeKey);
      if (job && job.status !== 'SUCCEEDED') {
        for (let attempt = 1; attempt <= this.inlineAttempts; attempt++) {
          const result = await this.deps.worker.runNow(job.id);
          if (result === 'succeeded' || result === 'needs_attention' || result === 'not_found') break;
          if (attempt < this.inlineAttempts) await sleep(250 * attempt);
        }
      }
      // Read again even when the job was already done: the worker may have delivered it (and recorded
      // Shopify's answer) between the first read and the job's, and the buyer must not wait for that.
      payment = (await this.deps.repos.payments.findById(paymentSessionId))!;
    }
    const acknowledged = payment.shopifyState === payment.status;
    if (acknowledged && payment.nextActionUrl) return { type: 'redirect', url: payment.nextActionUrl };
    // A rejected session the buyer left: back to Shopify's checkout even if Shopify has not heard yet.
    if (fallbackUrl && payment.status === 'REJECTED') return { type: 'redirect', url: fallbackUrl };
    return { type: 'processing', payment };
  }
}
