import type { Prisma } from '@prisma/client';
import type { NewFlexWebhookDelivery } from '../../db/repositories/flex-webhook-deliveries';
import type { Transactor } from '../../db/transactor';
import type { Clock } from '../../lib/clock';
import { addLogContext, withLogContext } from '../../lib/log-context';
import type { Logger } from '../../lib/logger';
import type { AppMetrics, WebhookVerification } from '../../lib/metrics';
import { parseBoundedJson } from '../../lib/json-body';
import { normalizeShopDomain } from '../../lib/shop-domain';
import type { FlexClient } from '../flex-client';
import { FlexEventNotReady, type FlexEvent, type FlexEventContext, type FlexEventRegistry } from './flex-event-registry';
import { verifyFlexWebhook } from './signature';

export type FlexWebhookResult = { status: 200 | 400 | 401 | 503; body: Record<string, unknown> };
type FlexWebhookInput = { shopDomain: string | undefined; mode: string | undefined; rawBody: Buffer; headers: Record<string, string | string[] | undefined> };

/**
 * A Flex webhook: verify first, on the raw bytes, with the secret of the endpoint it was sent to;
 * only then parse and act. Each delivery is recorded under its Svix message id in the same
 * transaction as its effects, so a redelivery changes nothing and a failed one is retried by Flex.
 * What an event does is up to the consumer registered for its type (FlexEventRegistry).
 */
export class HandleFlexWebhook {
  constructor(
    private readonly deps: {
      transactor: Transactor;
      registry: FlexEventRegistry;
      flex: FlexClient;
      clock: Clock;
      logger: Logger;
      metrics: AppMetrics;
    },
  ) {}

  /**
   * Every line logged while handling the delivery names it, its shop and (once an event handler finds
   * it) the payment. Every delivery is counted by what its signature check came to.
   */
  async execute(input: FlexWebhookInput): Promise<FlexWebhookResult> {
    const check: { verification: WebhookVerification } = { verification: 'not_checked' };
    try {
      return await withLogContext({}, () => this.handle(input, check));
    } finally {
      this.deps.metrics.webhookDelivered('flex', check.verification);
    }
  }

  private async handle(input: FlexWebhookInput, check: { verification: WebhookVerification }): Promise<FlexWebhookResult> {
    // One answer for every refusal: an unsigned request learns nothing (not even whether the shop
    // uses the app), and nothing is stored for it.
    const refusal: FlexWebhookResult = { status: 401, body: { error: { code: 'invalid_signature', message: 'Webhook signature could not be verified' } } };
    const refused = (): FlexWebhookResult => {
      check.verification = 'invalid';
      return refusal;
    };
    // Bounded before anything parses it (the signature check included), and before the shop is looked
    // up, so that the answer to a hostile body says nothing about the shop either.
    const parsedBody = parseBoundedJson(input.rawBody.toString('utf8'));
    if (!parsedBody.ok && parsedBody.problem.code !== 'invalid_json') return { status: 400, body: { error: { code: parsedBody.problem.code, message: parsedBody.problem.message } } };
    const mode = input.mode === 'test' ? 'TEST' : input.mode === 'live' ? 'LIVE' : undefined;
    const shopDomain = normalizeShopDomain(input.shopDomain);
    if (!shopDomain || !mode) return refused();
    const { repos } = this.deps.transactor;
    const found = await repos.flexConnections.findWithShop(shopDomain, mode);
    if (!found) return refused();
    const { shop, connection } = found;
    addLogContext({ shop: shop.domain, shopId: shop.id, flexWebhook: { mode: input.mode } });
    if (!connection?.webhookSecret) return refused();

    const verification = verifyFlexWebhook(input.rawBody, input.headers, connection.webhookSecret.reveal());
    if (!verification.valid) {
      this.deps.logger.warn({ shop: shop.domain, mode, reason: verification.reason }, 'refused a Flex webhook');
      return refused();
    }
    check.verification = 'valid';

    const event = parsedBody.ok ? (parsedBody.value as FlexEvent) : undefined;
    if (!event || typeof event !== 'object' || typeof event.event_type !== 'string' || typeof event.object !== 'object' || event.object === null) {
      return { status: 400, body: { error: { code: 'invalid_payload', message: 'Webhook body is not a Flex event' } } };
    }

    addLogContext({ flexWebhook: { mode: input.mode, deliveryId: verification.deliveryId, eventType: event.event_type } });
    const handler = this.deps.registry.handlerFor(event.event_type);
    const context: FlexEventContext = { shopId: shop.id, mode, event, flex: this.deps.flex.forKey(connection.apiKey) };
    let prepared: unknown;
    try {
      prepared = await handler?.prepare?.(context);
    } catch (error) {
      if (!(error instanceof FlexEventNotReady)) throw error;
      this.deps.logger.warn({ shop: shop.domain, eventType: event.event_type, reason: error.message }, 'Flex webhook deferred');
      return { status: 503, body: { error: { code: 'not_ready', message: error.message } } };
    }

    const { transactor } = this.deps;
    // Recording the delivery is SQL as written; so is everything a sqlOnly handler does.
    const inTransaction = !handler || handler.sqlOnly ? transactor.runSql.bind(transactor) : transactor.run.bind(transactor);
    const delivery: NewFlexWebhookDelivery = {
      shopId: shop.id,
      mode,
      deliveryId: verification.deliveryId,
      eventId: typeof event.event_id === 'string' ? event.event_id : null,
      eventType: event.event_type,
      payload: event as unknown as Prisma.InputJsonValue,
      receivedAt: this.deps.clock.now(),
    };
    // Recorded first, in the transaction that applies it: a redelivery is never applied again, not
    // even to be rolled back (its log lines and alerts would not be), and a concurrent copy waits
    // for this one's commit at the insert.
    const outcome = await inTransaction(async (tx): Promise<string> => {
      if (handler?.recordsDelivery) {
        const result = await handler.apply({ ...context, repos: tx, prepared, delivery });
        if ('duplicate' in result) return 'duplicate';
        if ('beforeDelivery' in result) {
          // It returned before its first statement, having written nothing: the delivery is recorded with its outcome.
          return (await tx.flexWebhookDeliveries.recordIfNew({ ...delivery, outcome: result.outcome })) ? result.outcome : 'duplicate';
        }
        if (!result.recordedOnDelivery) await tx.flexWebhookDeliveries.setOutcome(result.deliveryId, result.outcome);
        return result.outcome;
      }
      const recorded = await tx.flexWebhookDeliveries.recordIfNew(delivery);
      if (!recorded) return 'duplicate';
      const result = handler ? await handler.apply({ ...context, repos: tx, prepared, deliveryId: recorded.id }) : 'ignored';
      if (typeof result !== 'string') return result.outcome;
      await tx.flexWebhookDeliveries.setOutcome(recorded.id, result);
      return result;
    });
    this.deps.logger.info({ shop: shop.domain, mode, eventType: event.event_type, deliveryId: verification.deliveryId, outcome }, 'Flex webhook');
    return { status: 200, body: { received: true, outcome } };
  }
}
