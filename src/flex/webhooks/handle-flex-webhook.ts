import type { Prisma } from '@prisma/client';
import type { FlexMode } from '@prisma/client';
import { FlexSigningSecretChanged, type NewFlexWebhookDelivery } from '../../db/repositories/flex-webhook-deliveries';
import type { Repositories } from '../../db/repositories';
import type { Transactor } from '../../db/transactor';
import type { Clock } from '../../lib/clock';
import { addLogContext, withLogContext } from '../../lib/log-context';
import type { Logger } from '../../lib/logger';
import type { AppMetrics, WebhookVerification } from '../../lib/metrics';
import { parseBoundedJson } from '../../lib/json-body';
import type { ShopDomain } from '../../lib/ids';
import { normalizeShopDomain } from '../../lib/shop-domain';
import type { FlexClient } from '../flex-client';
import { FlexEventNotReady, type FlexEvent, type FlexEventContext, type FlexEventHandler, type FlexEventRegistry } from './flex-event-registry';
import type { FlexWebhookConnectionCache, SigningConnection } from './connection-cache';
import { verifyFlexWebhook } from './signature';

/** A delivery verified by the secret of `connection`, kept (`fromCache`) or as read from the database. */
type SignedBy = SigningConnection & { deliveryId: string; fromCache: boolean };

/**
 * What `apply` answers when the connection it was given may be out of date, having written nothing:
 * the secret that verified the delivery is no longer the stored one (the recording statement's check),
 * or Flex refused a kept key when `prepare` read from it.
 */
const CONNECTION_OUT_OF_DATE = Symbol('connection out of date');

