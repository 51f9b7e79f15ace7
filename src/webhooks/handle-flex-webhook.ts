import type { FlexMode, Prisma } from '@prisma/client';
import type { Repositories, Transactor } from '../db/repositories';
import { FlexApiError, type FlexClient } from '../flex/flex-client';
import { expandedPaymentIntents, flexCheckoutSessionSchema, type FlexCheckoutSession } from '../flex/flex-types';
import { verifyFlexWebhook } from '../flex/webhook-signature';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { decidePaymentOutcome } from '../payments/payment/decide-payment-outcome';
import type { PaymentFinalizer } from '../payments/payment/payment-finalizer';

export type FlexWebhookResult = { status: 200 | 400 | 401 | 503; body: Record<string, unknown> };

export interface FlexEventContext {
  shopId: string;
  mode: FlexMode;
  event: FlexEvent;
  flex: ReturnType<FlexClient['forKey']>;
}

/**
 * A handler for one kind of Flex event. `prepare` runs before the transaction (it may call Flex;
 * nothing may hold a database transaction across an HTTP call); `apply` runs inside the transaction
 * that records the delivery and returns the outcome to record.
 */
export interface FlexEventHandler<P = unknown> {
  prepare?(context: FlexEventContext): Promise<P>;
  apply(context: FlexEventContext & { repos: Repositories; prepared: P }): Promise<string>;
}

/** A Flex call failed while preparing: answer non-2xx so Flex redelivers later. */
export class FlexEventNotReady extends Error {}

export interface FlexEvent {
  event_id?: string;
  event_type: string;
  object: Record<string, unknown>;
  test_mode?: boolean;
}

export const CHECKOUT_COMPLETED_EVENTS = ['checkout.session.completed', 'checkout_session.completed'];

/**
 * A Flex webhook: verify first, on the raw bytes, with the secret of the endpoint it was sent to;
 * only then parse and act. Each delivery is recorded under its Svix message id in the same
 * transaction as its effects, so a redelivery changes nothing and a failed one is retried by Flex.
 */
export class HandleFlexWebhook {
  private readonly handlers = new Map<string, FlexEventHandler<any>>();

  constructor(
    private readonly deps: {
      transactor: Transactor;
      finalizer: PaymentFinalizer;
      flex: FlexClient;
      clock: Clock;
      logger: Logger;
      apiVersion: string;
      onJobEnqueued?: () => void;
    },
  ) {
    const checkoutCompleted: FlexEventHandler<FlexCheckoutSession | undefined> = {
      prepare: (context) => this.prepareCheckoutCompleted(context),
      apply: (context) => this.checkoutCompleted(context),
    };
    for (const type of CHECKOUT_COMPLETED_EVENTS) this.handlers.set(type, checkoutCompleted);
  }

  /** Lets other features (refunds) handle their own event types. */
  on<P>(eventType: string, handler: FlexEventHandler<P>): void {
    this.handlers.set(eventType, handler);
  }

