import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Repositories } from '../db/repositories';
import type { FlexConnectionWithSecrets } from '../db/repositories/flex-connections';
import type { JobRecord } from '../db/repositories/jobs';
import type { Transactor } from '../db/transactor';
import type { Clock } from '../lib/clock';
import type { ShopId } from '../lib/ids';
import type { Logger } from '../lib/logger';
import { defineJobType, enqueueJob } from '../outbox/job-type';
import type { JobHandler, JobResult, RunNowResult } from '../outbox/outbox-worker';
import type { ShopifyAccessTokens } from '../shopify/access-tokens';
import type { ShopifyPaymentsApiClient } from '../shopify/payments-api-client';

export interface DesiredConfiguration {
  ready: boolean;
  /** Shown to the merchant in Shopify's payments settings; kept as it was when not ready. */
  externalHandle: string | null;
}

/** `paymentsAppConfigure` for one shop, sent through the outbox. */
export const CONFIGURE_PAYMENTS_APP = defineJobType(
  'shopify.payments-app-configure',
  z.object({ shopId: z.string(), ready: z.boolean(), externalHandle: z.string().nullable() }),
);
type ConfigurePayload = z.infer<typeof CONFIGURE_PAYMENTS_APP.payload>;

/**
 * What Shopify should show for a shop: ready with at least one Flex key connected. Flex tells us no
 * account name for a key, so the handle names the key the merchant connected (live first).
 */
export function desiredConfiguration(shopActive: boolean, connections: Array<Pick<FlexConnectionWithSecrets, 'mode' | 'apiKeyHint'>>): DesiredConfiguration {
  if (!shopActive || connections.length === 0) return { ready: false, externalHandle: null };
  const live = connections.find((c) => c.mode === 'LIVE');
  const chosen = live ?? connections[0]!;
  return { ready: true, externalHandle: live ? `Flex ${chosen.apiKeyHint}` : `Flex (test only) ${chosen.apiKeyHint}` };
}

/** Queued or running configuration jobs of a shop. */
export async function pendingConfigurationJobs(repos: Repositories, shopId: string): Promise<JobRecord[]> {
  const jobs = await repos.jobs.list({ shopId, status: ['QUEUED', 'RUNNING'], subjectId: shopId, limit: 20 });
  return jobs.filter(isConfigurationJob);
}

export function isConfigurationJob(job: Pick<JobRecord, 'kind'>): boolean {
  return job.kind === CONFIGURE_PAYMENTS_APP.kind;
}

export function enqueueConfiguration(repos: Repositories, shopId: string, desired: DesiredConfiguration, now: Date): Promise<JobRecord> {
  return enqueueJob(repos.jobs, CONFIGURE_PAYMENTS_APP, { shopId, ready: desired.ready, externalHandle: desired.externalHandle }, {
    // One job per configuration change: the same "ready" twice is still two changes to send.
    dedupeKey: `shopify:paymentsAppConfigure:${shopId}:${randomUUID()}`,
    shopId,
    subject: { type: 'shop', id: shopId },
    runAt: now,
  });
}

/**
 * Tells Shopify whether Flex is ready for a shop (`paymentsAppConfigure`), through the durable
 * outbox. The merchant is waiting on the settings page, so one attempt is made right away; the
 * worker keeps retrying after that.
 */
export class PaymentsAppConfiguration {
  constructor(
    private readonly deps: {
      transactor: Transactor;
      clock: Clock;
      runNow: (jobId: string) => Promise<RunNowResult>;
    },
  ) {}

  /** Sends the configuration the shop's current Flex connections call for. */
  async sync(shopId: ShopId): Promise<{ job: JobRecord; desired: DesiredConfiguration; attempt: RunNowResult }> {
    const { job, desired } = await this.deps.transactor.run(async (repos) => {
      const shop = await repos.shops.findById(shopId);
      const desired = desiredConfiguration(shop?.status === 'ACTIVE', await repos.flexConnections.listForShop(shopId));
      return { desired, job: await enqueueConfiguration(repos, shopId, desired, this.deps.clock.now()) };
    });
    return { job, desired, attempt: await this.deps.runNow(job.id) };
  }
}

