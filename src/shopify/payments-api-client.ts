import type { Logger } from '../lib/logger';
import type { AppMetrics } from '../lib/metrics';
import type { Secret } from '../lib/secret';
import { shopifyGraphql } from './graphql-transport';
import { shopifyUrl } from './shopify-url';
import { MUTATION_SUBJECT_FIELD, MUTATION_TARGET_STATE, PAYMENTS_MUTATIONS, type PaymentsMutationName } from './payments-mutations';

export interface ShopifyUserError {
  field?: string[] | null;
  message: string;
  code?: string | null;
}

export interface MutationSubject {
  id?: string;
  state?: { __typename?: string; code?: string; reason?: string; merchantMessage?: string | null } | null;
  nextAction?: { action?: string; context?: { redirectUrl?: string } | null } | null;
  [key: string]: unknown;
}

/**
 * What a Payments Apps mutation call came to, in the terms the outbox acts on:
 * - acknowledged: Shopify holds the state we asked for (now, or already from an earlier call);
 * - retry: transient (network, timeout, 429, 5xx, throttled, 401 while a token is being replaced);
 * - failed: Shopify refused it for good (a conflicting earlier decision, a bad document): a person
 *   must look, retrying will not help.
 */
export type MutationOutcome =
  | { kind: 'acknowledged'; subject: MutationSubject | null; alreadyInState: boolean; userErrors: ShopifyUserError[] }
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  | { kind: 'failed'; reason: string; userErrors: ShopifyUserError[]; subject: MutationSubject | null };

export interface PaymentsApiClientOptions {
  apiVersion: string;
  apiOrigin: string | undefined;
  timeoutMs: number;
  logger: Logger;
  fetch?: typeof fetch;
  metrics?: AppMetrics;
}

/** The Payments Apps GraphQL API (`/payments_apps/api/{version}/graphql.json`), for the session mutations. */
export class ShopifyPaymentsApiClient {
  constructor(private readonly options: PaymentsApiClientOptions) {}

  get apiVersion(): string {
    return this.options.apiVersion;
  }

  /**
   * Whether Shopify still accepts the shop's token, asked with the one query the Payments Apps API
   * has. A refused token means the app is not installed (Shopify revokes it on uninstall); anything
   * else that is not an answer is "unknown".
   */
  async tokenStatus(shopDomain: string, accessToken: Secret): Promise<'accepted' | 'refused' | 'unknown'> {
    const outcome = await shopifyGraphql({
      url: shopifyUrl(shopDomain, `/payments_apps/api/${this.options.apiVersion}/graphql.json`, this.options.apiOrigin),
      accessToken,
      document: 'query AppStillInstalled { publicApiVersions { handle } }',
      variables: {},
      timeoutMs: this.options.timeoutMs,
      fetch: this.options.fetch,
      metrics: this.options.metrics,
    });
    if (outcome.kind === 'data') return 'accepted';
    return outcome.kind === 'retry' && outcome.tokenRefused ? 'refused' : 'unknown';
  }

  async mutate(shopDomain: string, accessToken: Secret, name: PaymentsMutationName, variables: Record<string, unknown>): Promise<MutationOutcome> {
    const outcome = await shopifyGraphql({
      url: shopifyUrl(shopDomain, `/payments_apps/api/${this.options.apiVersion}/graphql.json`, this.options.apiOrigin),
      accessToken,
      document: PAYMENTS_MUTATIONS[name],
      variables,
      timeoutMs: this.options.timeoutMs,
      fetch: this.options.fetch,
      metrics: this.options.metrics,
    });
    if (outcome.kind === 'retry') {
      this.options.logger.warn({ shopify: { shop: shopDomain, mutation: name, reason: outcome.reason } }, 'Shopify mutation will be retried');
      return { kind: 'retry', reason: outcome.reason, retryAfterMs: outcome.retryAfterMs };
    }
    if (outcome.kind === 'failed') return { kind: 'failed', reason: outcome.reason, userErrors: [], subject: null };

    const payload = outcome.data[name] as ({ userErrors?: ShopifyUserError[] } & Record<string, unknown>) | undefined;
    if (!payload) return { kind: 'retry', reason: `Shopify answered without data.${name}` };
    const subject = (payload[MUTATION_SUBJECT_FIELD[name]] ?? null) as MutationSubject | null;
    const userErrors = payload.userErrors ?? [];
    if (userErrors.length === 0) return { kind: 'acknowledged', subject, alreadyInState: false, userErrors };

    const target = MUTATION_TARGET_STATE[name];
    const state = subject?.state?.code;
    if (target && state === target) return { kind: 'acknowledged', subject, alreadyInState: true, userErrors };
    // A "pending" report that arrives after the session was finalized has nothing left to do.
    if (name === 'paymentSessionPending' && (state === 'RESOLVED' || state === 'REJECTED')) {
      return { kind: 'acknowledged', subject, alreadyInState: true, userErrors };
    }
    return { kind: 'failed', reason: `Shopify refused ${name}: ${userErrors.map((e) => e.message).join('; ')}`, userErrors, subject };
  }
}
