import { z } from 'zod';
import type { JobRecord } from '../../db/repositories/jobs';
import type { PaymentSessionRecord } from '../../db/repositories/payment-sessions';
import type { Transactor } from '../../db/transactor';
import { FlexApiError, type FlexAccountClient, type FlexClient } from '../../flex/flex-client';
import type { Logger } from '../../lib/logger';
import { paymentIdFrom } from '../../lib/ids';
import { defineJobType } from '../../outbox/job-type';
import type { JobHandler, JobResult } from '../../outbox/outbox-worker';

/**
 * What happens to money Flex took after the app had decided a payment (payment-outcomes.ts): it
 * goes back to the buyer, exactly once, through Flex: a refund of what was charged, or the release
 * of an authorization. Idempotency keys are derived from the Shopify session id, and a retry after
 * an unknown outcome first looks for a refund carrying our id. When Flex refuses, a person decides
 * (the job needs attention and the settings page says so); an unknown outcome is only ever retried.
 *
 * And, so that it rarely comes to that: once one Flex checkout of a Shopify checkout is paid, the
 * other open checkouts of the same group are canceled in Flex.
 */
const paymentPayload = z.object({ paymentId: z.string() });
type PaymentPayload = z.infer<typeof paymentPayload>;

export const RETURN_LATE_PAYMENT = defineJobType('flex.return-late-payment', paymentPayload);
export const CANCEL_GROUP_CHECKOUTS = defineJobType('flex.cancel-group-checkouts', paymentPayload);

/** The key our payment id travels under in the metadata of a refund that returns late money. */
const LATE_PAYMENT_METADATA_KEY = 'late_payment_of';

interface Deps {
  transactor: Transactor;
  flex: FlexClient;
  logger: Logger;
}

async function flexFor(deps: Deps, payment: PaymentSessionRecord): Promise<{ flex: FlexAccountClient; shopDomain: string } | null> {
  const { repos } = deps.transactor;
  const shop = await repos.shops.findById(payment.shopId);
  const connection = shop ? await repos.flexConnections.find(shop.id, payment.test ? 'TEST' : 'LIVE') : null;
  return shop && connection ? { flex: deps.flex.forKey(connection.apiKey), shopDomain: shop.domain } : null;
}

async function paymentOf(deps: Deps, paymentId: string): Promise<PaymentSessionRecord | null> {
  const id = paymentIdFrom(paymentId);
  return id ? deps.transactor.repos.payments.findById(id) : null;
}

export class ReturnLatePaymentJob implements JobHandler<PaymentPayload> {
  readonly type = RETURN_LATE_PAYMENT;

  constructor(private readonly deps: Deps) {}

  async handle(_job: JobRecord, { paymentId }: PaymentPayload): Promise<JobResult> {
    const { repos } = this.deps.transactor;
    const payment = await paymentOf(this.deps, paymentId);
    if (!payment?.flexCheckoutSessionId) return { status: 'failed', error: `payment ${paymentId} has no Flex checkout to return money from` };
    const target = await flexFor(this.deps, payment);
    if (!target) return { status: 'retry', error: 'no Flex connection for the payment’s shop and mode' };
    const checkoutId = payment.flexCheckoutSessionId;
    try {
      const checkout = await target.flex.getCheckoutSession(checkoutId);
      if (checkout.status === 'paid') return { status: 'retry', error: 'Flex is still finishing this checkout; the money is returned once it is complete', retryAfterMs: 60_000 };
      if (checkout.status !== 'complete') {
        await repos.payments.addEvent(payment.id, 'late_payment_nothing_taken', { flexStatus: checkout.status });
        return { status: 'succeeded', result: { flexStatus: checkout.status } };
      }
      const received = checkout.amount_received ?? 0;
      if (checkout.capture_method === 'manual' && received === 0) {
        const canceled = await target.flex.cancelCheckoutSession(checkoutId, `return-late-payment:${target.shopDomain}:${payment.shopifyId}:void`);
        await repos.payments.addEvent(payment.id, 'late_payment_returned', { how: 'authorization released', flexStatus: canceled.status });
        return { status: 'succeeded', result: { voided: true } };
      }
      const ours = (await target.flex.listRefundsForCheckoutSession(checkoutId)).filter((r) => r.metadata?.[LATE_PAYMENT_METADATA_KEY] === payment.id);
      const refunds = ours.length > 0
        ? ours
        : await target.flex.refundCheckoutSession(
            checkoutId,
            {
              amount: received - (checkout.amount_refunded ?? 0),
              refund_metadata: { [LATE_PAYMENT_METADATA_KEY]: payment.id, reason: 'paid after the payment was decided', shopify_payment_session_id: payment.shopifyId },
            },
            `return-late-payment:${target.shopDomain}:${payment.shopifyId}:refund`,
          );
      await repos.payments.addEvent(payment.id, 'late_payment_returned', { how: 'refunded', amountMinor: refunds.reduce((sum, r) => sum + (r.amount ?? 0), 0), currency: payment.currency, flexRefundIds: refunds.map((r) => r.refund_id) });
      return { status: 'succeeded', result: { flexRefundIds: refunds.map((r) => r.refund_id) } };
    } catch (error) {
      if (!(error instanceof FlexApiError)) throw error;
      if (error.kind === 'unavailable' || error.kind === 'unauthorized') return { status: 'retry', error: error.message, retryAfterMs: error.retryAfterMs };
      return { status: 'failed', error: `Flex refused to return the money: ${error.message}` };
    }
  }

  async onGaveUp(_job: JobRecord, { paymentId }: PaymentPayload, error: string): Promise<void> {
    const payment = await paymentOf(this.deps, paymentId);
    if (payment) await this.deps.transactor.repos.payments.addEvent(payment.id, 'late_payment_needs_decision', { why: error });
  }
}

export class CancelGroupCheckoutsJob implements JobHandler<PaymentPayload> {
  readonly type = CANCEL_GROUP_CHECKOUTS;

  constructor(private readonly deps: Deps) {}

  async handle(_job: JobRecord, { paymentId }: PaymentPayload): Promise<JobResult> {
    const { repos } = this.deps.transactor;
    const paid = await paymentOf(this.deps, paymentId);
    if (!paid) return { status: 'succeeded', result: { skipped: 'payment gone' } };
    const canceled: string[] = [];
    for (const other of await repos.payments.openInGroup(paid)) {
      const target = await flexFor(this.deps, other);
      if (!target) return { status: 'retry', error: 'no Flex connection for the payment’s shop and mode' };
      try {
        await target.flex.cancelCheckoutSession(other.flexCheckoutSessionId!, `cancel-group-sibling:${target.shopDomain}:${other.shopifyId}`);
        await repos.payments.addEvent(other.id, 'flex_checkout_canceled', { why: `payment ${paid.shopifyId} of the same Shopify checkout was paid` });
        canceled.push(other.flexCheckoutSessionId!);
      } catch (error) {
        if (!(error instanceof FlexApiError)) throw error;
        if (error.kind === 'unavailable' || error.kind === 'unauthorized') return { status: 'retry', error: error.message, retryAfterMs: error.retryAfterMs };
        // Paid meanwhile (already captured, complete): its own decision finds the group paid and returns the money.
        this.deps.logger.warn({ paymentSessionId: other.id, flexError: { status: error.status, code: error.code } }, 'could not cancel a Flex checkout of a paid group');
      }
    }
    return { status: 'succeeded', result: { canceled } };
  }
}
