import type { Prisma } from '@prisma/client';
import type { z } from 'zod';
import type { JobRecord, JobRepository, NewJob } from '../db/repositories/jobs';

/**
 * One kind of outbox job and the shape of its payload. The payload is checked against the schema
 * when the worker reads the job back (a row written by an older version, or edited by hand, fails
 * loudly instead of being cast), and enqueueing takes the typed payload only.
 */
export interface JobType<P> {
  readonly kind: string;
  readonly payload: z.ZodType<P>;
}

export function defineJobType<P>(kind: string, payload: z.ZodType<P>): JobType<P> {
  return { kind, payload };
}

export interface EnqueueOptions {
  /** One job per logical operation: a second enqueue with the same key returns the first job. */
  dedupeKey: string;
  shopId?: string | null;
  subject?: { type: string; id: string };
  runAt: Date;
}

export function enqueueJob<P>(jobs: JobRepository, type: JobType<P>, payload: P, options: EnqueueOptions): Promise<JobRecord> {
  return jobs.enqueue(newJob(type, payload, options));
}

/** The row of a job of this type, for a statement that writes it with other rows (payment-sessions.ts). */
export function newJob<P>(type: JobType<P>, payload: P, options: EnqueueOptions): NewJob {
  return {
    kind: type.kind,
    dedupeKey: options.dedupeKey,
    payload: type.payload.parse(payload) as Prisma.InputJsonValue,
    shopId: options.shopId ?? null,
    subjectType: options.subject?.type,
    subjectId: options.subject?.id,
    runAt: options.runAt,
  };
}

/** The payload of a job of this type, or undefined when the row does not hold one (a foreign kind, a bad row). */
export function payloadOf<P>(type: JobType<P>, job: Pick<JobRecord, 'kind' | 'payload'>): P | undefined {
  if (job.kind !== type.kind) return undefined;
  const parsed = type.payload.safeParse(job.payload);
  return parsed.success ? parsed.data : undefined;
}
