import type { CatalogSync, FlexMode } from '@prisma/client';
import type { DbClient } from '../db-client';

export type CatalogSyncRecord = CatalogSync;

/**
 * The full catalog sync of each shop and mode: which run is current, where it is (Shopify's cursor
 * and page number), how far it got, and what last went wrong. Page jobs advance it conditionally, so
 * a page run twice (a crash between its commit and the job's success) counts once.
 */
export class CatalogSyncRepository {
  constructor(private readonly db: DbClient) {}

  find(shopId: string, mode: FlexMode): Promise<CatalogSyncRecord | null> {
    return this.db.catalogSync.findUnique({ where: { shopId_mode: { shopId, mode } } });
  }

  listForShop(shopId: string): Promise<CatalogSyncRecord[]> {
    return this.db.catalogSync.findMany({ where: { shopId }, orderBy: { mode: 'asc' } });
  }

  /** A new run from the first page; the one before, if still running, is superseded. */
  async startRun(shopId: string, mode: FlexMode, now: Date): Promise<CatalogSyncRecord> {
    const fresh = { status: 'RUNNING' as const, cursor: null, page: 0, variantsSeen: 0, startedAt: now, finishedAt: null, lastProblem: null, lastProblemAt: null };
    return this.db.catalogSync.upsert({
      where: { shopId_mode: { shopId, mode } },
      create: { shopId, mode, run: 1, ...fresh },
      update: { run: { increment: 1 }, ...fresh },
    });
  }

  /** Records a finished page of `run` and where the next starts; false when that page was recorded already. */
  async advance(shopId: string, mode: FlexMode, run: number, page: number, next: { cursor: string | null; seen: number; currency: string }): Promise<boolean> {
    const { count } = await this.db.catalogSync.updateMany({
      where: { shopId, mode, run, page, status: 'RUNNING' },
      data: { page: page + 1, cursor: next.cursor, variantsSeen: { increment: next.seen }, currency: next.currency, lastProblem: null, lastProblemAt: null },
    });
    return count === 1;
  }

  async complete(shopId: string, mode: FlexMode, run: number, now: Date): Promise<boolean> {
    const { count } = await this.db.catalogSync.updateMany({ where: { shopId, mode, run, status: 'RUNNING' }, data: { status: 'COMPLETE', finishedAt: now } });
    return count === 1;
  }

  /** Stops the run for a reason the merchant must fix (shown on the settings page). */
  async fail(shopId: string, mode: FlexMode, run: number, problem: string, now: Date): Promise<void> {
    await this.db.catalogSync.updateMany({
      where: { shopId, mode, run, status: 'RUNNING' },
      data: { status: 'FAILED', finishedAt: now, lastProblem: problem, lastProblemAt: now },
    });
  }

  /** A passing problem (Shopify or Flex unavailable, rate limited for long): the sync goes on, the merchant sees why it is slow. */
  async noteProblem(shopId: string, mode: FlexMode, problem: string, now: Date): Promise<void> {
    await this.db.catalogSync.updateMany({ where: { shopId, mode }, data: { lastProblem: problem, lastProblemAt: now } });
  }

  async setCurrency(shopId: string, mode: FlexMode, currency: string): Promise<void> {
    await this.db.catalogSync.updateMany({ where: { shopId, mode }, data: { currency } });
  }
}
