import { randomUUID } from 'node:crypto';
import type { Prisma } from '@prisma/client';
import type { ClaimedJob, JobRecord, JobRepository } from '../db/repositories/jobs';
import type { HeldJobLease, JobLessor } from '../db/transactor';
import type { Clock } from '../lib/clock';
import { isDatabaseUnavailable, retryWhileDatabaseUnavailable } from '../lib/database-unavailable';
import { outsideLogContext, withOwnLogContext } from '../lib/log-context';
import { sleep } from '../lib/sleep';
import type { Logger } from '../lib/logger';
import type { AppMetrics, JobRunResult } from '../lib/metrics';
import type { JobType } from './job-type';
import { nextRetry, type RetryPolicy } from './retry-policy';

/**
 * What a job handler came to:
 * - succeeded: done; never run again;
 * - retry: a transient failure; run again later (the retry policy decides when, or gives up);
 * - failed: a permanent failure; a person must look ("needs attention").
 */
export type JobResult =
  /** `recorded`: the handler marked the job succeeded itself, in the statement that recorded what it did. */
  | { status: 'succeeded'; result?: Prisma.InputJsonValue; recorded?: boolean }
  | { status: 'retry'; error: string; retryAfterMs?: number }
  | { status: 'failed'; error: string; result?: Prisma.InputJsonValue };

/** Runs the jobs of one type; `payload` was checked against the type's schema. */
export interface JobHandler<P = any> {
  readonly type: JobType<P>;
  /** `job` as claimed, with its shop's domain read in the claiming statement. */
  handle(job: ClaimedJob, payload: P): Promise<JobResult>;
  /** Called once when the job gives up (exhausted or failed), e.g. to flag it on the payment's timeline. */
  onGaveUp?(job: JobRecord, payload: P, error: string): Promise<void>;
}

export interface OutboxWorkerOptions {
  jobs: JobRepository;
  handlers: JobHandler[];
  clock: Clock;
  logger: Logger;
  retryPolicy: RetryPolicy;
  pollIntervalMs?: number;
  /** How long a claimed job is ours; longer than any handler's HTTP timeout. */
  leaseMs?: number;
  /** At most this many jobs claimed by the loop, or written claimed for it (leaseSlot), run at once (runNow's come on top); a claim takes no more than the free slots. */
  batchSize?: number;
  /** Each run is counted by job kind and result. */
  metrics?: AppMetrics;
}

export type RunNowResult = 'succeeded' | 'retry' | 'needs_attention' | 'busy' | 'not_found';

/** How long runNow's caller waits for a run it started (longer than any handler's calls out). */
const INLINE_RUN_PATIENCE_MS = 30_000;

/**
 * For a job's handler: records what its call to Flex or Shopify did, retrying while the database is
 * unreachable for as long as the job's lease lasts, so that a short outage does not make the job run
 * (and call out) again. The writes must be safe to repeat (conditional updates, dedupe keys).
 */
export function recordWhileLeaseLasts<T>(job: JobRecord, clock: Clock, work: () => Promise<T>): Promise<T> {
  const leaseEnds = job.lockedUntil?.getTime() ?? 0;
  return retryWhileDatabaseUnavailable(work, () => clock.now().getTime() < leaseEnds);
}

/**
 * Runs the durable outbox. Jobs are rows; this worker claims due ones with a lease, runs their
 * handler and records the result. Nothing lives only in memory: after a crash the lease runs out
 * and this or another instance picks the job up again.
 */
