import { z } from 'zod';
import type { JobRecord } from '../db/repositories/jobs';
import type { ShopifyOrderRecord } from '../db/repositories/shopify-orders';
import type { Transactor } from '../db/transactor';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { ShopId } from '../lib/ids';
import type { Secret } from '../lib/secret';
import { defineJobType } from '../outbox/job-type';
import type { JobHandler, JobResult } from '../outbox/outbox-worker';
import type { ShopifyAccessTokens } from '../shopify/access-tokens';
import type { AdminOutcome } from '../shopify/admin-api-client';
import type { MutationResult, ShopifyOrdersApi } from '../shopify/admin-orders';
import { METAFIELD_DEFINITIONS_VERSION, noteWithLine, ORDER_METAFIELD_DEFINITIONS } from './order-annotation';

/**
 * Write-back (README "Orders"): what order sync found is written on the Shopify order through this
 * outbox job, retried with backoff and after Shopify's throttling waits:
 * 1. the order metafield definitions, once per shop and version (TAKEN counts as done), so the values
 *    show in the admin;
 * 2. the metafields (`metafieldsSet`: setting the same values again changes nothing);
 * 3. the tag (`tagsAdd`: merged with the merchant's tags, never replacing them);
 * 4. one line in the note, once: `orderUpdate` replaces the whole note, so the note is read, our line
 *    appended below the merchant's text only if it is not there, and written back at once. Shopify
 *    offers no conditional write for the note: an edit the merchant saves in the moment between that
 *    read and write would be lost (README). After the write, the note is the merchant's: the app
 *    never writes it again for this order, even if they remove our line.
 * A job carries the digest of what it writes; a job made stale by newer facts skips.
 */
export const ANNOTATE_ORDER = defineJobType('orders.annotate-order', z.object({ shopId: z.string(), orderRowId: z.string(), digest: z.string() }));
type AnnotatePayload = z.infer<typeof ANNOTATE_ORDER.payload>;

const annotationSchema = z.object({
  metafields: z.array(z.object({ ownerId: z.string(), namespace: z.string(), key: z.string(), type: z.string(), value: z.string() })),
  tags: z.array(z.string()),
  noteLine: z.string(),
});

type Step = { done: true } | { done: false; result: JobResult };

export class AnnotateOrderJob implements JobHandler<AnnotatePayload> {
  readonly type = ANNOTATE_ORDER;

  constructor(private readonly deps: { transactor: Transactor; tokens: ShopifyAccessTokens; orders: ShopifyOrdersApi; clock: Clock; logger: Logger }) {}

  async handle(_job: JobRecord, payload: AnnotatePayload): Promise<JobResult> {
    const { repos } = this.deps.transactor;
    const order = await repos.shopifyOrders.findById(payload.orderRowId);
    if (!order) return { status: 'succeeded', result: { skipped: 'the order link is gone' } };
    if (order.annotationDigest !== payload.digest) return { status: 'succeeded', result: { skipped: 'superseded by newer facts' } };
    const annotation = annotationSchema.safeParse(order.annotation);
    if (!annotation.success) return { status: 'failed', error: `the stored annotation does not fit: ${annotation.error.message}` };
    const shop = await repos.shops.findById(order.shopId);
    if (!shop || shop.status !== 'ACTIVE') return { status: 'succeeded', result: { skipped: 'the shop is not installed' } };
    const token = await this.deps.tokens.forShop(shop.domain);
    if (!token) return { status: 'retry', error: 'no Shopify access token stored for this shop' };
    const { metafields, tags, noteLine } = annotation.data;
    const orderGid = metafields[0]?.ownerId ?? `gid://shopify/Order/${order.shopifyOrderId}`;

    const steps: Array<() => Promise<Step>> = [
      () => this.ensureDefinitions(shop.domain, order.shopId, token),
      async () => mutation(await this.deps.orders.setMetafields(shop.domain, token, metafields), 'metafieldsSet'),
      async () => mutation(await this.deps.orders.addTags(shop.domain, token, orderGid, tags), 'tagsAdd'),
      () => this.appendNote(shop.domain, token, order, orderGid, noteLine),
    ];
    for (const step of steps) {
      const outcome = await step();
      if (!outcome.done) return outcome.result;
    }
    const now = this.deps.clock.now();
    await this.deps.transactor.run(async (tx) => {
      await tx.shopifyOrders.recordAnnotated(order.id, payload.digest, now, false);
      await tx.payments.addEvent(order.paymentSessionId, 'order_annotated', { order: order.name, tags: tags.join(', '), metafields: metafields.length });
    });
    return { status: 'succeeded', result: { order: order.name, tags, metafields: metafields.map((m) => m.key) } };
  }