  async execute(input: { shopDomain: string | undefined; mode: string | undefined; rawBody: Buffer; headers: Record<string, string | string[] | undefined> }): Promise<FlexWebhookResult> {
    const refused: FlexWebhookResult = { status: 401, body: { error: { code: 'invalid_signature', message: 'Webhook signature could not be verified' } } };
    const mode = input.mode === 'test' ? 'TEST' : input.mode === 'live' ? 'LIVE' : undefined;
    if (!input.shopDomain || !mode) return refused;
    const { repos } = this.deps.transactor;
    const shop = await repos.shops.findByDomain(input.shopDomain);
    if (!shop) return refused;
    const connection = await repos.flexConnections.find(shop.id, mode);
    if (!connection?.webhookSecret) return refused;

    const nowSeconds = Math.floor(this.deps.clock.now().getTime() / 1000);
    const verification = verifyFlexWebhook(input.rawBody, input.headers, connection.webhookSecret.reveal(), nowSeconds);
    if (!verification.valid) {
      this.deps.logger.warn({ shop: shop.domain, mode, reason: verification.reason }, 'refused a Flex webhook');
      // Shown to the merchant: deliveries that keep failing here mean lost or delayed payment updates.
      await repos.flexConnections.recordWebhookRefusal(connection.id, this.deps.clock.now(), verification.reason);
      return { status: 401, body: { error: { code: 'invalid_signature', message: `Webhook refused: ${verification.reason}` } } };
    }

    let event: FlexEvent;
    try {
      event = JSON.parse(input.rawBody.toString('utf8')) as FlexEvent;
      if (!event || typeof event.event_type !== 'string' || typeof event.object !== 'object' || event.object === null) throw new Error('shape');
    } catch {
      return { status: 400, body: { error: { code: 'invalid_payload', message: 'Webhook body is not a Flex event' } } };
    }

    const handler = this.handlers.get(event.event_type);
    const context: FlexEventContext = { shopId: shop.id, mode, event, flex: this.deps.flex.forKey(connection.apiKey) };
    let prepared: unknown;
    try {
      prepared = await handler?.prepare?.(context);
    } catch (error) {
      if (!(error instanceof FlexEventNotReady)) throw error;
      this.deps.logger.warn({ shop: shop.domain, eventType: event.event_type, reason: error.message }, 'Flex webhook deferred');
      return { status: 503, body: { error: { code: 'not_ready', message: error.message } } };
    }

    const outcome = await this.deps.transactor.run(async (tx) => {
      const delivery = await tx.flexWebhookDeliveries.recordIfNew({
        shopId: shop.id,
        mode,
        deliveryId: verification.deliveryId,
        eventId: typeof event.event_id === 'string' ? event.event_id : null,
        eventType: event.event_type,
        payload: event as unknown as Prisma.InputJsonValue,
      });
      if (!delivery) return 'duplicate';
      const result = handler ? await handler.apply({ ...context, repos: tx, prepared }) : 'ignored';
      await tx.flexWebhookDeliveries.setOutcome(delivery.id, result);
      return result;
    });
    this.deps.logger.info({ shop: shop.domain, mode, eventType: event.event_type, deliveryId: verification.deliveryId, outcome }, 'Flex webhook');
    if (outcome === 'applied') this.deps.onJobEnqueued?.();
    return { status: 200, body: { received: true, outcome } };
  }

  /**
   * An authorization's expiry is on its payment intents, which webhook payloads carry as ids only:
   * read the session, with intents expanded, from Flex before deciding.
   */
  private async prepareCheckoutCompleted(context: FlexEventContext): Promise<FlexCheckoutSession | undefined> {
    const checkout = checkoutOf(context.event);
    if (!checkout || expandedPaymentIntents(checkout).length > 0 || checkout.capture_method !== 'manual') return checkout;
    try {
      return await context.flex.getCheckoutSession(checkout.checkout_session_id);
    } catch (error) {
      if (error instanceof FlexApiError) throw new FlexEventNotReady(`could not read checkout session ${checkout.checkout_session_id} from Flex: ${error.message}`);
      throw error;
    }
  }

  private async checkoutCompleted({ repos, shopId, mode, event, prepared }: FlexEventContext & { repos: Repositories; prepared: FlexCheckoutSession | undefined }): Promise<string> {
    const checkout = prepared ?? checkoutOf(event);
    if (!checkout) return 'unparseable_checkout_session';
    if (typeof checkout.test_mode === 'boolean' && checkout.test_mode !== (mode === 'TEST')) return 'mode_mismatch';

    let payment = await repos.payments.findByFlexCheckoutSession(shopId, checkout.checkout_session_id);
    // The checkout may have been created by a request that died before recording its id.
    if (!payment && checkout.client_reference_id) {
      const candidate = await repos.payments.findByShopifyId(shopId, checkout.client_reference_id);
      if (candidate && checkout.metadata?.app_payment_session_id === candidate.id && !candidate.flexCheckoutSessionId) payment = candidate;
    }
    if (!payment) return 'unknown_checkout_session';
    await repos.payments.addEvent(payment.id, 'flex_webhook', { eventType: event.event_type, eventId: event.event_id ?? null, status: checkout.status });
    const decision = decidePaymentOutcome({ payment, checkout, source: 'FLEX_WEBHOOK', now: this.deps.clock.now(), apiVersion: this.deps.apiVersion });
    const result = await this.deps.finalizer.applyWithin(repos, payment, decision, 'FLEX_WEBHOOK', checkout.checkout_session_id);
    return result.applied ? 'applied' : result.reason;
  }
}

function checkoutOf(event: FlexEvent): FlexCheckoutSession | undefined {
  const raw = (event.object.checkout_session ?? Object.values(event.object)[0]) as unknown;
  const parsed = flexCheckoutSessionSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
