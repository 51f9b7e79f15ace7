import type { Repositories } from '../db/repositories';
import type { ShopDomain } from '../lib/ids';
import { enqueueJob } from '../outbox/job-type';
import { allVariantIdsOf, itemsFromRestProduct, type RestProduct } from './catalog-item';
import { CATALOG_PUSH } from './catalog-jobs';

export interface ProductWebhookContext {
  repos: Repositories;
  shopDomain: ShopDomain;
  deliveryId: string;
  now: Date;
}

/**
 * products/create and products/update, in the transaction that records the delivery: what the REST
 * product says is written for each connected mode (an older update than the one stored changes
 * nothing, so late or reordered webhooks are harmless), variants it no longer has are marked deleted,
 * and a push job carries it to Flex after the answer. When the payload holds only some variants
 * (`variant_gids` lists more), or the shop's currency is not known yet, the push reads the product
 * from the Admin API first.
 */
export async function applyProductChange(product: RestProduct, { repos, shopDomain, deliveryId, now }: ProductWebhookContext): Promise<string> {
  const shop = await repos.shops.findByDomain(shopDomain);
  if (!shop || shop.status !== 'ACTIVE') return 'ignored_unknown_shop';
  const connections = await repos.flexConnections.listForShop(shop.id);
  if (connections.length === 0) return 'ignored_no_flex_connection';
  const productId = String(product.id);
  const truncated = (product.variant_gids?.length ?? 0) > product.variants.length;
  for (const { mode } of connections) {
    const sync = await repos.catalogSyncs.find(shop.id, mode);
    const currency = sync?.currency ?? null;
    if (currency) {
      const items = itemsFromRestProduct(shopDomain, currency, product).flatMap((r) => (r.ok ? [r.item] : []));
      await repos.catalog.upsertFromShopify(shop.id, mode, sync?.run ?? 0, items);
      await repos.catalog.markVariantsRemoved(shop.id, mode, productId, allVariantIdsOf(product), now);
    }
    await enqueuePush(repos, shop.id, mode, productId, deliveryId, now, truncated || !currency);
  }
  return 'catalog_updated';
}

/** products/delete: the product's variants are marked deleted; the push deactivates their Flex products. */
export async function applyProductDeletion(productId: number, { repos, shopDomain, deliveryId, now }: ProductWebhookContext): Promise<string> {
  const shop = await repos.shops.findByDomain(shopDomain);
  if (!shop) return 'ignored_unknown_shop';
  const connections = await repos.flexConnections.listForShop(shop.id);
  let deleted = 0;
  for (const { mode } of connections) {
    const marked = await repos.catalog.markProductDeleted(shop.id, mode, String(productId), now);
    deleted += marked;
    if (marked > 0) await enqueuePush(repos, shop.id, mode, String(productId), deliveryId, now, false);
  }
  return deleted > 0 ? 'catalog_product_deleted' : 'ignored_unknown_product';
}

async function enqueuePush(repos: Repositories, shopId: string, mode: 'LIVE' | 'TEST', productId: string, deliveryId: string, now: Date, refetch: boolean): Promise<void> {
  await enqueueJob(repos.jobs, CATALOG_PUSH, { shopId, mode, productIds: [productId], batch: 0, ...(refetch ? { refetch: [productId] } : {}) }, {
    dedupeKey: `${CATALOG_PUSH.kind}:${deliveryId}:${mode}`,
    shopId,
    subject: { type: 'shop', id: shopId },
    runAt: now,
  });
}