  async onGaveUp(_job: JobRecord, payload: AnnotatePayload, error: string): Promise<void> {
    const order = await this.deps.transactor.repos.shopifyOrders.findById(payload.orderRowId);
    if (order) await this.deps.transactor.repos.payments.addEvent(order.paymentSessionId, 'order_annotation_needs_attention', { order: order.name, error });
  }

  private async ensureDefinitions(shopDomain: string, shopId: ShopId, token: Secret): Promise<Step> {
    const { repos } = this.deps.transactor;
    const state = await repos.shopifyOrders.syncState(shopId);
    if ((state?.metafieldDefinitionsVersion ?? 0) >= METAFIELD_DEFINITIONS_VERSION) return { done: true };
    for (const definition of ORDER_METAFIELD_DEFINITIONS) {
      const outcome = await this.deps.orders.createMetafieldDefinition(shopDomain, token, definition);
      if (outcome.kind !== 'data') return { done: false, result: asJobResult(outcome) };
      // Without a definition the values are still written (with their type), only not shown: no reason to stop.
      if (!outcome.data.ok) this.deps.logger.warn({ shop: shopDomain, key: definition.key, userErrors: outcome.data.userErrors }, 'Shopify refused an order metafield definition');
    }
    await repos.shopifyOrders.setMetafieldDefinitionsVersion(shopId, METAFIELD_DEFINITIONS_VERSION);
    return { done: true };
  }

  private async appendNote(shopDomain: string, token: Secret, order: ShopifyOrderRecord, orderGid: string, noteLine: string): Promise<Step> {
    if (order.noteWrittenAt || !order.flexCheckoutSessionId) return { done: true };
    const read = await this.deps.orders.noteAndTags(shopDomain, token, orderGid);
    if (read.kind !== 'data') return { done: false, result: asJobResult(read) };
    if (!read.data) return { done: false, result: { status: 'failed', error: `order ${order.name} is no longer in Shopify` } };
    const note = noteWithLine(read.data.note, noteLine, order.flexCheckoutSessionId);
    if (note !== null) {
      const written = mutation(await this.deps.orders.replaceNote(shopDomain, token, orderGid, note), 'orderUpdate');
      if (!written.done) return written;
    }
    await this.deps.transactor.repos.shopifyOrders.markNoteWritten(order.id, this.deps.clock.now());
    return { done: true };
  }
}

function mutation(outcome: AdminOutcome<MutationResult>, name: string): Step {
  if (outcome.kind !== 'data') return { done: false, result: asJobResult(outcome) };
  if (!outcome.data.ok) return { done: false, result: { status: 'failed', error: `Shopify refused ${name}: ${outcome.data.userErrors.map((e) => e.message).join('; ')}` } };
  return { done: true };
}

function asJobResult(outcome: Exclude<AdminOutcome<unknown>, { kind: 'data' }>): JobResult {
  return outcome.kind === 'retry' ? { status: 'retry', error: outcome.reason, retryAfterMs: outcome.retryAfterMs } : { status: 'failed', error: outcome.reason };
}
