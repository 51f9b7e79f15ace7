import type { PrismaClient } from '@prisma/client';
import type { Clock } from '../lib/clock';
import type { AppMetrics, JobState, OpenPaymentStatus } from '../lib/metrics';

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
