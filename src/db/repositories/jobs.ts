import { Prisma, type Job, type JobStatus } from '@prisma/client';
import type { ClaimedJob, CommitHooks, DbClient, JobLease } from '../db-client';
import type { SqlRunner } from '../sql';

export type JobRecord = Job;
export type { JobStatus } from '@prisma/client';

export type { ClaimedJob, JobLease } from '../db-client';

/**
 * The shop's domain, its offline access token and the payment a job is about, read in the claiming
 * statement itself (no extra round trip). The offline session's id is `offline_{domain}`
 * (ShopifyAccessTokens.offlineSessionId, Shopify's own convention); reading it here saves the
 * Shopify session storage's Prisma read on every mutation sent (bench/README-queries.md, "Fourth round"). Jobs name their subject: a payment session, or a refund, capture or void
 * session of a payment. The cast to uuid is guarded: a subject id of another form reads as no payment.
 */
const CLAIMED_JOB_COLUMNS = Prisma.sql`
  *,
  (SELECT s.domain FROM "Shop" s WHERE s.id = "Job"."shopId") AS "shopDomain",
  (SELECT t."accessToken" FROM "Shop" s JOIN "Session" t ON t.id = 'offline_' || s.domain WHERE s.id = "Job"."shopId") AS "sealedOfflineAccessToken",
  CASE
    WHEN "Job"."subjectId" IS NULL OR "Job"."subjectId" !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' THEN NULL
    WHEN "Job"."subjectType" = 'payment_session' THEN "Job"."subjectId"
    WHEN "Job"."subjectType" = 'refund_session' THEN (SELECT r."paymentSessionId"::text FROM "RefundSession" r WHERE r.id = "Job"."subjectId"::uuid)
    WHEN "Job"."subjectType" = 'capture_session' THEN (SELECT c."paymentSessionId"::text FROM "CaptureSession" c WHERE c.id = "Job"."subjectId"::uuid)
    WHEN "Job"."subjectType" = 'void_session' THEN (SELECT v."paymentSessionId"::text FROM "VoidSession" v WHERE v.id = "Job"."subjectId"::uuid)
  END AS "paymentSessionId"`;

export interface NewJob {
  kind: string;
  dedupeKey: string;
  payload: Prisma.InputJsonValue;
  shopId?: string | null;
  subjectType?: string;
  subjectId?: string;
  runAt: Date;
}

/**
 * The insert of a job, once per dedupe key, as a statement of its own or (`onlyIf`) as a CTE of
 * another repository's statement that writes a decision and the job that carries it together
 * (payment-sessions.ts): one round trip for both. With `lease`, written claimed under it (RUNNING, its
 * first attempt) and returning the job as claimDue would (CLAIMED_JOB_COLUMNS).
 */
export function insertJobSql(job: NewJob, onlyIf?: Prisma.Sql, lease?: JobLease): Prisma.Sql {
  const claim = lease ? Prisma.sql`, 'RUNNING', ${lease.until}, ${lease.token}, 1, ${lease.now}` : Prisma.empty;
  return Prisma.sql`
      INSERT INTO "Job" ("kind", "dedupeKey", "payload", "shopId", "subjectType", "subjectId", "runAt", "createdAt", "updatedAt"${
        lease ? Prisma.sql`, "status", "lockedUntil", "lockToken", "attempts", "lastAttemptAt"` : Prisma.empty
      })
      SELECT ${job.kind}, ${job.dedupeKey}, ${JSON.stringify(job.payload)}::jsonb, ${job.shopId ?? null}::uuid, ${job.subjectType ?? null},
        ${job.subjectId ?? null}, ${job.runAt}, ${job.runAt}, ${new Date()}${claim}
      ${onlyIf ? Prisma.sql`WHERE ${onlyIf}` : Prisma.empty}
      ON CONFLICT ("dedupeKey") DO NOTHING${lease ? Prisma.sql` RETURNING ${CLAIMED_JOB_COLUMNS}` : Prisma.empty}`;
}

