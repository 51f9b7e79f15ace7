import type { PrismaClient } from '@prisma/client';
import type { Pool } from 'pg';
import type { SecretBox } from '../lib/secret-box';
import { createRepositories, type Repositories } from './repositories';
import type { ClaimedJob, CommitHooks, DbClient, JobLease } from './db-client';
import { poolSql, transactionOnClient, transactionSql, type StatementNames } from './sql';

/** A worker that runs jobs a transaction writes already claimed (OutboxWorker.leaseSlot; JobLease says why). */
export interface JobLessor {
  /** A lease for a job of `kind`, holding one of the worker's slots until the job runs or the lease is given back; undefined when the worker does not run the kind or has no slot free. */
  leaseSlot(kind: string): HeldJobLease | undefined;
}

export interface HeldJobLease extends JobLease {
  /** Runs the job written under the lease (after the commit); its slot is freed when the run ends. */
  run(job: ClaimedJob): void;
  /** The lease went unused (nothing written under it, or rolled back): its slot is free again. */
  giveBack(): void;
}

/**
 * Runs work in one database transaction, with repositories bound to it, and runs what must wait for
 * the commit (waking the outbox worker for a job the transaction wrote, or handing it a job written
 * claimed for it) once it has committed. So a use case writes a job and nothing more: no callback
 * travels through the app to wake the worker.
 */
export class Transactor {
  /** Repositories outside any transaction: each statement commits on its own. */
  readonly repos: Repositories;
  /** Each listener hears the kinds of the jobs written, or undefined when they are not known (wake every worker). */
  private readonly jobListeners: Array<(kinds: ReadonlySet<string> | undefined) => void> = [];
  private readonly jobLessors: JobLessor[] = [];

  constructor(
    private readonly prisma: PrismaClient,
    /** The pool Prisma runs on: statements outside a transaction, and runSql's transactions, go to it directly. */
    private readonly pool: Pool,
    private readonly secrets: SecretBox,
    /** Set when the database's statements are prepared once per session (sql.ts says when; database.ts owns them). */
    private readonly statementNames?: StatementNames,
  ) {
    this.repos = createRepositories(prisma, poolSql(pool, this.statementNames), secrets, { afterCommit: (work) => work(), jobEnqueued: (kind) => this.jobsEnqueued(kind === undefined ? undefined : new Set([kind])) });
  }

  /** Called after every commit that wrote outbox jobs. */
  onJobsEnqueued(listener: (kinds: ReadonlySet<string> | undefined) => void): void {
    this.jobListeners.push(listener);
  }

  /** A worker that takes the jobs of the kinds it runs written claimed, while it has slots free. */
  addJobLessor(lessor: JobLessor): void {
    this.jobLessors.push(lessor);
  }

  async run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    const hooks = this.transactionHooks();
    try {
      const result = await this.prisma.$transaction((tx) => work(createRepositories(tx, transactionSql(tx), this.secrets, hooks)), {
        timeout: 15_000,
        maxWait: 15_000,
      });
      hooks.committed();
      return result;
    } finally {
      hooks.ended();
    }
  }

  /**
   * The same, on a pool connection of its own (BEGIN … COMMIT through `pg`), for the hot paths whose
   * every statement is SQL as written (db/sql.ts): a Prisma interactive transaction costs more CPU
   * than the statements in it (bench/README-queries.md). Repositories reached in it must not use
   * Prisma's query API, which cannot join this connection: such a call throws, naming the model, and
   * the transaction rolls back. Callers: the Flex checkout webhook and the payment decision.
   */
  async runSql<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    const hooks = this.transactionHooks();
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // The pool stops listening while a connection is lent out: one lost between two statements would
    // otherwise be an unhandled 'error' event. The next statement fails, and the work with it.
    const onConnectionError = (error: Error) => {
      broken = error;
    };
    client.on('error', onConnectionError);
    try {
      let result: T;
      // BEGIN goes to the database with the first statement (sql.ts, transactionOnClient).
      // A stale prepared statement breaks the connection for good, whether or not `work` lets the error through.
      const transaction = transactionOnClient(client, this.statementNames, (error) => {
        broken = error;
      });
      try {
        result = await work(createRepositories(PRISMA_NOT_IN_SQL_TRANSACTION, transaction.sql, this.secrets, hooks));
        if (transaction.begun) {
          // A transaction in which a statement failed (and its error was caught) ends in ROLLBACK here.
          const ended = await client.query('COMMIT');
          if (ended.command === 'ROLLBACK') throw new Error('the transaction was rolled back at COMMIT: a statement in it had failed');
        }
      } catch (error) {
        // A connection that cannot even roll back is not given back to the pool.
        if (transaction.begun) {
          await client.query('ROLLBACK').catch((rollbackError: Error) => {
            broken = rollbackError;
          });
        }
        throw error;
      }
      hooks.committed();
      return result;
    } finally {
      hooks.ended();
      client.removeListener('error', onConnectionError);
      client.release(broken);
    }
  }

  /**
   * One transaction's commit hooks: what waits for its commit (`committed`: wake-ups, jobs written
   * claimed handed to their workers, afterCommit's work), and `ended` whatever became of it (every
   * lease not handed over is given back; after a rollback, all of them).
   */
  private transactionHooks(): CommitHooks & { committed(): void; ended(): void } {
    const afterCommit: Array<() => void> = [];
    let kinds: Set<string> | undefined = new Set();
    let enqueued = false;
    const leases: HeldJobLease[] = [];
    const claimed: Array<{ job: ClaimedJob; lease: HeldJobLease }> = [];
    return {
      afterCommit: (w) => afterCommit.push(w),
      jobEnqueued: (kind) => {
        enqueued = true;
        if (kind === undefined) kinds = undefined;
        else kinds?.add(kind);
      },
      leaseJob: (kind) => {
        for (const lessor of this.jobLessors) {
          const lease = lessor.leaseSlot(kind);
          if (lease) {
            leases.push(lease);
            return { token: lease.token, now: lease.now, until: lease.until, written: (job) => claimed.push({ job, lease }) };
          }
        }
        return undefined;
      },
      committed: () => {
        if (enqueued) this.jobsEnqueued(kinds);
        for (const { job, lease } of claimed) {
          leases.splice(leases.indexOf(lease), 1);
          lease.run(job);
        }
        for (const w of afterCommit) w();
      },
      ended: () => {
        for (const lease of leases.splice(0)) lease.giveBack();
      },
    };
  }

  private jobsEnqueued(kinds: ReadonlySet<string> | undefined): void {
    for (const listener of this.jobListeners) listener(kinds);
  }
}

/**
 * What repositories get for Prisma inside runSql: a model may be named (some repositories keep
 * theirs from their constructor), but any use of it fails, naming it.
 */
const PRISMA_NOT_IN_SQL_TRANSACTION = new Proxy(
  {},
  {
    get(_target, model) {
      const refuse = (use: string): never => {
        throw new Error(`Prisma's ${String(model)}${use} was used in a Transactor.runSql transaction, which only SQL statements can join; write the statement as SQL or use Transactor.run`);
      };
      return new Proxy(() => undefined, {
        get: (_fn, method) => refuse(`.${String(method)}`),
        apply: () => refuse('()'),
      });
    },
  },
) as DbClient;
