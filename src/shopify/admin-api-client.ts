import type { Logger } from '../lib/logger';
import type { AppMetrics } from '../lib/metrics';
import type { Secret } from '../lib/secret';
import { sleep } from '../lib/sleep';
import { shopifyGraphql } from './graphql-transport';
import { shopifyUrl } from './shopify-url';

/**
 * What an Admin API call came to, in the terms a durable job acts on (as graphql-transport.ts):
 * data; retry (transient, throttled, or held back because the shop's cost bucket would not cover it);
 * failed (Shopify refused the document, e.g. ACCESS_DENIED for a scope the shop did not grant).
 */
export type AdminOutcome<T> =
  | { kind: 'data'; data: T; cost?: AdminCost }
  | { kind: 'retry'; reason: string; retryAfterMs?: number; throttled?: boolean }
  | { kind: 'failed'; reason: string };

export interface AdminApiClientOptions {
  apiVersion: string;
  apiOrigin: string | undefined;
  timeoutMs: number;
  logger: Logger;
  fetch?: typeof fetch;
  metrics?: AppMetrics;
  /** Waits up to this long in-process for the bucket to refill; longer waits go back to the caller as a retry. */
  maxInlineWaitMs?: number;
}

interface Bucket {
  available: number;
  maximum: number;
  restoreRate: number;
  atMs: number;
}

interface ThrottleStatus {
  maximumAvailable?: number;
  currentlyAvailable?: number;
  restoreRate?: number;
}

/** One metafield to set (Admin API `MetafieldsSetInput`), whichever resource owns it. */
export interface MetafieldInput {
  ownerId: string;
  namespace: string;
  key: string;
  type: string;
  value: string;
}

/** `extensions.cost` of an answer: what the query cost and what the shop's bucket holds now. */
export interface AdminCost {
  requestedQueryCost?: number;
  actualQueryCost?: number | null;
  throttleStatus?: ThrottleStatus;
}

/**
 * The Admin GraphQL API (`/admin/api/{version}/graphql.json`), respecting Shopify's cost-based rate
 * limit (shopify.dev, "GraphQL Admin API rate limits"): a leaky bucket of points per shop, which every
 * answer reports in `extensions.cost.throttleStatus`. The client remembers each shop's bucket and
 * each document's requested cost, and before a call works out whether the bucket, refilled since,
 * covers it: if not, it waits briefly, or hands the wait back to the caller (an outbox job retries
 * after it) rather than spend a request on a THROTTLED answer. THROTTLED answers still happen (other
 * instances share the bucket) and come back as retries with the wait Shopify's numbers imply.
 */
export class ShopifyAdminClient {
  private readonly buckets = new Map<string, Bucket>();
  private readonly documentCosts = new Map<string, number>();

  constructor(private readonly options: AdminApiClientOptions) {}

  async request<T = Record<string, unknown>>(
    shopDomain: string,
    accessToken: Secret,
    document: string,
    variables: Record<string, unknown>,
    estimatedCost: number,
  ): Promise<AdminOutcome<T>> {
    const expected = this.documentCosts.get(document) ?? estimatedCost;
    const wait = this.waitFor(shopDomain, expected);
    if (wait > (this.options.maxInlineWaitMs ?? 1_000)) {
      return { kind: 'retry', reason: `Shopify's rate limit for ${shopDomain}: waiting for ${expected} points`, retryAfterMs: wait, throttled: true };
    }
    if (wait > 0) await sleep(wait);
    const outcome = await shopifyGraphql({
      url: shopifyUrl(shopDomain, `/admin/api/${this.options.apiVersion}/graphql.json`, this.options.apiOrigin),
      accessToken,
      document,
      variables,
      timeoutMs: this.options.timeoutMs,
      fetch: this.options.fetch,
      metrics: this.options.metrics,
    });
    if (outcome.kind === 'failed') return outcome;
    const cost = (outcome.extensions as { cost?: AdminCost } | undefined)?.cost;
    this.remember(shopDomain, document, cost);
    if (outcome.kind === 'retry') {
      this.options.logger.warn({ shopify: { shop: shopDomain, reason: outcome.reason, throttled: outcome.throttled ?? false } }, 'Shopify Admin API call will be retried');
      return { kind: 'retry', reason: outcome.reason, retryAfterMs: outcome.retryAfterMs, throttled: outcome.throttled };
    }
    return { kind: 'data', data: outcome.data as T, cost };
  }

  /** How long until the shop's bucket, as last reported and refilled since, holds `cost` points. */
  private waitFor(shopDomain: string, cost: number): number {
    const bucket = this.buckets.get(shopDomain);
    if (!bucket || bucket.restoreRate <= 0) return 0;
    const needed = Math.min(cost, bucket.maximum);
    const now = Date.now();
    const available = Math.min(bucket.maximum, bucket.available + ((now - bucket.atMs) / 1000) * bucket.restoreRate);
    return available >= needed ? 0 : Math.ceil(((needed - available) / bucket.restoreRate) * 1000);
  }

  private remember(shopDomain: string, document: string, cost: AdminCost | undefined): void {
    if (typeof cost?.requestedQueryCost === 'number' && cost.requestedQueryCost > 0) this.documentCosts.set(document, cost.requestedQueryCost);
    const status = cost?.throttleStatus;
    if (status?.currentlyAvailable === undefined || !status.maximumAvailable || !status.restoreRate) return;
    this.buckets.set(shopDomain, { available: status.currentlyAvailable, maximum: status.maximumAvailable, restoreRate: status.restoreRate, atMs: Date.now() });
  }
}

/**
 * How long to wait before a query of `nextCost` points fits in the shop's bucket (0 when it fits
 * now), from the throttle status of the last answer: a job schedules its next call then instead of
 * sending it to be throttled.
 */
export function waitForBucketMs(cost: AdminCost | undefined, nextCost: number): number {
  const status = cost?.throttleStatus;
  if (!status?.restoreRate || status.currentlyAvailable === undefined) return 0;
  const missing = nextCost - status.currentlyAvailable;
  return missing <= 0 ? 0 : Math.ceil((missing / status.restoreRate) * 1000);
}