/** The stored secret changed between its read and the delivery's record: Flex delivers it again later. */
const secretChanged = (): FlexWebhookResult => ({ status: 503, body: { error: { code: 'signing_secret_changed', message: 'The webhook signing secret changed while the delivery was handled; retry' } } });

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
      connections: FlexWebhookConnectionCache;
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

    const signed = await this.verify(input, shopDomain, mode, { cached: true });
    if (!signed) return refused();
    check.verification = 'valid';
    const applied = await this.apply(input, parsedBody, mode, signed);
    if (applied !== CONNECTION_OUT_OF_DATE) return applied;
    this.deps.connections.forget(shopDomain, mode);
    if (!signed.fromCache) return secretChanged();
    // The kept connection may be out of date (its key replaced or removed, or the secrets re-encrypted,
    // on any instance): nothing was written. Verified again, and applied, with the stored one.
    this.deps.logger.info({ shop: signed.shop.domain, mode }, 'Flex webhook: trying again with the stored connection instead of the kept one');
    const again = await this.verify(input, shopDomain, mode, { cached: false });
    if (!again) return refused();
    const appliedAgain = await this.apply(input, parsedBody, mode, again);
    if (appliedAgain !== CONNECTION_OUT_OF_DATE) return appliedAgain;
    this.deps.connections.forget(shopDomain, mode);
    return secretChanged();
  }

  /**
   * The shop's connection whose secret verifies the delivery: the kept one (FlexWebhookConnectionCache)
   * when it does, else the stored one. Null when the stored one does not either (logged with why), or
   * the shop or its connection of that mode is unknown. A delivery the kept secret does not verify is
   * refused only after the stored secret was tried too: the kept one may have been replaced, and a
   * refusal takes as long for a shop whose connection is kept as for one whose is not.
   */
  private async verify(input: FlexWebhookInput, shopDomain: ShopDomain, mode: FlexMode, options: { cached: boolean }): Promise<SignedBy | null> {
    const { connections } = this.deps;
    // The second pass keeps what the first added to the log context (the delivery and its event).
    const logContext = (shop: SigningConnection['shop']) =>
      addLogContext(options.cached ? { shop: shop.domain, shopId: shop.id, flexWebhook: { mode: input.mode } } : { shop: shop.domain, shopId: shop.id });
    const kept = options.cached ? connections.get(shopDomain, mode) : undefined;
    if (kept) {
      const verification = verifyFlexWebhook(input.rawBody, input.headers, kept.connection.webhookSecret.reveal());
      if (verification.valid) {
        logContext(kept.shop);
        return { ...kept, deliveryId: verification.deliveryId, fromCache: true };
      }
    }
    const found = await this.deps.transactor.repos.flexConnections.findWithShop(shopDomain, mode);
    // A kept entry that is no longer the stored connection goes (whoever sent this request: it cost a
    // read either way); one that is, stays, whatever a request it did not verify carried.
    if (kept && found?.connection?.webhookSecretCiphertext !== kept.connection.webhookSecretCiphertext) connections.forget(shopDomain, mode);
    if (!found) return null;
    logContext(found.shop);
    const { connection } = found;
    if (!connection?.webhookSecret || !connection.webhookSecretCiphertext) return null;
    const signing: SigningConnection = { shop: found.shop, connection: { ...connection, webhookSecret: connection.webhookSecret, webhookSecretCiphertext: connection.webhookSecretCiphertext } };
    const verification = verifyFlexWebhook(input.rawBody, input.headers, connection.webhookSecret.reveal());
    if (!verification.valid) {
      this.deps.logger.warn({ shop: found.shop.domain, mode, reason: verification.reason }, 'refused a Flex webhook');
      return null;
    }
    connections.remember(shopDomain, mode, signing);
    return { ...signing, deliveryId: verification.deliveryId, fromCache: false };
  }

  /** A verified delivery: its event applied, and the delivery recorded, in one transaction. */
  private async apply(
    input: FlexWebhookInput,
    parsedBody: ReturnType<typeof parseBoundedJson>,
    mode: FlexMode,
    signed: SignedBy,
  ): Promise<FlexWebhookResult | typeof CONNECTION_OUT_OF_DATE> {
    const { shop, connection, deliveryId } = signed;
    const event = parsedBody.ok ? (parsedBody.value as FlexEvent) : undefined;
    if (!event || typeof event !== 'object' || typeof event.event_type !== 'string' || typeof event.object !== 'object' || event.object === null) {
      return { status: 400, body: { error: { code: 'invalid_payload', message: 'Webhook body is not a Flex event' } } };
    }

    addLogContext({ flexWebhook: { mode: input.mode, deliveryId, eventType: event.event_type } });
    const handler = this.deps.registry.handlerFor(event.event_type);
    const context: FlexEventContext = { shopId: shop.id, mode, event, flex: this.deps.flex.forKey(connection.apiKey) };
    let prepared: unknown;
    try {
      prepared = await handler?.prepare?.(context);
    } catch (error) {
      if (!(error instanceof FlexEventNotReady)) throw error;
      // A kept key Flex refuses may have been replaced: tried again with the stored connection first.
      // (Not for Flex being slow or down: that would only call it twice.)
      if (signed.fromCache && error.keyRefused) return CONNECTION_OUT_OF_DATE;
      this.deps.logger.warn({ shop: shop.domain, eventType: event.event_type, reason: error.message }, 'Flex webhook deferred');
      return { status: 503, body: { error: { code: 'not_ready', message: error.message } } };
    }

    const { transactor } = this.deps;
    // Recording the delivery is SQL as written; so is everything a sqlOnly handler does.
    const inTransaction = !handler || handler.sqlOnly ? transactor.runSql.bind(transactor) : transactor.run.bind(transactor);
    const delivery: NewFlexWebhookDelivery = {
      shopId: shop.id,
      mode,
      deliveryId,
      eventId: typeof event.event_id === 'string' ? event.event_id : null,
      eventType: event.event_type,
      payload: event as unknown as Prisma.InputJsonValue,
      receivedAt: this.deps.clock.now(),
      verifiedWithCiphertext: connection.webhookSecretCiphertext,
    };
    // Recorded first, in the transaction that applies it: a redelivery is never applied again, not
    // even to be rolled back (its log lines and alerts would not be), and a concurrent copy waits
    // for this one's commit at the insert.
    let outcome: string;
    try {
      outcome = await this.recordAndApply(inTransaction, handler, context, prepared, delivery);
    } catch (error) {
      // Nothing was written: the statement that records the delivery found its secret replaced.
      if (error instanceof FlexSigningSecretChanged) return CONNECTION_OUT_OF_DATE;
      throw error;
    }
    this.deps.logger.info({ shop: shop.domain, mode, eventType: event.event_type, deliveryId, outcome }, 'Flex webhook');
    return { status: 200, body: { received: true, outcome } };
  }

  private recordAndApply(
    inTransaction: <T>(work: (tx: Repositories) => Promise<T>) => Promise<T>,
    handler: FlexEventHandler<unknown> | undefined,
    context: FlexEventContext,
    prepared: unknown,
    delivery: NewFlexWebhookDelivery,
  ): Promise<string> {
    return inTransaction(async (tx): Promise<string> => {
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
  }
}
