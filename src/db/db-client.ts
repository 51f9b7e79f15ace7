import type { Prisma, PrismaClient } from '@prisma/client';

/** Repositories run on the client or inside a transaction, whichever they are given. */
export type DbClient = PrismaClient | Prisma.TransactionClient;

export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'P2002';
}