/** The columns of a ClaimedJob, as a row of a statement that also returns `others` (written with insertJobSql and a lease): the job, or null when none was written. */
export function claimedJobOfRow(row: Record<string, unknown>, others: readonly string[]): ClaimedJob | null {
  if (row.id === null || row.id === undefined) return null;
  const job: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) if (!others.includes(key)) job[key] = value;
  return job as ClaimedJob;
}

/** A claimed job's success, fenced by its lease's token: as markSucceeded, or a CTE of the statement that records what the job did. */
export interface JobSucceeded {
  id: string;
  lockToken: string;
  now: Date;
  result: Prisma.InputJsonValue | undefined;
}

export function jobSucceededSql(job: JobSucceeded): Prisma.Sql {
  return Prisma.sql`
      UPDATE "Job" SET status = 'SUCCEEDED', "completedAt" = ${job.now}, "lockedUntil" = NULL, "lockToken" = NULL, "lastError" = NULL,
        result = coalesce(${jsonOrNull(job.result)}::jsonb, result), "updatedAt" = ${new Date()}
      WHERE id = ${job.id}::uuid AND "lockToken" = ${job.lockToken} AND status = 'RUNNING'`;
}

export class JobRepository {
  constructor(
    private readonly db: DbClient,
    private readonly sql: SqlRunner,
    private readonly hooks: CommitHooks,
  ) {}

  /**
   * Enqueues a job once per dedupe key; a second enqueue returns the job already there. The worker
   * is woken when the surrounding transaction commits.
   */
  async enqueue(job: NewJob): Promise<JobRecord> {
    // ON CONFLICT DO NOTHING: safe inside a transaction, where a unique violation would abort it.
    // RETURNING gives the new row without reading it back; only a repeat reads the one already there.
    const rows = await this.sql.query<JobRecord>`${insertJobSql(job)} RETURNING *`;
    this.hooks.jobEnqueued(job.kind);
    if (rows[0]) return rows[0];
    const [existing] = await this.sql.query<JobRecord>`SELECT * FROM "Job" WHERE "dedupeKey" = ${job.dedupeKey}`;
    if (!existing) throw new Error(`job ${job.dedupeKey} neither inserted nor found`);
    return existing;
  }

  findById(id: string): Promise<JobRecord | null> {
    return this.db.job.findUnique({ where: { id } });
  }

  findByDedupeKey(dedupeKey: string): Promise<JobRecord | null> {
    return this.db.job.findUnique({ where: { dedupeKey } });
  }

  /**
   * Claims due jobs for this worker: queued ones whose time has come, and running ones whose lease
   * ran out (their worker died). SKIP LOCKED lets several instances claim side by side, and the
   * lease token makes a late worker's result count for nothing once the job was reclaimed.
   */
  async claimDue(now: Date, limit: number, leaseUntil: Date, lockToken: string, kinds: string[]): Promise<ClaimedJob[]> {
    if (kinds.length === 0) return [];
    return this.sql.query<ClaimedJob>`
      UPDATE "Job" SET status = 'RUNNING', "lockedUntil" = ${leaseUntil}, "lockToken" = ${lockToken},
        attempts = attempts + 1, "lastAttemptAt" = ${now}, "updatedAt" = ${now}
      WHERE id IN (
        SELECT id FROM "Job"
        WHERE kind = ANY(${kinds})
          AND ((status = 'QUEUED' AND "runAt" <= ${now}) OR (status = 'RUNNING' AND "lockedUntil" < ${now}))
        ORDER BY "runAt"
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING ${CLAIMED_JOB_COLUMNS}`;
  }

  /**
   * Claims one job now (a buyer is waiting on it), if it is not running elsewhere. Its first few
   * attempts may jump the retry schedule; after that a waiting buyer cannot make us hammer Shopify.
   */
  async claimOne(id: string, now: Date, leaseUntil: Date, lockToken: string, eagerAttempts = 3): Promise<ClaimedJob | null> {
    const rows = await this.sql.query<ClaimedJob>`
      UPDATE "Job" SET status = 'RUNNING', "lockedUntil" = ${leaseUntil}, "lockToken" = ${lockToken},
        attempts = attempts + 1, "lastAttemptAt" = ${now}, "updatedAt" = ${now}
      WHERE id = (
        SELECT id FROM "Job"
        WHERE id = ${id}::uuid
          AND ((status = 'QUEUED' AND ("runAt" <= ${now} OR attempts < ${eagerAttempts}))
            OR (status = 'RUNNING' AND "lockedUntil" < ${now}))
        FOR UPDATE SKIP LOCKED
      )
      RETURNING ${CLAIMED_JOB_COLUMNS}`;
    return rows[0] ?? null;
  }

