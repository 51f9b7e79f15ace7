import type { FlexMode } from '@prisma/client';
import type { z } from 'zod';
import type { JobRecord } from '../db/repositories/jobs';
import type { Secret } from '../lib/secret';
import { flexAcceptsCurrency } from '../flex/flex-currency';
import { enqueueJob } from '../outbox/job-type';
import type { JobHandler, JobResult } from '../outbox/outbox-worker';
import { itemFromAdminVariant, type CatalogItem } from './catalog-item';
import { CATALOG_PUSH, enqueueMetafields } from './catalog-jobs';
import { catalogTarget, describeShopifyRefusal } from './catalog-target';
import { catalogPushFailed, type CatalogSyncDeps } from './sync-catalog-page';

type PushPayload = z.infer<typeof CATALOG_PUSH.payload>;

const PENDING_BATCH = 100;
/** A variant another push holds is that push's; this job looks again shortly. */
const HELD_ELSEWHERE_RETRY_MS = 2_000;

/**
 * Pushes to Flex what products/* webhooks wrote (their products' variants), or, after a full sync,
 * every variant of the mode still differing from Flex (deleted while the app was not listening,
 * left behind by a failed push), a batch per job.
 */
export class PushCatalogJob implements JobHandler<PushPayload> {
  readonly type = CATALOG_PUSH;

  constructor(private readonly deps: CatalogSyncDeps) {}

  async handle(job: JobRecord, p: PushPayload): Promise<JobResult> {
    const found = await catalogTarget(this.deps, p.shopId, p.mode);
    if (!found.ok && 'stop' in found) return { status: 'succeeded', result: { skipped: found.stop } };
    if (!found.ok) return { status: 'retry', error: found.retry, retryAfterMs: 1_000 };
    const { shop, token, target } = found;

    const currency = await this.currencyOf(p.shopId, p.mode, shop.domain, token);
    if (currency.kind !== 'ok') return currency.result;
    if (!flexAcceptsCurrency(currency.currency)) return { status: 'succeeded', result: { skipped: `currency ${currency.currency}` } };

    for (const productId of p.refetch ?? []) {
      const refetched = await this.refetch(p.shopId, p.mode, shop.domain, token, currency.currency, productId);
      if (refetched) return refetched;
    }

    const selection = p.pending ? ({ pending: true } as const) : { productIds: p.productIds ?? [] };
    let outcome;
    try {
      outcome = await this.deps.pusher.push(target, selection, p.pending ? PENDING_BATCH : 10_000);
    } catch (error) {
      return catalogPushFailed(this.deps, p.shopId, p.mode, found.connection.id, error);
    }
    const now = this.deps.clock.now();
    await this.deps.transactor.run(async (tx) => {
      await enqueueMetafields(tx, p.shopId, p.mode, outcome.productIds, job.id, now);
      if (p.pending && outcome.full) {
        const sync = await tx.catalogSyncs.find(p.shopId, p.mode);
        await enqueueJob(tx.jobs, CATALOG_PUSH, { ...p, batch: p.batch + 1 }, {
          dedupeKey: `${CATALOG_PUSH.kind}:pending:${p.shopId}:${p.mode}:r${sync?.run ?? 0}:b${p.batch + 1}`,
          shopId: p.shopId,
          subject: { type: 'shop', id: p.shopId },
          runAt: now,
        });
      }
    });
    if (outcome.heldElsewhere > 0) return { status: 'retry', error: `${outcome.heldElsewhere} variant(s) are being pushed by another job`, retryAfterMs: HELD_ELSEWHERE_RETRY_MS };
    return { status: 'succeeded', result: { pushed: outcome.pushed, refused: outcome.refused } };
  }

  /** The shop's currency: known from the full sync, else asked once. */
  private async currencyOf(shopId: string, mode: FlexMode, shopDomain: string, token: Secret): Promise<{ kind: 'ok'; currency: string } | { kind: 'stop'; result: JobResult }> {
    const { repos } = this.deps.transactor;
    const sync = await repos.catalogSyncs.find(shopId, mode);
    if (sync?.currency) return { kind: 'ok', currency: sync.currency };
    const asked = await this.deps.admin.shopCurrency(shopDomain, token);
    if (asked.kind === 'retry') return { kind: 'stop', result: { status: 'retry', error: asked.reason, retryAfterMs: asked.retryAfterMs } };
    if (asked.kind === 'failed') return { kind: 'stop', result: { status: 'succeeded', result: { skipped: describeShopifyRefusal(asked.reason) } } };
    await repos.catalogSyncs.setCurrency(shopId, mode, asked.value);
    return { kind: 'ok', currency: asked.value };
  }

  /** Reads every variant of a product from the Admin API (its webhook had only some) and writes them. */
  private async refetch(shopId: string, mode: FlexMode, shopDomain: string, token: Secret, currency: string, productId: string): Promise<JobResult | null> {
    const { repos } = this.deps.transactor;
    const run = (await repos.catalogSyncs.find(shopId, mode))?.run ?? 0;
    let after: string | null = null;
    for (;;) {
      const read = await this.deps.admin.catalogPage(shopDomain, token, { first: 250, after, query: `product_id:${productId}` });
      if (read.kind === 'retry') return { status: 'retry', error: read.reason, retryAfterMs: read.retryAfterMs };
      if (read.kind === 'failed') return { status: 'succeeded', result: { skipped: describeShopifyRefusal(read.reason) } };
      const items = read.value.variants.map((v) => itemFromAdminVariant(shopDomain, currency, v)).flatMap((r) => (r.ok ? [r.item] : [])) as CatalogItem[];
      await repos.catalog.upsertFromShopify(shopId, mode, run, items);
      if (!read.value.hasNextPage || !read.value.endCursor) return null;
      after = read.value.endCursor;
    }
  }
}
