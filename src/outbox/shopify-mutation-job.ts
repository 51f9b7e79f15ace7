import type { Prisma } from '@prisma/client';
import type { Logger } from '../lib/logger';
import type { ShopRepository } from '../shops/shop-repository';
import type { ShopifyAccessTokens } from '../shopify/access-tokens';
import type { MutationSubject, ShopifyPaymentsApiClient } from '../shopify/payments-api-client';
import type { PaymentsMutationName } from '../shopify/payments-mutations';
import type { JobRecord, JobRepository } from './job-repository';
import type { JobHandler, JobResult } from './outbox-worker';

export const SHOPIFY_MUTATION_JOB = 'shopify.payments-mutation';

export interface ShopifyMutationPayload {
  mutation: PaymentsMutationName;
  variables: Record<string, unknown>;
  shopId: string;
  subject: { type: string; id: string };
}

/** What the domain does when Shopify has taken (or for good refused) one of its mutations. */
export interface MutationSubjectHooks {
  onAcknowledged(subjectId: string, mutation: PaymentsMutationName, subject: MutationSubject | null, alreadyInState: boolean): Promise<void>;
  onGaveUp(subjectId: string, mutation: PaymentsMutationName, error: string): Promise<void>;
}

export function enqueueShopifyMutation(
  jobs: JobRepository,
  input: { shopId: string; mutation: PaymentsMutationName; variables: Record<string, unknown>; subject: { type: string; id: string }; now: Date; dedupeKey?: string },
): Promise<JobRecord> {
  const payload: ShopifyMutationPayload = { mutation: input.mutation, variables: input.variables, shopId: input.shopId, subject: input.subject };
  return jobs.enqueue({
    kind: SHOPIFY_MUTATION_JOB,
    // Shopify dedupes per (session, mutation), and so do we: one job per decision.
    dedupeKey: input.dedupeKey ?? `shopify:${input.mutation}:${String(input.variables.id)}`,
    payload: payload as unknown as Prisma.InputJsonValue,
    shopId: input.shopId,
    subjectType: input.subject.type,
    subjectId: input.subject.id,
    runAt: input.now,
  });
}

/** Sends one Payments Apps mutation and reports what came of it. */
export class ShopifyMutationJobHandler implements JobHandler {
  readonly kind = SHOPIFY_MUTATION_JOB;

  constructor(
    private readonly deps: {
      shops: ShopRepository;
      tokens: ShopifyAccessTokens;
      client: ShopifyPaymentsApiClient;
      hooks: Record<string, MutationSubjectHooks>;
      logger: Logger;
    },
  ) {}

  async handle(job: JobRecord): Promise<JobResult> {
    const payload = job.payload as unknown as ShopifyMutationPayload;
    const shop = await this.deps.shops.findById(payload.shopId);
    if (!shop) return { status: 'failed', error: 'shop no longer exists' };
    const token = await this.deps.tokens.forShop(shop.domain);
    if (!token) {
      return shop.status === 'UNINSTALLED'
        ? { status: 'failed', error: 'the app was uninstalled from this shop' }
        : { status: 'retry', error: 'no Shopify access token stored for this shop' };
    }

    const outcome = await this.deps.client.mutate(shop.domain, token, payload.mutation, payload.variables);
    const hooks = this.deps.hooks[payload.subject.type];
    switch (outcome.kind) {
      case 'acknowledged':
        await hooks?.onAcknowledged(payload.subject.id, payload.mutation, outcome.subject, outcome.alreadyInState);
        return { status: 'succeeded', result: { state: outcome.subject?.state?.code ?? null, alreadyInState: outcome.alreadyInState } };
      case 'retry':
        return { status: 'retry', error: outcome.reason, retryAfterMs: outcome.retryAfterMs };
      case 'failed':
        return {
          status: 'failed',
          error: outcome.reason,
          result: { userErrors: outcome.userErrors, state: outcome.subject?.state?.code ?? null } as unknown as Prisma.InputJsonValue,
        };
    }
  }

  async onGaveUp(job: JobRecord, error: string): Promise<void> {
    const payload = job.payload as unknown as ShopifyMutationPayload;
    await this.deps.hooks[payload.subject.type]?.onGaveUp(payload.subject.id, payload.mutation, error);
  }
}
