import type { Logger } from '../../lib/logger';
import type { MutationSubjectHooks } from '../../outbox/shopify-mutation-job';
import type { MutationSubject } from '../../shopify/payments-api-client';
import type { PaymentsMutationName } from '../../shopify/payments-mutations';
import type { PaymentSessionRepository } from '../payment-session-repository';

const FINAL_STATES = new Set(['RESOLVED', 'REJECTED']);

/** Records on the payment what Shopify acknowledged, and where Shopify sends the buyer next. */
export class PaymentSessionMutationHooks implements MutationSubjectHooks {
  constructor(
    private readonly payments: PaymentSessionRepository,
    private readonly logger: Logger,
  ) {}

  async onAcknowledged(paymentSessionId: string, mutation: PaymentsMutationName, subject: MutationSubject | null, alreadyInState: boolean): Promise<void> {
    const payment = await this.payments.findById(paymentSessionId);
    if (!payment) return;
    const state = subject?.state?.code ?? (mutation === 'paymentSessionResolve' ? 'RESOLVED' : mutation === 'paymentSessionReject' ? 'REJECTED' : 'PENDING');
    // A late "pending" acknowledgement must not hide a final state Shopify already confirmed.
    const keepFinal = mutation === 'paymentSessionPending' && payment.shopifyState !== null && FINAL_STATES.has(payment.shopifyState);
    if (!keepFinal) {
      await this.payments.recordShopifyState(paymentSessionId, state, subject?.nextAction?.context?.redirectUrl ?? null);
    }
    await this.payments.addEvent(paymentSessionId, 'shopify_acknowledged', { mutation, state, alreadyInState });
    this.logger.info({ paymentSessionId, mutation, state }, 'Shopify acknowledged the payment session mutation');
  }

  async onGaveUp(paymentSessionId: string, mutation: PaymentsMutationName, error: string): Promise<void> {
    await this.payments.addEvent(paymentSessionId, 'shopify_mutation_needs_attention', { mutation, error });
  }
}
