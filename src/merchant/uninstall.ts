import { z } from 'zod';
import { CATALOG_JOB_KINDS } from '../catalog/catalog-jobs';
import type { JobRecord } from '../db/repositories/jobs';
import type { Transactor } from '../db/transactor';
import { FlexApiError, type FlexClient } from '../flex/flex-client';
import type { Clock } from '../lib/clock';
import type { ShopDomain } from '../lib/ids';
import { normalizeShopDomain } from '../lib/shop-domain';
import type { Logger } from '../lib/logger';
import { defineJobType, enqueueJob } from '../outbox/job-type';
import type { JobHandler, JobResult } from '../outbox/outbox-worker';
import type { ShopifyAccessTokens } from '../shopify/access-tokens';
import type { ShopifyPaymentsApiClient } from '../shopify/payments-api-client';
import { CONFIGURE_PAYMENTS_APP } from './payments-app-configuration';

/**
 * Uninstalling, in order and durably. `app/uninstalled` is only signed in its body, so a captured
 * one can be replayed later (under a new webhook id), and Shopify may deliver one late, after the
 * merchant installed again. So the webhook only queues this job; the job asks Shopify whether the
 * app's token still works, and uninstalls only if it does not (Shopify revokes it on uninstall).
 *
 * Uninstalling drops the Shopify tokens and readiness, cancels only the jobs that carry no money
 * (telling Shopify the provider is ready, the catalog sync), and leaves the rest: a resolve for a paid checkout or a
 * refund's result still completes, or waits for the merchant (needs attention). The shop's Flex
 * connections are released by a second job, once nothing open in Flex needs them any more.
 */
export const APPLY_UNINSTALL = defineJobType('merchant.apply-uninstall', z.object({ shopDomain: z.string(), deliveryId: z.string() }));
export const RELEASE_FLEX_CONNECTIONS = defineJobType('merchant.release-flex-connections', z.object({ shopId: z.string() }));

export function queueUninstall(jobs: Parameters<typeof enqueueJob>[0], shopDomain: ShopDomain, deliveryId: string, now: Date): Promise<JobRecord> {
  return enqueueJob(jobs, APPLY_UNINSTALL, { shopDomain, deliveryId }, { dedupeKey: `${APPLY_UNINSTALL.kind}:${deliveryId}`, subject: { type: 'shopify_webhook', id: deliveryId }, runAt: now });
}

export class ApplyUninstallJob implements JobHandler<z.infer<typeof APPLY_UNINSTALL.payload>> {
  readonly type = APPLY_UNINSTALL;

  constructor(private readonly deps: { transactor: Transactor; tokens: ShopifyAccessTokens; shopify: ShopifyPaymentsApiClient; clock: Clock; logger: Logger }) {}

  async handle(_job: JobRecord, payload: z.infer<typeof APPLY_UNINSTALL.payload>): Promise<JobResult> {
    const shopDomain = normalizeShopDomain(payload.shopDomain);
    if (!shopDomain) return { status: 'failed', error: `not a shop domain: ${payload.shopDomain}` };
    const token = await this.deps.tokens.forShop(shopDomain);
    if (token) {
      const status = await this.deps.shopify.tokenStatus(shopDomain, token);
      if (status === 'unknown') return { status: 'retry', error: 'could not ask Shopify whether the app is still installed' };
      if (status === 'accepted') {
        await this.finishDelivery(payload.deliveryId, 'ignored_still_installed');
        this.deps.logger.warn({ shop: shopDomain }, 'app/uninstalled for a shop where the app is installed (late or replayed): nothing changed');
        return { status: 'succeeded', result: { outcome: 'ignored_still_installed' } };
      }
    }
    const now = this.deps.clock.now();
    const result = await this.deps.transactor.run(async (repos) => {
      const sessionsDeleted = await repos.customerData.deleteSessionsOf(shopDomain);
      const shop = await repos.shops.findByDomain(shopDomain);
      if (!shop) return { outcome: 'unknown_shop', sessionsDeleted };
      await repos.shops.markUninstalled(shop.id, now);
      const jobsCanceled = await repos.jobs.cancelForShop(shop.id, [CONFIGURE_PAYMENTS_APP.kind, ...CATALOG_JOB_KINDS], now, 'the app was uninstalled from this shop');
      await enqueueJob(repos.jobs, RELEASE_FLEX_CONNECTIONS, { shopId: shop.id }, {
        dedupeKey: `${RELEASE_FLEX_CONNECTIONS.kind}:${payload.deliveryId}`,
        shopId: shop.id,
        subject: { type: 'shop', id: shop.id },
        runAt: now,
      });
      return { outcome: 'uninstalled', sessionsDeleted, jobsCanceled };
    });
    await this.finishDelivery(payload.deliveryId, result.outcome);
    this.deps.logger.info({ shop: shopDomain, ...result }, 'app uninstalled');
    return { status: 'succeeded', result };
  }

  private async finishDelivery(deliveryId: string, outcome: string): Promise<void> {
    await this.deps.transactor.repos.shopifyWebhookDeliveries.finish(deliveryId, outcome, this.deps.clock.now());
  }
}

/**
 * After an uninstall: the shop's Flex webhook endpoints are deleted in Flex (with the keys that made
 * them) and its keys are dropped, once no payment, refund, capture or void of the shop is still open
 * in Flex; until then the keys stay, so that what is in flight can finish. A reinstall since makes
 * this job moot (the connections belong to the new installation).
 */
export class ReleaseFlexConnectionsJob implements JobHandler<z.infer<typeof RELEASE_FLEX_CONNECTIONS.payload>> {
  readonly type = RELEASE_FLEX_CONNECTIONS;

  constructor(private readonly deps: { transactor: Transactor; flex: FlexClient; logger: Logger; recheckMs?: number }) {}

  async handle(_job: JobRecord, { shopId }: z.infer<typeof RELEASE_FLEX_CONNECTIONS.payload>): Promise<JobResult> {
    const { repos } = this.deps.transactor;
    const shop = await repos.shops.findById(shopId);
    if (!shop) return { status: 'succeeded', result: { skipped: 'shop deleted' } };
    if (shop.status === 'ACTIVE') return { status: 'succeeded', result: { skipped: 'installed again' } };
    const connections = await repos.flexConnections.listForShop(shopId);
    for (const connection of connections) {
      const open = await repos.ledger.openMoneyOfShop(shopId, connection.mode === 'TEST');
      const busy = open.payments + open.refunds + open.captures + open.voids;
      if (busy > 0) return { status: 'retry', error: `${busy} payment(s), refund(s), capture(s) or void(s) of this shop are still open in Flex (${connection.mode.toLowerCase()})`, retryAfterMs: this.deps.recheckMs ?? 10 * 60 * 1000 };
    }
    for (const connection of connections) {
      if (connection.webhookEndpointId) {
        try {
          await this.deps.flex.forKey(connection.apiKey).deleteWebhookEndpoint(connection.webhookEndpointId, `delete-webhook-endpoint:${connection.webhookEndpointId}`);
        } catch (error) {
          if (!(error instanceof FlexApiError) || error.kind !== 'unauthorized') throw error;
          // The merchant revoked the key: only they can remove the endpoint now, and its deliveries are refused here.
          this.deps.logger.warn({ shopId, mode: connection.mode }, 'Flex refused the key while removing a webhook endpoint');
        }
      }
      await repos.flexConnections.remove(shopId, connection.mode);
    }
    return { status: 'succeeded', result: { released: connections.map((c) => c.mode) } };
  }
}
