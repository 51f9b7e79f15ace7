import type { IncomingMessage } from 'node:http';
import type { Prisma } from '@prisma/client';
import type { Clock } from '../../lib/clock';
import { addLogContext, withLogContext } from '../../lib/log-context';
import type { Logger } from '../../lib/logger';
import type { AppMetrics, WebhookVerification } from '../../lib/metrics';
import { parseBoundedJson } from '../../lib/json-body';
import { normalizeShopDomain } from '../../lib/shop-domain';
import type { ShopifyWebhookValidator } from '../../shopify/webhook-validation';
import type { Transactor } from '../../db/transactor';
import type { NewShopifyWebhookDelivery } from '../../db/repositories/shopify-webhook-deliveries';
import type { ShopDomain } from '../../lib/ids';
import { checkoutSnapshotTopic } from './checkout-topics';
import { productChanged, productDeleted } from './products';
import { appUninstalled, customersDataRequest, customersRedact, shopRedact, type TopicHandler, type TopicOutcome } from './topics';

export type ShopifyWebhookResult = { status: 200 | 400 | 401; body: Record<string, unknown> };

/** The app's own topics (shopify.app.toml); the use cases add theirs (orders/ORDER_WEBHOOK_TOPICS). */
export const SHOPIFY_WEBHOOK_TOPICS = [
  'app/uninstalled',
  'customers/data_request',
  'customers/redact',
  'shop/redact',
  'checkouts/create',
  'checkouts/update',
  'products/create',
  'products/update',
  'products/delete',
] as const;

/**
 * A Shopify webhook: the HMAC of the raw body first (401 when it does not check out), then the
 * headers, then one transaction that records the delivery under its `X-Shopify-Webhook-Id` (a
 * redelivery is answered 200 and changes nothing) and applies it if the body is that topic's payload
 * for that shop (otherwise the refusal is what gets recorded). All of
 * that is database work, so the answer is fast; calls to Flex happen after answering.
 */
export class HandleShopifyWebhook {
  private readonly handlers = new Map<string, TopicHandler<any>>();

  constructor(
    private readonly deps: {
      transactor: Transactor;
      validator: ShopifyWebhookValidator;
      clock: Clock;
      logger: Logger;
      metrics: AppMetrics;
      /** Topics other use cases bring (orders/create, orders/paid from orders/), by topic. */
      topics?: Record<string, TopicHandler<any>>;
    },
  ) {
    const logger = deps.logger.child({ component: 'shopify-webhooks' });
    this.handlers.set('app/uninstalled', appUninstalled());
    this.handlers.set('customers/data_request', customersDataRequest());
    this.handlers.set('customers/redact', customersRedact());
    this.handlers.set('shop/redact', shopRedact({ logger }));
    this.handlers.set('checkouts/create', checkoutSnapshotTopic());
    this.handlers.set('checkouts/update', checkoutSnapshotTopic());
    this.handlers.set('products/create', productChanged());
    this.handlers.set('products/update', productChanged());
    this.handlers.set('products/delete', productDeleted());
    for (const [topic, handler] of Object.entries(deps.topics ?? {})) this.handlers.set(topic, handler);
  }

  /** Every line logged while handling the webhook (and its follow-up after answering) names it and its shop. */
  async execute(input: { pathTopic: string; rawBody: Buffer; request: IncomingMessage }): Promise<ShopifyWebhookResult> {
    const check: { verification: WebhookVerification } = { verification: 'not_checked' };
    try {
      return await withLogContext({}, () => this.handle(input, check));
    } finally {
      this.deps.metrics.webhookDelivered('shopify', check.verification);
    }
  }

