import type { PrismaClient } from '@prisma/client';
import type { SecretBox } from '../lib/secret-box';
import { createRepositories, type Repositories } from './repositories';

/**
 * Runs work in one database transaction, with repositories bound to it, and runs what must wait for
 * the commit (waking the outbox worker for a job the transaction wrote) once it has committed. So a
 * use case writes a job and nothing more: no callback travels through the app to wake the worker.
 */
export class Transactor {
  /** Repositories outside any transaction: each statement commits on its own. */
  readonly repos: Repositories;
  private readonly jobListeners: Array<() => void> = [];

  constructor(
    private readonly prisma: PrismaClient,
    private readonly secrets: SecretBox,
  ) {
    this.repos = createRepositories(prisma, secrets, { afterCommit: (work) => work(), jobEnqueued: () => this.jobsEnqueued() });
  }

  /** Called after every commit that wrote outbox jobs. */
  onJobsEnqueued(listener: () => void): void {
    this.jobListeners.push(listener);
  }

  async run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    const afterCommit: Array<() => void> = [];
    let enqueued = false;
    const result = await this.prisma.$transaction(
      (tx) => work(createRepositories(tx, this.secrets, { afterCommit: (w) => afterCommit.push(w), jobEnqueued: () => (enqueued = true) })),
      { timeout: 15_000, maxWait: 15_000 },
    );
    if (enqueued) this.jobsEnqueued();
    for (const w of afterCommit) w();
    return result;
  }

  private jobsEnqueued(): void {
    for (const listener of this.jobListeners) listener();
  }
}