/**
 * Sends `paymentsAppConfigure` and records what Shopify acknowledged on the shop (readiness shows on
 * the settings page). Jobs are not ordered, so a late acknowledgement can leave Shopify with an older
 * configuration than the connections call for; then a fresh job is queued, and Shopify converges.
 */
export class ConfigurePaymentsAppJob implements JobHandler<ConfigurePayload> {
  readonly type = CONFIGURE_PAYMENTS_APP;

  constructor(
    private readonly deps: { transactor: Transactor; tokens: ShopifyAccessTokens; client: ShopifyPaymentsApiClient; clock: Clock; logger: Logger },
  ) {}

  async handle(_job: JobRecord, payload: ConfigurePayload): Promise<JobResult> {
    const shop = await this.deps.transactor.repos.shops.findById(payload.shopId);
    if (!shop) return { status: 'failed', error: 'shop no longer exists' };
    const token = await this.deps.tokens.forShop(shop.domain);
    if (!token) {
      return shop.status === 'UNINSTALLED'
        ? { status: 'failed', error: 'the app was uninstalled from this shop' }
        : { status: 'retry', error: 'no Shopify access token stored for this shop' };
    }
    const variables: Record<string, unknown> = { ready: payload.ready };
    if (payload.externalHandle !== null) variables.externalHandle = payload.externalHandle;
    const outcome = await this.deps.client.mutate(shop.domain, token, 'paymentsAppConfigure', variables);
    switch (outcome.kind) {
      case 'acknowledged':
        await this.recordAcknowledged(shop.id, outcome.subject as { ready?: boolean; externalHandle?: string | null } | null);
        return { status: 'succeeded', result: { ready: Boolean((outcome.subject as { ready?: boolean } | null)?.ready) } };
      case 'retry':
        return { status: 'retry', error: outcome.reason, retryAfterMs: outcome.retryAfterMs };
      case 'failed':
        return { status: 'failed', error: outcome.reason, result: { userErrors: outcome.userErrors.map((e) => ({ field: e.field ?? null, message: e.message })) } };
    }
  }

  async onGaveUp(_job: JobRecord, payload: ConfigurePayload, error: string): Promise<void> {
    this.deps.logger.error({ shopId: payload.shopId, error }, 'Shopify did not take the payments app configuration; shown on the settings page');
  }

  private async recordAcknowledged(shopId: ShopId, acknowledged: { ready?: boolean; externalHandle?: string | null } | null): Promise<void> {
    const corrected = await this.deps.transactor.run(async (repos) => {
      const shop = await repos.shops.findById(shopId);
      if (!shop) return false;
      const ready = Boolean(acknowledged?.ready) && shop.status === 'ACTIVE';
      await repos.shops.setPaymentsAppConfiguration(shopId, ready, acknowledged?.externalHandle ?? shop.externalHandle);
      this.deps.logger.info({ shop: shop.domain, ready }, 'Shopify acknowledged the payments app configuration');
      if (shop.status !== 'ACTIVE') return false;
      const desired = desiredConfiguration(true, await repos.flexConnections.listForShop(shopId));
      const matches = desired.ready === Boolean(acknowledged?.ready) && (!desired.ready || desired.externalHandle === (acknowledged?.externalHandle ?? null));
      if (matches) return false;
      const queued = (await pendingConfigurationJobs(repos, shopId)).filter((j) => j.status === 'QUEUED');
      if (queued.length > 0) return false;
      await enqueueConfiguration(repos, shopId, desired, this.deps.clock.now());
      return true;
    });
    if (corrected) this.deps.logger.info({ shopId }, 'Shopify holds an older payments app configuration; sending the current one');
  }
}
