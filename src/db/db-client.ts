import type { Prisma, PrismaClient } from '@prisma/client';

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
}

export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'P2002';
}
