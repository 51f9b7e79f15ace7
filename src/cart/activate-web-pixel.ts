import { z } from 'zod';
import type { Repositories } from '../db/repositories';
import type { JobRecord } from '../db/repositories/jobs';
import type { Transactor } from '../db/transactor';
import type { Clock } from '../lib/clock';
import type { ShopId } from '../lib/ids';
import type { Logger } from '../lib/logger';
import { defineJobType, enqueueJob } from '../outbox/job-type';
import type { JobHandler, JobResult } from '../outbox/outbox-worker';
import type { ShopifyAccessTokens } from '../shopify/access-tokens';
import type { ShopifyWebPixels } from '../shopify/web-pixel-api';

/** Activates (or re-points) the cart pixel on a shop, through the outbox. */
export const ACTIVATE_WEB_PIXEL = defineJobType('shopify.activate-web-pixel', z.object({ shopId: z.string() }));
type ActivatePayload = z.infer<typeof ACTIVATE_WEB_PIXEL.payload>;

/** The pixel posts here (http/routes/pixel.ts). */
export function pixelEndpoint(appUrl: string): string {
  return `${appUrl.replace(/\/$/, '')}/pixel/checkout`;
}

/**
 * Queues the pixel's activation: after an install (OAuth, or `shops:add`) and after Flex is
 * connected. One queued job per shop at a time; it reads the shop's key and the app's URL when it
 * runs, so a later activation finds the work already queued.
 */
export async function enqueueWebPixelActivation(repos: Repositories, shopId: ShopId, now: Date): Promise<void> {
  await repos.shops.ensurePixelKey(shopId);
  await enqueueJob(repos.jobs, ACTIVATE_WEB_PIXEL, { shopId }, {
    dedupeKey: `shopify:activate-web-pixel:${shopId}:${now.getTime()}`,
    shopId,
    subject: { type: 'shop', id: shopId },
    runAt: now,
  });
}

/**
 * `webPixelCreate` (or `webPixelUpdate`) with the shop's pixel key and our endpoint in the pixel's
 * settings. A refusal for good (a missing scope, the extension not deployed) is kept on the shop
 * for the settings page; the cart still reaches Flex through the checkout webhooks.
 */
export class ActivateWebPixelJob implements JobHandler<ActivatePayload> {
  readonly type = ACTIVATE_WEB_PIXEL;

  constructor(private readonly deps: { transactor: Transactor; tokens: ShopifyAccessTokens; webPixels: ShopifyWebPixels; appUrl: string; clock: Clock; logger: Logger }) {}

  async handle(_job: JobRecord, payload: ActivatePayload): Promise<JobResult> {
    const { repos } = this.deps.transactor;
    const shop = await repos.shops.findById(payload.shopId);
    if (!shop || shop.status !== 'ACTIVE') return { status: 'succeeded', result: { skipped: 'the shop is not installed' } };
    const token = await this.deps.tokens.forShop(shop.domain);
    if (!token) return { status: 'retry', error: 'no Shopify access token stored for this shop' };
    const shopKey = await repos.shops.ensurePixelKey(shop.id);
    const outcome = await this.deps.webPixels.activate(shop.domain, token, { shopKey, endpoint: pixelEndpoint(this.deps.appUrl) }, shop.webPixelId);
    switch (outcome.kind) {
      case 'active':
        await repos.shops.recordPixelActivated(shop.id, outcome.webPixelId, this.deps.clock.now());
        return { status: 'succeeded', result: { webPixelId: outcome.webPixelId } };
      case 'retry':
        return { status: 'retry', error: outcome.reason, retryAfterMs: outcome.retryAfterMs };
      case 'failed':
        await repos.shops.recordPixelProblem(shop.id, outcome.reason);
        return { status: 'failed', error: outcome.reason };
    }
  }

  async onGaveUp(_job: JobRecord, payload: ActivatePayload, error: string): Promise<void> {
    await this.deps.transactor.repos.shops.recordPixelProblem(payload.shopId as ShopId, error).catch(() => undefined);
    this.deps.logger.warn({ shopId: payload.shopId, error }, 'the cart pixel could not be activated; shown on the settings page');
  }
}
