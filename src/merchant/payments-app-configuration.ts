import { randomUUID } from 'node:crypto';
import type { Repositories, Transactor } from '../db/repositories';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { JobRecord } from '../outbox/job-repository';
import type { RunNowResult } from '../outbox/outbox-worker';
import { enqueueShopifyMutation, SHOPIFY_MUTATION_JOB, type MutationSubjectHooks } from '../outbox/shopify-mutation-job';
import type { FlexConnectionWithSecrets } from '../shops/flex-connection-repository';
import type { MutationSubject } from '../shopify/payments-api-client';
import type { PaymentsMutationName } from '../shopify/payments-mutations';

/** Outbox subject type of the shop-level mutation (paymentsAppConfigure). */
export const SHOP_SUBJECT = 'shop';

export interface DesiredConfiguration {
  ready: boolean;
  /** Shown to the merchant in Shopify's payments settings; kept as it was when not ready. */
  externalHandle: string | null;
}

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

/** Queued or running paymentsAppConfigure jobs of a shop. */
export async function pendingConfigurationJobs(repos: Repositories, shopId: string): Promise<JobRecord[]> {
  const jobs = await repos.jobs.list({ shopId, status: ['QUEUED', 'RUNNING'], subjectId: shopId, limit: 20 });
  return jobs.filter((j) => j.kind === SHOPIFY_MUTATION_JOB && j.subjectType === SHOP_SUBJECT);
}

export function enqueueConfiguration(repos: Repositories, shopId: string, desired: DesiredConfiguration, now: Date): Promise<JobRecord> {
  const variables: Record<string, unknown> = { ready: desired.ready };
  if (desired.externalHandle !== null) variables.externalHandle = desired.externalHandle;
  return enqueueShopifyMutation(repos.jobs, {
    shopId,
    mutation: 'paymentsAppConfigure',
    variables,
    subject: { type: SHOP_SUBJECT, id: shopId },
    now,
    // One job per configuration change: the same "ready" twice is still two changes to send.
    dedupeKey: `shopify:paymentsAppConfigure:${shopId}:${randomUUID()}`,
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
      wake: () => void;
    },
  ) {}

  /** Sends the configuration the shop's current Flex connections call for. */
  async sync(shopId: string): Promise<{ job: JobRecord; desired: DesiredConfiguration; attempt: RunNowResult }> {
    const { job, desired } = await this.deps.transactor.run(async (repos) => {
      const shop = await repos.shops.findById(shopId);
      const desired = desiredConfiguration(shop?.status === 'ACTIVE', await repos.flexConnections.listForShop(shopId));
      return { desired, job: await enqueueConfiguration(repos, shopId, desired, this.deps.clock.now()) };
    });
    const attempt = await this.deps.runNow(job.id);
    if (attempt !== 'succeeded') this.deps.wake();
    return { job, desired, attempt };
  }
}

/**
 * What Shopify acknowledged is recorded on the shop (readiness shows on the settings page). Jobs are
 * not ordered, so a late acknowledgement can leave Shopify with an older configuration than the one
 * the connections call for; then a fresh job is queued, and Shopify converges on the latest.
 */
export class ShopConfigurationHooks implements MutationSubjectHooks {
  constructor(
    private readonly deps: { transactor: Transactor; clock: Clock; logger: Logger; onJobEnqueued: () => void },
  ) {}

  async onAcknowledged(shopId: string, mutation: PaymentsMutationName, subject: MutationSubject | null): Promise<void> {
    if (mutation !== 'paymentsAppConfigure') return;
    const acknowledged = subject as { ready?: boolean; externalHandle?: string | null } | null;
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
    if (corrected) {
      this.deps.logger.info({ shopId }, 'Shopify holds an older payments app configuration; sending the current one');
      this.deps.onJobEnqueued();
    }
  }

  async onGaveUp(shopId: string, mutation: PaymentsMutationName, error: string): Promise<void> {
    this.deps.logger.error({ shopId, mutation, error }, 'Shopify did not take the payments app configuration; shown on the settings page');
  }
}