export class OutboxWorker implements JobLessor {
  private readonly handlers: Map<string, JobHandler>;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopping = false;
  private polling: Promise<void> | undefined;
  private wakeRequested = false;
  /** Jobs the loop claimed, or slots lent for jobs written claimed, that are still running or held, with when each started (see isHealthy). */
  private runningJobs = 0;
  private readonly loopJobStarts = new Map<number, number>();
  private loopJobsStarted = 0;
  /** Slots lent to transactions writing a job claimed (leaseSlot), not yet run or given back. */
  private leasesOut = 0;
  /** Slots a claim in flight may fill (pollOnce): not lent meanwhile. */
  private claiming = 0;
  /** stop() has returned: nothing more runs here. */
  private stopped = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  private lastHeartbeat = 0;
  /** Polls in a row that found the database unreachable (0: it answers). */
  private outageFailures = 0;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.handlers = new Map(options.handlers.map((h) => [h.type.kind, h]));
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.leaseMs = options.leaseMs ?? 120_000;
    this.batchSize = options.batchSize ?? 10;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.stopped = false;
    this.lastHeartbeat = Date.now();
    this.schedule(0);
  }

  /**
   * Stops claiming new jobs and waits for the ones in flight, and for the jobs being written claimed
   * by transactions still open (their leases), which run if those commit.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    // Leases last as long as a transaction (seconds at most); a job whose lease outlives this wait runs elsewhere once it ends.
    for (const giveUpAt = Date.now() + 15_000; this.leasesOut > 0 && Date.now() < giveUpAt; ) await sleep(5);
    await Promise.allSettled([...this.inFlight]);
    if (this.stopping) this.stopped = true;
  }

  /**
   * True while the loop is alive, has polled recently, and none of its jobs has run past its lease: such
   * a job is stuck (every call out has a timeout well within the lease), holds a slot for good, and may
   * already be running again elsewhere now that its lease is gone.
   */
  isHealthy(): boolean {
    const now = Date.now();
    if (!this.running || now - this.lastHeartbeat >= Math.max(30_000, this.pollIntervalMs * 5)) return false;
    for (const started of this.loopJobStarts.values()) if (now - started > this.leaseMs) return false;
    return true;
  }

  /** Whether this worker runs jobs of `kind`. */
  handles(kind: string): boolean {
    return this.handlers.has(kind);
  }

  /**
   * A slot for a job of `kind` that a transaction is about to write already claimed (Transactor,
   * JobLease): held until the job runs, after the commit, or the lease is given back. None while the
   * worker is stopped or stopping, for a kind it does not run, or with every slot taken (the job is
   * then written queued and claimed as before).
   */
  leaseSlot(kind: string): HeldJobLease | undefined {
    if (!this.running || this.stopping || !this.handlers.has(kind) || this.runningJobs + this.claiming >= this.batchSize) return undefined;
    this.runningJobs++;
    this.leasesOut++;
    const run = ++this.loopJobsStarted;
    // Counted from now: a transaction that holds its lease past leaseMs makes the worker unhealthy (isHealthy), as a stuck job would.
    this.loopJobStarts.set(run, Date.now());
    const now = this.options.clock.now();
    const until = new Date(now.getTime() + this.leaseMs);
    const token = randomUUID();
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      this.leasesOut--;
      return true;
    };
    return {
      token,
      now,
      until,
      run: (job) => {
        if (!settle()) return;
        // A lease that ran out before its transaction committed may already be another worker's claim,
        // and a worker that has stopped may have lost its database: the job waits for its lease to end
        // and is claimed as after a crash.
        if (this.stopped || this.options.clock.now().getTime() >= until.getTime()) {
          this.options.logger.warn({ jobId: job.id, kind: job.kind }, 'outbox: a job written claimed was not run here (its lease ran out first, or the worker stopped); it runs once its lease ends');
          this.jobEnded(run);
          return;
        }
        this.startLoopJob(run, job, token);
      },
      giveBack: () => {
        if (settle()) this.jobEnded(run);
      },
    };
  }

  /** Asks for a poll as soon as possible (a job was just enqueued), or once a running job leaves a slot free. */
  wake(): void {
    if (!this.running) return;
    if (this.polling || this.runningJobs >= this.batchSize) {
      this.wakeRequested = true;
      return;
    }
    this.schedule(0);
  }

  /**
   * Runs one job right away, for a caller that is waiting on it (a buyer on the return page).
   * 'busy' means another worker holds it now.
   */
  async runNow(jobId: string, waitForOtherRunMs = 5_000): Promise<RunNowResult> {
    const token = randomUUID();
    const now = this.options.clock.now();
    const job = await this.options.jobs.claimOne(jobId, now, new Date(now.getTime() + this.leaseMs), token);
    if (job) {
      const run = this.track(this.execute(job, token));
      // A run normally ends quickly. One whose result waits for the database to come back goes on in
      // the background (stop() still waits for it) and the caller hears 'busy' instead of waiting.
      let patience: NodeJS.Timeout | undefined;
      const waited = new Promise<'busy'>((resolve) => {
        patience = setTimeout(() => resolve('busy'), INLINE_RUN_PATIENCE_MS);
        patience.unref?.();
      });
      return Promise.race([run, waited]).finally(() => clearTimeout(patience));
    }
    // Another worker (this instance's loop, woken by the commit that wrote the job or handed it the job
    // written claimed, or another
    // instance) may be running it right now: the caller is waiting for its outcome, not for who ran it.
    const deadline = Date.now() + waitForOtherRunMs;
    for (;;) {
      const current = await this.options.jobs.findById(jobId);
      if (!current) return 'not_found';
      if (current.status === 'SUCCEEDED') return 'succeeded';
      if (current.status === 'NEEDS_ATTENTION' || current.status === 'CANCELED') return 'needs_attention';
      if (current.status === 'QUEUED') return current.attempts > 0 ? 'retry' : 'busy';
      if (Date.now() >= deadline) return 'busy';
      await sleep(25);
    }
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // A wake-up from a request or a job must not lend it that work's log context.
      this.polling = outsideLogContext(() => this.pollOnce()).finally(() => {
        this.polling = undefined;
        // With no slot free, the wake-up waits for a job to end (jobEnded), not for a poll that would claim nothing.
        const again = this.wakeRequested && this.runningJobs < this.batchSize;
        if (again) this.wakeRequested = false;
        this.schedule(again ? 0 : this.nextPollDelayMs());
      });
    }, delayMs);
    this.timer.unref?.();
  }

  /**
   * Claims as many due jobs as there are free slots and starts them. It does not wait for them: a job
   * enqueued while others run (a payment decided while the last one's Shopify call is out) is claimed
   * at once instead of waiting for the slowest job of the batch before it.
   */
  private async pollOnce(): Promise<void> {
    if (this.stopping) return;
    this.lastHeartbeat = Date.now();
    const free = this.batchSize - this.runningJobs;
    if (free <= 0) {
      this.wakeRequested = true;
      return;
    }
    const token = randomUUID();
    const now = this.options.clock.now();
    let jobs: ClaimedJob[];
    this.claiming = free;
    try {
      jobs = await this.options.jobs.claimDue(now, free, new Date(now.getTime() + this.leaseMs), token, [...this.handlers.keys()]);
    } catch (error) {
      this.claiming = 0;
      if (!isDatabaseUnavailable(error)) {
        this.options.logger.error({ err: error }, 'outbox: could not claim jobs');
        return;
      }
      // Said once per outage, not once per poll; polls back off until the database answers.
      if (this.outageFailures === 0) this.options.logger.warn({ error: (error as Error).message }, 'outbox: the database is unreachable; polling with backoff until it answers');
      this.outageFailures++;
      return;
    }
    this.claiming = 0;
    if (this.outageFailures > 0) {
      this.options.logger.info({ failedPolls: this.outageFailures }, 'outbox: the database answers again; resuming');
      this.outageFailures = 0;
    }
    if (jobs.length === free) this.wakeRequested = true;
    for (const job of jobs) {
      this.runningJobs++;
      this.startLoopJob(++this.loopJobsStarted, job, token);
    }
  }

  /** Runs a job in one of the loop's slots (taken by the caller), and frees the slot when the run ends. */
  private startLoopJob(run: number, job: ClaimedJob, token: string): void {
    this.loopJobStarts.set(run, Date.now());
    this.track(this.execute(job, token))
      .catch((error: unknown) => this.options.logger.error({ err: error, jobId: job.id }, 'outbox job run failed'))
      .finally(() => this.jobEnded(run));
  }

  /**
   * A slot is free again: a wake-up that found none runs now. While a backlog drains, that is a claim
   * per job that ends (one statement each), where a batch used to wait for its slowest job.
   */
  private jobEnded(run: number): void {
    this.loopJobStarts.delete(run);
    this.runningJobs--;
    if (this.wakeRequested && !this.polling && this.running) {
      this.wakeRequested = false;
      this.schedule(0);
    }
  }

  /** A run stop() must wait for. */
  private track<T>(run: Promise<T>): Promise<T> {
    this.inFlight.add(run);
    return run.finally(() => this.inFlight.delete(run));
  }

  /** Runs a job; every line logged while it runs, however deep, names the job, its shop and its payment. */
  private execute(job: ClaimedJob, token: string): Promise<RunNowResult> {
    const context = {
      shop: job.shopDomain ?? undefined,
      shopId: job.shopId ?? undefined,
      paymentSessionId: job.paymentSessionId ?? undefined,
      job: { id: job.id, kind: job.kind, attempt: job.attempts, subjectType: job.subjectType, subject: job.subjectId },
    };
    return withOwnLogContext(context, () => this.executeInContext(job, token));
  }

  private async executeInContext(job: ClaimedJob, token: string): Promise<RunNowResult> {
    const handler = this.handlers.get(job.kind);
    const log = this.options.logger;
    const parsed = handler?.type.payload.safeParse(job.payload);
    let result: JobResult;
    try {
      if (!handler) result = { status: 'failed', error: `no handler for job kind ${job.kind}` };
      else if (!parsed?.success) result = { status: 'failed', error: `the job's payload does not fit its kind ${job.kind}: ${parsed?.error.message}` };
      else result = await handler.handle(job, parsed.data);
    } catch (error) {
      // A handler bug or a database hiccup: treat as transient, the policy bounds how long.
      result = { status: 'retry', error: `handler threw: ${(error as Error).message}` };
      if (isDatabaseUnavailable(error)) log.warn({ error: (error as Error).message }, 'outbox job stopped: the database is unreachable');
      else log.error({ err: error }, 'outbox job threw');
    }

    const now = this.options.clock.now();
    // The result is kept through a short database outage (while the lease lasts): otherwise the job
    // would run again once its lease ran out, and call Flex or Shopify a second time.
    const leaseEnds = job.lockedUntil?.getTime() ?? 0;
    const record = <T>(work: () => Promise<T>) => retryWhileDatabaseUnavailable(work, () => !this.stopping && this.options.clock.now().getTime() < leaseEnds);
    const ran = (outcome: JobRunResult): JobRunResult => {
      this.options.metrics?.jobRan(job.kind, outcome);
      return outcome;
    };
    try {
      switch (result.status) {
        case 'succeeded':
          if (!result.recorded) await record(() => this.options.jobs.markSucceeded(job.id, token, now, result.result));
          log.info('outbox job succeeded');
          return ran('succeeded');
        case 'failed':
          await record(() => this.options.jobs.markNeedsAttention(job.id, token, now, result.error, result.result));
          log.error({ error: result.error }, 'outbox job failed permanently; needs attention');
          if (parsed?.success) await handler?.onGaveUp?.(job, parsed.data, result.error);
          return ran('needs_attention');
        case 'retry': {
          const decision = nextRetry(this.options.retryPolicy, job.attempts, job.createdAt, now, result.retryAfterMs);
          if ('exhausted' in decision) {
            const error = `gave up after ${job.attempts} attempts: ${result.error}`;
            await record(() => this.options.jobs.markNeedsAttention(job.id, token, now, error));
            log.error({ error: result.error }, 'outbox job exhausted its retries; needs attention');
            if (parsed?.success) await handler?.onGaveUp?.(job, parsed.data, error);
            return ran('needs_attention');
          }
          await record(() => this.options.jobs.reschedule(job.id, token, decision.retryAt, result.error));
          log.warn({ error: result.error, retryAt: decision.retryAt.toISOString() }, 'outbox job will be retried');
          this.scheduleWakeAt(decision.retryAt, this.options.clock.now());
          return ran('retry');
        }
      }
    } catch (error) {
      // The result could not be recorded; the lease will run out and the job will run again,
      // which is safe because every job is idempotent.
      log.error({ err: error }, 'outbox: could not record job result');
      return 'retry';
    }
  }

  /** The poll interval, or while the database is unreachable a doubling wait (at most 64 intervals and 10 s, or one interval). */
  private nextPollDelayMs(): number {
    if (this.outageFailures === 0) return this.pollIntervalMs;
    const longest = Math.max(this.pollIntervalMs, Math.min(10_000, this.pollIntervalMs * 64));
    return Math.min(this.pollIntervalMs * 2 ** this.outageFailures, longest);
  }

  /** Short retries would otherwise wait for the next poll; bring that poll forward. */
  private scheduleWakeAt(at: Date, now: Date): void {
    const delay = at.getTime() - now.getTime();
    if (delay < this.pollIntervalMs && this.running) {
      const t = setTimeout(() => this.wake(), Math.max(0, delay));
      t.unref?.();
    }
  }
}
