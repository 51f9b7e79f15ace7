import type { FlexMode } from '@prisma/client';
import type { z } from 'zod';
import type { JobRecord } from '../db/repositories/jobs';
import type { Transactor } from '../db/transactor';
import { FlexApiError, type FlexClient } from '../flex/flex-client';
import { flexAcceptsCurrency } from '../flex/flex-currency';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { enqueueJob } from '../outbox/job-type';
import type { JobHandler, JobResult } from '../outbox/outbox-worker';
import type { ShopifyAccessTokens } from '../shopify/access-tokens';
import { waitForBucketMs } from '../shopify/admin-api-client';
import { catalogPageCost, type ShopifyCatalogApi } from '../shopify/admin-catalog';
import { itemFromAdminVariant, type CatalogItem } from './catalog-item';
import { CATALOG_PUSH, CATALOG_SYNC_PAGE, enqueueMetafields, pageJobKey } from './catalog-jobs';
import { catalogTarget, describeShopifyRefusal } from './catalog-target';
import { PushLater, type FlexCatalogPusher, type PushTarget } from './push-to-flex';

type PagePayload = z.infer<typeof CATALOG_SYNC_PAGE.payload>;

export interface CatalogSyncDeps {
  transactor: Transactor;
  flex: FlexClient;
  admin: ShopifyCatalogApi;
  tokens: ShopifyAccessTokens;
  pusher: FlexCatalogPusher;
  clock: Clock;
  logger: Logger;
  /** Variants per page (and per job); at most 250 (Shopify's page limit). Default 100. */
  pageSize?: number;
}

/**
 * One page of a full sync: reads `pageSize` variants after the cursor from the Admin API, writes what
 * Shopify says, pushes those that differ to Flex, then, in one transaction, records the page (cursor,
 * count) and enqueues the next page, or finishes the run. The whole catalog is never in memory: one
 * page at a time, and a crash at any point resumes at this page (what it already pushed is in sync
 * and skipped; what Flex made without our hearing is found by its idempotency key).
 *
 * Shopify's throttling: a THROTTLED answer waits for the bucket to refill (from its throttle status),
 * and the next page is scheduled for when the bucket holds its cost. Flex's 429s pause the push.
 */
export class SyncCatalogPageJob implements JobHandler<PagePayload> {
  readonly type = CATALOG_SYNC_PAGE;
  private readonly pageSize: number;

  constructor(private readonly deps: CatalogSyncDeps) {
    this.pageSize = Math.min(250, Math.max(1, deps.pageSize ?? 100));
  }

