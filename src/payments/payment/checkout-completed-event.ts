import { FlexApiError } from '../../flex/flex-client';
import { expandedPaymentIntents, flexCheckoutSessionSchema, type FlexCheckoutSession } from '../../flex/flex-types';
import { eventObject, FlexEventNotReady, type FlexEvent, type FlexEventHandler } from '../../flex/webhooks/flex-event-registry';
import type { Clock } from '../../lib/clock';
import { flexCheckoutSessionId, shopifySessionId } from '../../lib/ids';
import { addLogContext } from '../../lib/log-context';
import { decidePaymentOutcome } from './decide-payment-outcome';
import type { PaymentOutcomes } from './payment-outcomes';

/** Flex's documented name, and the spelling one of its guides uses (reference §6.3): both are accepted. */
export const CHECKOUT_COMPLETED_EVENTS = ['checkout.session.completed', 'checkout_session.completed'] as const;

/**
 * A checkout session completed in Flex: decide the payment from Flex's signed word, in the
 * webhook's transaction, through the same decision function as the buyer's return and the
 * reconciler (the first decision wins).
 */
export function checkoutCompletedEvents(deps: { outcomes: PaymentOutcomes; clock: Clock; apiVersion: string }): FlexEventHandler<FlexCheckoutSession | undefined> {
  return {
    // Its statements, and the payment decision's (PaymentOutcomes), are SQL as written.
    sqlOnly: true,
    // Its first statement records the delivery, finds the payment and locks its group.
    recordsDelivery: true,
    /**
     * An authorization's expiry is on its payment intents, which webhook payloads carry as ids only:
     * read the session, with intents expanded, from Flex before deciding.
     */
    async prepare({ event, flex }) {
      const checkout = checkoutOf(event);
      if (!checkout || expandedPaymentIntents(checkout).length > 0 || checkout.capture_method !== 'manual') return checkout;
      try {
        return await flex.getCheckoutSession(checkout.checkout_session_id);
      } catch (error) {
        if (error instanceof FlexApiError) {
          throw new FlexEventNotReady(`could not read checkout session ${checkout.checkout_session_id} from Flex: ${error.message}`, error.kind === 'unauthorized');
        }
        throw error;
      }
    },

    async apply({ repos, shopId, mode, event, prepared, delivery }) {
      const checkout = prepared ?? checkoutOf(event);
      if (!checkout) return { outcome: 'unparseable_checkout_session', beforeDelivery: true };
      if (typeof checkout.test_mode === 'boolean' && checkout.test_mode !== (mode === 'TEST')) return { outcome: 'mode_mismatch', beforeDelivery: true };

      const checkoutId = flexCheckoutSessionId(checkout.checkout_session_id);
      const test = mode === 'TEST';
      const noted = { type: 'flex_webhook', detail: { eventType: event.event_type, eventId: event.event_id ?? null, status: checkout.status } };
      // The delivery recorded, and the payment found, noted on its timeline and its group locked, in one statement (when of this mode).
      const found = await repos.payments.recordFlexDeliveryFindingPayment({ ...delivery, shopId }, checkoutId, test, noted);
      if (found.deliveryId === null) return { duplicate: true };
      const { deliveryId } = found;
      let payment = found.payment;
      const isNoted = payment?.test === test;
      // The checkout may have been created by a request that died before recording its id.
      if (!payment && checkout.client_reference_id) {
        const candidate = await repos.payments.findByShopifyId(shopId, shopifySessionId(checkout.client_reference_id));
        if (candidate && checkout.metadata?.app_payment_session_id === candidate.id && !candidate.flexCheckoutSessionId) payment = candidate;
      }
      if (!payment) return { outcome: 'unknown_checkout_session', deliveryId };
      // Test and live never cross: only the endpoint of the payment's own mode may move it.
      if (payment.test !== test) return { outcome: 'mode_mismatch', deliveryId };
      addLogContext({ paymentSessionId: payment.id });
      if (!isNoted) await repos.payments.addEvent(payment.id, noted.type, noted.detail);
      const decision = decidePaymentOutcome({ payment, checkout, now: deps.clock.now(), apiVersion: deps.apiVersion });
      // An applied decision records the delivery's outcome in its own statement.
      const result = await deps.outcomes.applyWithin(repos, payment, decision, 'FLEX_WEBHOOK', checkoutId, deliveryId);
      if (!result.applied) return { outcome: result.reason, deliveryId };
      return result.flexDeliveryOutcomeRecorded ? { outcome: 'applied', recordedOnDelivery: true, deliveryId } : { outcome: 'applied', deliveryId };
    },
  };
}

function checkoutOf(event: FlexEvent): FlexCheckoutSession | undefined {
  const parsed = flexCheckoutSessionSchema.safeParse(eventObject(event, 'checkout_session'));
  return parsed.success ? parsed.data : undefined;
}
