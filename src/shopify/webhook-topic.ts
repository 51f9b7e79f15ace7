import type { Prisma } from '@prisma/client';
import type { z } from 'zod';
import type { Repositories } from '../db/repositories';
import type { NewShopifyWebhookDelivery } from '../db/repositories/shopify-webhook-deliveries';
import type { ShopDomain } from '../lib/ids';

/**
 * One Shopify webhook topic, as the webhook pipeline (merchant/shopify-webhooks/) runs it: `parse`
 * checks the verified body is what this topic sends, for this shop (only the body is signed, so a
 * signed body of another topic re-sent under this topic's name must not pass) and says what of it
 * may be stored; `apply` runs in the transaction that records the delivery, so a redelivery of the
 * same webhook id changes nothing. Here, below the use cases, so that each use case folder can
 * bring its own topics (orders/ brings orders/create and orders/paid).
 */
export interface TopicHandler<T> {
  parse(body: unknown, shopDomain: string): ParsedTopic<T>;
  apply(value: T, context: TopicContext): Promise<TopicOutcome>;
  /**
   * Every statement `apply` reaches is SQL as written, so the delivery's transaction runs on a pg
   * connection of its own (Transactor.runSql) instead of Prisma's: for the topics of every checkout.
   */
  sqlOnly?: boolean;
  /**
   * The topic's whole work done in the one statement that records the delivery, with no transaction
   * around it: for the topics of every checkout, one round trip instead of four. `duplicate` when the
   * delivery was recorded before (a redelivery: nothing done); `not_here` when this body's work cannot
   * be done so, and then `apply` runs as usual.
   */
  applyRecordingDelivery?(value: T, context: { repos: Repositories; shopDomain: ShopDomain; delivery: NewShopifyWebhookDelivery; now: Date }): Promise<RecordedTopicOutcome>;
}

export interface TopicContext {
  repos: Repositories;
  shopDomain: ShopDomain;
  deliveryId: string;
  now: Date;
}

export interface TopicOutcome {
  outcome: string;
  /** What the delivery row keeps (replaces the stored request). */
  payload?: Prisma.InputJsonValue;
}

export type RecordedTopicOutcome = { recorded: 'applied'; outcome: TopicOutcome } | { recorded: 'duplicate' } | { recorded: 'not_here' };

export type ParsedTopic<T> = { ok: true; value: T; stored: Prisma.InputJsonValue } | { ok: false; problem: string };

/** The body against the topic's schema, refusing keys that only other topics send. */
export function parseTopicBody<S extends z.ZodType>(schema: S, body: unknown, forbidden: string[]): { ok: true; value: z.infer<S> } | { ok: false; problem: string } {
  if (body && typeof body === 'object') {
    const present = forbidden.filter((key) => key in (body as Record<string, unknown>));
    if (present.length > 0) return { ok: false, problem: `the body has ${present.join(', ')}, which this topic does not send` };
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) return { ok: false, problem: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') };
  return { ok: true, value: parsed.data };
}
