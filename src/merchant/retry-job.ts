import type { Transactor } from '../db/transactor';
import type { Clock } from '../lib/clock';
import type { ShopDomain } from '../lib/ids';
import type { Logger } from '../lib/logger';

export type RetryJobOutcome = 'requeued' | 'not_found' | 'not_retryable';

/** "Retry" on the settings page: puts one of the shop's jobs that needs attention back in the queue. */
export class RetryShopJob {
  constructor(private readonly deps: { transactor: Transactor; clock: Clock; logger: Logger }) {}

  async execute(shopDomain: ShopDomain, jobId: string): Promise<RetryJobOutcome> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(jobId)) return 'not_found';
    const { repos } = this.deps.transactor;
    const shop = await repos.shops.findByDomain(shopDomain);
    const job = await repos.jobs.findById(jobId);
    // Another shop's job is "not found", exactly like a job that does not exist.
    if (!shop || !job || job.shopId !== shop.id) return 'not_found';
    if (job.status !== 'NEEDS_ATTENTION') return 'not_retryable';
    if (!(await repos.jobs.requeue(job.id, this.deps.clock.now()))) return 'not_retryable';
    this.deps.logger.info({ shop: shopDomain, jobId }, 'merchant retried a job');
    return 'requeued';
  }
}