  async handle(job: JobRecord, p: PagePayload): Promise<JobResult> {
    const { repos } = this.deps.transactor;
    const sync = await repos.catalogSyncs.find(p.shopId, p.mode);
    if (!sync || sync.run !== p.run || sync.status !== 'RUNNING') return { status: 'succeeded', result: { skipped: 'a newer sync run took over' } };
    // Recorded already: the job crashed after its commit. The next page was enqueued with it.
    if (sync.page > p.page) return { status: 'succeeded', result: { skipped: 'page already done' } };
    const now = this.deps.clock.now();
    const found = await catalogTarget(this.deps, p.shopId, p.mode);
    if (!found.ok && 'stop' in found) {
      await repos.catalogSyncs.fail(p.shopId, p.mode, p.run, found.stop, now);
      return { status: 'succeeded', result: { stopped: found.stop } };
    }
    if (!found.ok) return { status: 'retry', error: found.retry, retryAfterMs: 1_000 };
    const { shop, token, target } = found;

    if (p.page === 0) {
      const checked = await this.checkMapping(target);
      if (checked) return checked;
    }

    const read = await this.deps.admin.catalogPage(shop.domain, token, { first: this.pageSize, after: p.cursor });
    if (read.kind === 'failed') {
      await repos.catalogSyncs.fail(p.shopId, p.mode, p.run, describeShopifyRefusal(read.reason), now);
      return { status: 'succeeded', result: { stopped: read.reason } };
    }
    if (read.kind === 'retry') {
      if (!read.throttled) await repos.catalogSyncs.noteProblem(p.shopId, p.mode, `Could not read the catalog from Shopify (${read.reason}); trying again.`, now);
      return { status: 'retry', error: read.reason, retryAfterMs: read.retryAfterMs };
    }
    const page = read.value;
    if (!flexAcceptsCurrency(page.currencyCode)) {
      await repos.catalogSyncs.fail(p.shopId, p.mode, p.run, `Flex takes US dollars only; this store sells in ${page.currencyCode}, so its products are not sent to Flex.`, now);
      return { status: 'succeeded', result: { stopped: `currency ${page.currencyCode}` } };
    }

    const items: CatalogItem[] = [];
    const unreadable: string[] = [];
    for (const node of page.variants) {
      const built = itemFromAdminVariant(shop.domain, page.currencyCode, node);
      if (built.ok) items.push(built.item);
      else unreadable.push(`variant ${built.variantId}: ${built.problem}`);
    }
    await repos.catalog.upsertFromShopify(p.shopId, p.mode, p.run, items);

    try {
      await this.deps.pusher.push(target, { variantIds: items.map((i) => i.shopifyVariantId) }, items.length);
    } catch (error) {
      return this.pushFailed(p.shopId, p.mode, found.connection.id, error);
    }

    const finished = this.deps.clock.now();
    await this.deps.transactor.run(async (tx) => {
      const advanced = await tx.catalogSyncs.advance(p.shopId, p.mode, p.run, p.page, { cursor: page.endCursor, seen: page.variants.length, currency: page.currencyCode });
      if (!advanced) return;
      if (unreadable.length > 0) {
        await tx.catalogSyncs.noteProblem(p.shopId, p.mode, `${unreadable.length} variant(s) could not be read and were left out: ${unreadable.slice(0, 3).join('; ')}`, finished);
      }
      if (page.hasNextPage && page.endCursor) {
        const wait = waitForBucketMs(read.cost, catalogPageCost(this.pageSize));
        await enqueueJob(tx.jobs, CATALOG_SYNC_PAGE, { ...p, page: p.page + 1, cursor: page.endCursor }, {
          dedupeKey: pageJobKey(p.shopId, p.mode, p.run, p.page + 1),
          shopId: p.shopId,
          subject: { type: 'shop', id: p.shopId },
          runAt: new Date(finished.getTime() + wait),
        });
      } else {
        // Variants the run did not see were deleted while the app was not listening; they and any
        // variant an earlier push left behind are pushed by one more job.
        const deleted = await tx.catalog.markUnseenDeleted(p.shopId, p.mode, p.run, finished);
        await tx.catalogSyncs.complete(p.shopId, p.mode, p.run, finished);
        await enqueueJob(tx.jobs, CATALOG_PUSH, { shopId: p.shopId, mode: p.mode, pending: true, batch: 0 }, {
          dedupeKey: `${CATALOG_PUSH.kind}:pending:${p.shopId}:${p.mode}:r${p.run}:b0`,
          shopId: p.shopId,
          subject: { type: 'shop', id: p.shopId },
          runAt: finished,
        });
        this.deps.logger.info({ shop: shop.domain, mode: p.mode, run: p.run, pages: p.page + 1, deleted }, 'catalog sync finished');
      }
      // Every product of the page: the job writes only what differs from what Shopify was last given.
      await enqueueMetafields(tx, p.shopId, p.mode, items.map((i) => i.shopifyProductId), job.id, finished);
    });
    return { status: 'succeeded', result: { variants: page.variants.length, hasNextPage: page.hasNextPage } };
  }

  /**
   * At the start of a run: a new key may belong to another Flex account, where none of the mapped
   * products exist. One mapped product is read with the key; if Flex does not know it, the mapping is
   * dropped and everything is made again in this account.
   */
  private async checkMapping(target: PushTarget): Promise<JobResult | null> {
    const { repos } = this.deps.transactor;
    const mapped = await repos.catalog.anyMapped(target.shopId, target.mode);
    if (!mapped) return null;
    try {
      await target.flex.getProduct(mapped.flexProductId);
      return null;
    } catch (error) {
      if (error instanceof FlexApiError && error.kind === 'not_found') {
        const forgotten = await repos.catalog.forgetFlexObjects(target.shopId, target.mode);
        this.deps.logger.warn({ shopId: target.shopId, mode: target.mode, forgotten }, 'the Flex key does not know the mapped products (another Flex account): making them again');
        return null;
      }
      return this.pushFailed(target.shopId, target.mode, null, error);
    }
  }

  private async pushFailed(shopId: string, mode: FlexMode, connectionId: string | null, error: unknown): Promise<JobResult> {
    return catalogPushFailed(this.deps, shopId, mode, connectionId, error);
  }
}

/** A push that could not finish: the job runs again (after Flex's Retry-After), and the merchant sees why. */
export async function catalogPushFailed(
  deps: { transactor: Transactor; clock: Clock },
  shopId: string,
  mode: FlexMode,
  connectionId: string | null,
  error: unknown,
): Promise<JobResult> {
  const { repos } = deps.transactor;
  const now = deps.clock.now();
  if (error instanceof PushLater) {
    await repos.catalogSyncs.noteProblem(shopId, mode, `${capitalize(error.message)}.`, now);
    return { status: 'retry', error: error.message, retryAfterMs: error.retryAfterMs };
  }
  if (error instanceof FlexApiError && error.kind === 'unauthorized') {
    if (connectionId) await repos.flexConnections.markKeyRejected(connectionId, now);
    await repos.catalogSyncs.noteProblem(shopId, mode, 'Flex refuses the API key; products are sent again once a working key is saved.', now);
    return { status: 'retry', error: error.message };
  }
  await repos.catalogSyncs.noteProblem(shopId, mode, `Could not reach Flex (${(error as Error).message}); trying again.`, now);
  return { status: 'retry', error: (error as Error).message, retryAfterMs: error instanceof FlexApiError ? error.retryAfterMs : undefined };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