  private async handle(input: { pathTopic: string; rawBody: Buffer; request: IncomingMessage }, check: { verification: WebhookVerification }): Promise<ShopifyWebhookResult> {
    const validation = await this.deps.validator.validate(input.rawBody, input.request);
    // The library checks the headers only once the HMAC checked out.
    check.verification = validation.valid || validation.reason === 'missing_headers' ? 'valid' : 'invalid';
    if (!validation.valid && validation.reason === 'invalid_hmac') {
      this.deps.logger.warn({ topic: input.pathTopic }, 'refused a Shopify webhook: HMAC does not match');
      return problem(401, 'invalid_hmac', 'Webhook HMAC could not be verified');
    }
    if (!validation.valid) {
      const missing = (validation.missingHeaders ?? []).map((h) => h.toLowerCase());
      if (missing.includes('x-shopify-webhook-id')) return problem(400, 'missing_webhook_id', 'X-Shopify-Webhook-Id is required');
      if (missing.includes('x-shopify-topic')) return problem(400, 'topic_mismatch', 'X-Shopify-Topic does not match the webhook address');
      if (missing.includes('x-shopify-shop-domain')) return problem(400, 'invalid_shop', 'X-Shopify-Shop-Domain must be a *.myshopify.com domain');
      return problem(400, 'missing_headers', `Webhook headers missing: ${validation.missingHeaders?.join(', ') ?? 'unknown'}`);
    }
    const { topic, webhookId } = validation;
    const shopDomain = normalizeShopDomain(validation.shopDomain);
    if (topic !== input.pathTopic) return problem(400, 'topic_mismatch', 'X-Shopify-Topic does not match the webhook address');
    if (!shopDomain) return problem(400, 'invalid_shop', 'X-Shopify-Shop-Domain must be a *.myshopify.com domain');
    if (webhookId.length > 255) return problem(400, 'missing_webhook_id', 'X-Shopify-Webhook-Id is required');
    addLogContext({ shop: shopDomain, shopifyWebhook: { topic, webhookId } });

    const parsedBody = parseBoundedJson(input.rawBody.toString('utf8'));
    if (!parsedBody.ok) return problem(400, parsedBody.problem.code === 'invalid_json' ? 'invalid_json' : parsedBody.problem.code, parsedBody.problem.code === 'invalid_json' ? 'The webhook body is not JSON' : parsedBody.problem.message);
    const body = parsedBody.value;
    const handler = this.handlers.get(topic);
    const parsed = handler ? handler.parse(body, shopDomain) : ({ ok: true, value: null, stored: {} } as const);
    if (!parsed.ok) {
      // Signed by Shopify but not this topic's payload for this shop: a body re-sent under another
      // topic or shop (only the body is signed). Nothing is done; the refusal is recorded and
      // acknowledged, since Shopify's retries could not change the answer.
      this.deps.logger.warn({ topic, shop: shopDomain, webhookId, problem: parsed.problem }, 'refused a Shopify webhook whose body does not fit its topic');
    }

    const now = this.deps.clock.now();
    const { repos } = this.deps.transactor;
    const stored = parsed.ok ? parsed.stored : { refused: parsed.problem };
    const delivery = { webhookId, shopDomain, topic, receivedAt: now, processedAt: now };
    let result: TopicOutcome;
    if (!parsed.ok || !handler) {
      // Nothing to apply: the delivery is recorded with its outcome, once.
      const outcome = parsed.ok ? 'ignored' : 'refused_payload_mismatch';
      const recorded = await repos.shopifyWebhookDeliveries.recordIfNew({ ...delivery, payload: { request: stored }, outcome });
      result = { outcome: recorded ? outcome : 'duplicate' };
    } else {
      result = (await this.applyRecordingDelivery(handler, parsed.value, { ...delivery, payload: { request: stored } }, shopDomain, now)) ?? (await this.applyInTransaction(handler, parsed.value, stored, delivery, shopDomain, now));
    }
    this.deps.logger.info({ topic, shop: shopDomain, webhookId, outcome: result.outcome }, 'Shopify webhook');
    return { status: 200, body: { received: true, outcome: result.outcome } };
  }

  /** The topic's work in the statement that records the delivery, where the topic can (TopicHandler). */
  private async applyRecordingDelivery<T>(handler: TopicHandler<T>, value: T, delivery: NewShopifyWebhookDelivery, shopDomain: ShopDomain, now: Date): Promise<TopicOutcome | undefined> {
    if (!handler.applyRecordingDelivery) return undefined;
    const applied = await handler.applyRecordingDelivery(value, { repos: this.deps.transactor.repos, shopDomain, delivery, now });
    if (applied.recorded === 'not_here') return undefined;
    return applied.recorded === 'duplicate' ? { outcome: 'duplicate' } : applied.outcome;
  }

  private async applyInTransaction<T>(
    handler: TopicHandler<T>,
    value: T,
    stored: Prisma.InputJsonValue,
    delivery: { webhookId: string; topic: string },
    shopDomain: ShopDomain,
    now: Date,
  ): Promise<TopicOutcome> {
    const { webhookId, topic } = delivery;
    // Recorded first, under its webhook id, in the transaction that applies it: a redelivery is
    // never applied again (a checkout's snapshot must not go back to an older body).
    const { transactor } = this.deps;
    const inTransaction = handler.sqlOnly ? transactor.runSql.bind(transactor) : transactor.run.bind(transactor);
    return inTransaction(async (tx): Promise<TopicOutcome> => {
      const recorded = await tx.shopifyWebhookDeliveries.recordIfNew({ webhookId, shopDomain, topic, payload: { request: stored }, receivedAt: now });
      if (!recorded) return { outcome: 'duplicate' };
      const applied = await handler.apply(value, { repos: tx, shopDomain, deliveryId: recorded.id, now });
      const payload: Prisma.InputJsonValue | undefined =
        applied.payload === undefined ? undefined : { request: stored, ...(applied.payload as Prisma.InputJsonObject) };
      await tx.shopifyWebhookDeliveries.finish(recorded.id, applied.outcome, now, payload);
      return applied;
    });
  }
}

function problem(status: 400 | 401, code: string, message: string): ShopifyWebhookResult {
  return { status, body: { error: { code, message } } };
}
