import type { PrismaClient } from '@prisma/client';
import type { Clock } from '../lib/clock';
import type { AppMetrics, JobState, OpenPaymentStatus } from '../lib/metrics';

/** Fallback reasons the app writes (cart/price-cart.ts CartFallbackReason); anything else is counted as "other". */
const FALLBACK_REASONS = new Set(['no_checkout_token', 'no_cart_captured', 'cart_total_differs', 'currency_differs', 'line_without_product', 'product_not_synced', 'catalog_price_differs', 'flex_refused_cart']);

/**
 * The gauges read from the database when Prometheus scrapes: unfinished outbox jobs by kind and
 * state, the age of the oldest due job, and payment sessions not yet decided. Two statements, each
 * on an index (Job: status, runAt; PaymentSession: status, createdAt) and over unfinished rows only,
 * so a scrape stays cheap however many jobs and payments are done.
 */
export function readOperationalGaugesOnScrape(metrics: AppMetrics, prisma: PrismaClient, clock: Clock): void {
  metrics.onScrape('database', async () => {
    const now = clock.now();
    const [jobs, payments] = await Promise.all([
      prisma.$queryRaw<Array<{ kind: string; status: string; count: number; oldest_due: Date | null }>>`
        SELECT kind, status::text AS status, count(*)::int AS count,
          min(CASE
                WHEN status = 'QUEUED' AND "runAt" <= ${now} THEN "runAt"
                WHEN status = 'RUNNING' AND "lockedUntil" < ${now} THEN "lockedUntil"
              END) AS oldest_due
        FROM "Job"
        WHERE status IN ('QUEUED', 'RUNNING', 'NEEDS_ATTENTION')
        GROUP BY kind, status`,
      prisma.$queryRaw<Array<{ status: string; count: number; oldest: Date | null }>>`
        SELECT status::text AS status, count(*)::int AS count, min("createdAt") AS oldest
        FROM "PaymentSession"
        WHERE status IN ('RECEIVED', 'CHECKOUT_CREATED', 'PENDING')
        GROUP BY status`,
    ]);
    const ageSeconds = (since: Date | null | undefined) => (since ? Math.max(0, (now.getTime() - since.getTime()) / 1000) : 0);
    const oldestDue = jobs.reduce<Date | null>((oldest, row) => (row.oldest_due && (!oldest || row.oldest_due < oldest) ? row.oldest_due : oldest), null);
    metrics.setOutboxSnapshot({
      jobs: jobs.map((row) => ({ kind: row.kind, state: row.status.toLowerCase() as JobState, count: row.count })),
      oldestDueJobAgeSeconds: ageSeconds(oldestDue),
      needingAttention: jobs.filter((row) => row.status === 'NEEDS_ATTENTION').reduce((sum, row) => sum + row.count, 0),
    });
    const open: Record<OpenPaymentStatus, number> = { received: 0, checkout_created: 0, pending: 0 };
    for (const row of payments) open[row.status.toLowerCase() as OpenPaymentStatus] = row.count;
    metrics.setOpenPayments({ open, oldestPendingAgeSeconds: ageSeconds(payments.find((row) => row.status === 'PENDING')?.oldest) });
  });
}

/**
 * What the cart, catalog, order and reconciliation work adds, read when Prometheus scrapes: how the
 * last day's carts reached Flex, the catalog's state in Flex, flagged orders, paid payments without
 * an order, and failing payout reads. Counts only, no ids; the windows keep the scans bounded.
 */
export function readCommerceGaugesOnScrape(metrics: AppMetrics, prisma: PrismaClient, clock: Clock): void {
  metrics.onScrape('database_commerce', async () => {
    const now = clock.now();
    const dayAgo = new Date(now.getTime() - 24 * 60 * 60 * 1000);
    const weekAgo = new Date(now.getTime() - 7 * 24 * 60 * 60 * 1000);
    const halfHourAgo = new Date(now.getTime() - 30 * 60 * 1000);
    const [carts, variants, counts] = await Promise.all([
      prisma.$queryRaw<Array<{ source: string; reason: string | null; count: number }>>`
        SELECT "cartSource"::text AS source, "cartFallbackReason" AS reason, count(*)::int AS count
        FROM "PaymentSession" WHERE "createdAt" >= ${dayAgo} AND "cartSource" IS NOT NULL
        GROUP BY 1, 2`,
      prisma.$queryRaw<Array<{ state: string; count: number }>>`
        SELECT CASE
                 WHEN "flexRejectedFor" = ('r' || "productRevision" || ':p' || "priceMinor") THEN 'refused'
                 WHEN "flexProductId" IS NOT NULL AND "flexProductActive" AND "flexPriceId" IS NOT NULL AND "flexPriceMinor" = "priceMinor"
                      AND "flexProductRevision" = "productRevision" THEN 'synced'
                 ELSE 'pending'
               END AS state, count(*)::int AS count
        FROM "CatalogVariant" WHERE "deletedAt" IS NULL GROUP BY 1`,
      prisma.$queryRaw<Array<{ syncs_failed: number; orders_flagged: number; without_order: number; reconciliation_failing: number }>>`
        SELECT
          (SELECT count(*)::int FROM "CatalogSync" WHERE status = 'FAILED') AS syncs_failed,
          (SELECT count(*)::int FROM "ShopifyOrder" WHERE "flaggedAt" IS NOT NULL) AS orders_flagged,
          (SELECT count(*)::int FROM "PaymentSession" p
             WHERE p.status = 'RESOLVED' AND p."decidedAt" >= ${weekAgo} AND p."decidedAt" < ${halfHourAgo}
               AND NOT EXISTS (SELECT 1 FROM "ShopifyOrder" o WHERE o."paymentSessionId" = p.id)) AS without_order,
          (SELECT count(*)::int FROM "ReconciliationCursor" WHERE "lastError" IS NOT NULL) AS reconciliation_failing`,
    ]);
    const catalogVariants = { synced: 0, pending: 0, refused: 0 };
    for (const row of variants) catalogVariants[row.state as keyof typeof catalogVariants] = row.count;
    const [c] = counts;
    metrics.setCommerceSnapshot({
      carts: carts.map((row) => ({
        source: row.source === 'CART' ? 'cart' : 'catch_all',
        reason: row.source === 'CART' ? 'none' : row.reason && FALLBACK_REASONS.has(row.reason) ? row.reason : 'other',
        count: row.count,
      })),
      catalogVariants,
      catalogSyncsFailed: c?.syncs_failed ?? 0,
      ordersFlagged: c?.orders_flagged ?? 0,
      paymentsWithoutOrder: c?.without_order ?? 0,
      reconciliationFailing: c?.reconciliation_failing ?? 0,
    });
  });
}
