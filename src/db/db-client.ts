import type { Job, Prisma, PrismaClient } from '@prisma/client';

/** Repositories run on the client or inside a transaction, whichever they are given. */
export type DbClient = PrismaClient | Prisma.TransactionClient;

/** What a repository may ask of the transaction it runs in (see db/transactor.ts). */
export interface CommitHooks {
  afterCommit(work: () => void): void;
  /**
   * An outbox job was written: the workers are woken once it is committed. With its kind, only the
   * worker that runs that kind is (another worker's claim would find nothing to do); without, every one.
   */
  jobEnqueued(kind?: string): void;
  /**
   * A lease to write a job of `kind` already claimed (JobLease), from the worker that runs the kind if
   * it has a slot free; undefined otherwise, and outside a transaction. A repository that uses it
   * reports the job it wrote (`written`); a lease not reported is given back when the transaction ends.
   */
  leaseJob?(kind: string): JobLeaseToWrite | undefined;
}

/**
 * A job as claimed by a worker, with what it concerns for the log lines written while it runs, and
 * its shop's offline Shopify access token as stored (still sealed: ShopifyAccessTokens opens it), so
 * a job that calls Shopify needs no second read. Never log a claimed job whole.
 */
export type ClaimedJob = Job & { shopDomain: string | null; paymentSessionId: string | null; sealedOfflineAccessToken: string | null };

/**
 * A lease on a job about to be written, lent by the worker that runs its kind while it has a slot
 * free (CommitHooks.leaseJob): the job is written already claimed under it, as its worker's claim
 * would leave it, and that worker runs it once the transaction commits, without a claim of its own
 * (a statement fewer on every payment). Should the process die first, the lease runs out and any
 * worker claims the job as it would any other. A lease the transaction does not use, or that it
 * rolls back, is given back.
 */
export interface JobLease {
  token: string;
  now: Date;
  until: Date;
}

export interface JobLeaseToWrite extends JobLease {
  /** The job written under this lease (jobs.ts insertJobSql): its worker runs it once the transaction has committed. */
  written(job: ClaimedJob): void;
}

export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'P2002';
}
