import type { OrderSyncStateRecord } from '../db/repositories/shopify-orders';
import type { Transactor } from '../db/transactor';
import type { Clock } from '../lib/clock';
import type { ShopId } from '../lib/ids';
import type { Logger } from '../lib/logger';
import { enqueueJob } from '../outbox/job-type';
import type { ShopifyAccessTokens } from '../shopify/access-tokens';
import { orderIdOf, type ShopifyOrdersApi } from '../shopify/admin-orders';
import { LINK_ORDER, linkOrderDedupeKey } from './link-order';

export interface PollOrdersOptions {
  /** A paid payment is looked for only once its order webhook had this long to arrive. */
  graceMs: number;
  /** Payments decided longer ago than this are not looked for any more (the settings page still shows them). */
  windowMs: number;
  /** Wait between polls of a shop that has payments awaiting orders; doubles while nothing new is found. */
  intervalMs: number;
  maxIntervalMs: number;
  /** Pages of orders read per shop and poll (the scan's place is kept between polls). */
  maxPagesPerPoll?: number;
}

/**
 * Orders whose webhook never came (README "Orders"). For each shop with paid payments that no
 * order has been linked to after the grace period, the orders Shopify created since the oldest of
 * them are read through the Admin API (`created_at:>=…`, oldest first, page by page, the scan's
 * cursor kept in OrderSyncState so a throttled or interrupted scan continues where it stopped), and
 * every order whose transaction names one of those payments is handed to the same link job the
 * webhooks use. `payment_id:` would be cheaper, but that search term is documented for the admin,
 * not for the API (reference §6): the scan does not depend on it.
 *
 * A shop is polled by one instance at a time (OrderSyncState.nextPollAt is the lease), less and
 * less often while its missing orders stay missing, and after Shopify's throttling waits.
 */
export class PollMissingOrders {
  constructor(
    private readonly deps: { transactor: Transactor; tokens: ShopifyAccessTokens; orders: ShopifyOrdersApi; clock: Clock; logger: Logger },
    private readonly options: PollOrdersOptions,
  ) {}

  /** One pass over the shops that have payments awaiting orders; returns how many shops were polled. */
  async runOnce(): Promise<number> {
    const { repos } = this.deps.transactor;
    const now = this.deps.clock.now();
    const from = new Date(now.getTime() - this.options.windowMs);
    const until = new Date(now.getTime() - this.options.graceMs);
    const shops = await repos.shopifyOrders.shopsAwaitingOrders(from, until, 50);
    let polled = 0;
    for (const shopId of shops) {
      const state = await repos.shopifyOrders.claimPoll(shopId, now, 5 * 60 * 1000);
      if (!state) continue;
      polled++;
      try {
        await this.pollShop(shopId, state, from, until);
      } catch (error) {
        this.deps.logger.error({ err: error, shopId }, 'polling a shop for missing orders failed');
        await repos.shopifyOrders.savePoll(shopId, { scanFrom: state.scanFrom, scanCursor: state.scanCursor, nextPollAt: this.later(state.pollAttempts), pollAttempts: state.pollAttempts + 1 });
      }
    }
    return polled;
  }

  private async pollShop(shopId: ShopId, state: OrderSyncStateRecord, from: Date, until: Date): Promise<void> {
    const { repos } = this.deps.transactor;
    const now = this.deps.clock.now();
    const awaiting = await repos.shopifyOrders.paymentsAwaitingOrder(shopId, from, until, 500);
    const shop = await repos.shops.findById(shopId);
    const token = shop ? await this.deps.tokens.forShop(shop.domain) : null;
    if (awaiting.length === 0 || !shop || !token) {
      await repos.shopifyOrders.savePoll(shopId, { scanFrom: null, scanCursor: null, nextPollAt: new Date(now.getTime() + this.options.intervalMs), pollAttempts: 0 });
      return;
    }
    // Orders are created after their payment is resolved; a minute of slack for clocks that differ.
    const scanFrom = new Date(awaiting[0]!.decidedAt!.getTime() - 60_000);
    let cursor = state.scanFrom?.getTime() === scanFrom.getTime() ? state.scanCursor : null;
    const wanted = new Map(awaiting.map((p) => [p.shopifyId as string, p]));
    let found = 0;
    for (let page = 0; page < (this.options.maxPagesPerPoll ?? 10); page++) {
      const read = await this.deps.orders.ordersCreatedSince(shop.domain, token, scanFrom, cursor);
      if (read.kind !== 'data') {
        const wait = read.kind === 'retry' && read.retryAfterMs !== undefined ? read.retryAfterMs : this.backoffMs(state.pollAttempts);
        this.deps.logger.warn({ shopId, reason: read.reason }, 'order poller: Shopify did not answer the orders query');
        await repos.shopifyOrders.savePoll(shopId, { scanFrom, scanCursor: cursor, nextPollAt: new Date(now.getTime() + wait), pollAttempts: state.pollAttempts + (read.kind === 'failed' ? 1 : 0) });
        return;
      }
      for (const order of read.data.nodes) {
        const paymentId = order.transactions.find((t) => t.paymentId && wanted.has(t.paymentId))?.paymentId;
        const shopifyOrderId = orderIdOf(order.id);
        if (!paymentId || !shopifyOrderId) continue;
        found++;
        wanted.delete(paymentId);
        await enqueueJob(repos.jobs, LINK_ORDER, { shopId, orderGid: order.id, source: 'poller' }, {
          dedupeKey: linkOrderDedupeKey(shopId, shopifyOrderId, 'poller'),
          shopId,
          subject: { type: 'shopify_order', id: shopifyOrderId },
          runAt: now,
        });
      }
      // At the end of the list the scan starts over next time: Shopify's search index can show an
      // order a little after it was created, behind a cursor that already passed its place.
      cursor = read.data.pageInfo.hasNextPage ? (read.data.pageInfo.endCursor ?? null) : null;
      await repos.shopifyOrders.savePoll(shopId, { scanFrom, scanCursor: cursor, nextPollAt: new Date(now.getTime() + 5 * 60 * 1000), pollAttempts: state.pollAttempts });
      if (!cursor || wanted.size === 0) break;
    }
    if (found > 0) this.deps.logger.info({ shopId, found }, 'order poller found orders whose webhook did not come');
    const attempts = found > 0 ? 0 : state.pollAttempts + 1;
    await repos.shopifyOrders.savePoll(shopId, { scanFrom, scanCursor: wanted.size === 0 ? null : cursor, nextPollAt: this.later(attempts - 1), pollAttempts: attempts });
  }

  private backoffMs(attempts: number): number {
    return Math.min(this.options.maxIntervalMs, this.options.intervalMs * 2 ** Math.max(0, attempts));
  }

  private later(attempts: number): Date {
    return new Date(this.deps.clock.now().getTime() + this.backoffMs(attempts));
  }
}