  // The three results below are single conditional UPDATEs in SQL: through the query API Prisma
  // wraps each in a transaction of its own (BEGIN … COMMIT, two more round trips) and compiles it
  // anew on every call (bench/README-queries.md). The lease token fences a worker whose job was reclaimed.
  async markSucceeded(id: string, lockToken: string, now: Date, result: Prisma.InputJsonValue | undefined): Promise<boolean> {
    const count = await this.sql.execute`${jobSucceededSql({ id, lockToken, now, result })}`;
    return count === 1;
  }

  async reschedule(id: string, lockToken: string, runAt: Date, error: string): Promise<boolean> {
    const count = await this.sql.execute`
      UPDATE "Job" SET status = 'QUEUED', "runAt" = ${runAt}, "lockedUntil" = NULL, "lockToken" = NULL, "lastError" = ${truncate(error)}, "updatedAt" = ${new Date()}
      WHERE id = ${id}::uuid AND "lockToken" = ${lockToken} AND status = 'RUNNING'`;
    return count === 1;
  }

  async markNeedsAttention(id: string, lockToken: string, now: Date, error: string, result?: Prisma.InputJsonValue): Promise<boolean> {
    const count = await this.sql.execute`
      UPDATE "Job" SET status = 'NEEDS_ATTENTION', "completedAt" = ${now}, "lockedUntil" = NULL, "lockToken" = NULL, "lastError" = ${truncate(error)},
        result = coalesce(${jsonOrNull(result)}::jsonb, result), "updatedAt" = ${new Date()}
      WHERE id = ${id}::uuid AND "lockToken" = ${lockToken} AND status = 'RUNNING'`;
    return count === 1;
  }

  /** Puts a job that needs attention back in the queue (an operator fixed the cause). */
  async requeue(id: string, now: Date): Promise<boolean> {
    const { count } = await this.db.job.updateMany({
      where: { id, status: 'NEEDS_ATTENTION' },
      data: { status: 'QUEUED', runAt: now, createdAt: now, completedAt: null },
    });
    if (count === 1) this.hooks.jobEnqueued();
    return count === 1;
  }

  /** Stops a shop's unfinished jobs of these kinds (the app was uninstalled). */
  async cancelForShop(shopId: string, kinds: string[], now: Date, reason: string): Promise<number> {
    const { count } = await this.db.job.updateMany({
      where: { shopId, kind: { in: kinds }, status: { in: ['QUEUED', 'RUNNING'] } },
      data: { status: 'CANCELED', completedAt: now, lockedUntil: null, lockToken: null, lastError: reason },
    });
    return count;
  }

  list(filter: { shopId?: string; status?: JobStatus[]; subjectId?: string; limit?: number }): Promise<JobRecord[]> {
    return this.db.job.findMany({
      where: {
        ...(filter.shopId ? { shopId: filter.shopId } : {}),
        ...(filter.status ? { status: { in: filter.status } } : {}),
        ...(filter.subjectId ? { subjectId: filter.subjectId } : {}),
      },
      orderBy: { createdAt: 'desc' },
      take: filter.limit ?? 50,
    });
  }

  async countByStatus(): Promise<Record<string, number>> {
    const groups = await this.db.job.groupBy({ by: ['status'], _count: { _all: true } });
    return Object.fromEntries(groups.map((g) => [g.status, g._count._all]));
  }
}

/** A result to store, or null to leave the column as it is (as Prisma treats `undefined`). */
function jsonOrNull(value: Prisma.InputJsonValue | undefined): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function truncate(text: string): string {
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}
