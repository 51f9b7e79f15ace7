import type { PrismaClient } from '@prisma/client';
import type { Pool } from 'pg';
import type { SecretBox } from '../lib/secret-box';
import { createRepositories, type Repositories } from './repositories';
import { poolSql, transactionSql } from './sql';

/**
 * Runs work in one database transaction, with repositories bound to it, and runs what must wait for
 * the commit (waking the outbox worker for a job the transaction wrote) once it has committed. So a
 * use case writes a job and nothing more: no callback travels through the app to wake the worker.
 */
export class Transactor {
  /** Repositories outside any transaction: each statement commits on its own. */
  readonly repos: Repositories;
  /** Each listener hears the kinds of the jobs written, or undefined when they are not known (wake every worker). */
  private readonly jobListeners: Array<(kinds: ReadonlySet<string> | undefined) => void> = [];

  constructor(
    private readonly prisma: PrismaClient,
    /** The pool Prisma runs on: statements outside a transaction go to it directly. */
    pool: Pool,
    private readonly secrets: SecretBox,
  ) {
    this.repos = createRepositories(prisma, poolSql(pool), secrets, { afterCommit: (work) => work(), jobEnqueued: (kind) => this.jobsEnqueued(kind === undefined ? undefined : new Set([kind])) });
  }

  /** Called after every commit that wrote outbox jobs. */
  onJobsEnqueued(listener: (kinds: ReadonlySet<string> | undefined) => void): void {
    this.jobListeners.push(listener);
  }

  async run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    const afterCommit: Array<() => void> = [];
    let enqueued = false;
    let kinds: Set<string> | undefined = new Set();
    const jobEnqueued = (kind?: string) => {
      enqueued = true;
      if (kind === undefined) kinds = undefined;
      else kinds?.add(kind);
    };
    const result = await this.prisma.$transaction((tx) => work(createRepositories(tx, transactionSql(tx), this.secrets, { afterCommit: (w) => afterCommit.push(w), jobEnqueued })), {
      timeout: 15_000,
      maxWait: 15_000,
    });
    if (enqueued) this.jobsEnqueued(kinds);
    for (const w of afterCommit) w();
    return result;
  }

  private jobsEnqueued(kinds: ReadonlySet<string> | undefined): void {
    for (const listener of this.jobListeners) listener(kinds);
  }
}
