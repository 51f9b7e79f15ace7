import type { Prisma, PrismaClient } from '@prisma/client';

/** Repositories run on the client or inside a transaction, whichever they are given. */
export type DbClient = PrismaClient | Prisma.TransactionClient;

/** What a repository may ask of the transaction it runs in (see db/transactor.ts). */
export interface CommitHooks {
  afterCommit(work: () => void): void;
  /** An outbox job was written: the worker is woken once it is committed. */
  jobEnqueued(): void;
}

export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'P2002';
}
