import type { Logger } from '../lib/logger';
import type { Secret } from '../lib/secret';
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
}

export class ShopifyPaymentsApiClient {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: PaymentsApiClientOptions) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  get apiVersion(): string {
    return this.options.apiVersion;
  }

  async mutate(
    shopDomain: string,
    accessToken: Secret,
    name: PaymentsMutationName,
    variables: Record<string, unknown>,
  ): Promise<MutationOutcome> {
    const url = shopifyUrl(shopDomain, `/payments_apps/api/${this.options.apiVersion}/graphql.json`, this.options.apiOrigin);
    const log = { shopify: { shop: shopDomain, mutation: name } };
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'X-Shopify-Access-Token': accessToken.reveal(),
        },
        body: JSON.stringify({ query: PAYMENTS_MUTATIONS[name], variables }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      this.options.logger.warn(log, timedOut ? 'Shopify mutation timed out' : 'Shopify mutation failed to send');
      return { kind: 'retry', reason: timedOut ? `Shopify did not answer within ${this.options.timeoutMs} ms` : `network error: ${(error as Error).message}` };
    }

    const text = await response.text();
    if (response.status === 429 || response.status >= 500) {
      return { kind: 'retry', reason: `Shopify answered HTTP ${response.status}`, retryAfterMs: retryAfterMs(response) };
    }
    if (response.status === 401 || response.status === 403) {
      // The token may be replaced by a reinstall; keep the decision and keep trying until the job expires.
      return { kind: 'retry', reason: `Shopify refused the access token (HTTP ${response.status})` };
    }
    if (!response.ok) {
      return { kind: 'failed', reason: `Shopify answered HTTP ${response.status}: ${text.slice(0, 300)}`, userErrors: [], subject: null };
    }

    let body: { data?: Record<string, unknown> | null; errors?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return { kind: 'retry', reason: 'Shopify answered with a body that is not JSON' };
    }

    if (body.errors) {
      const errors = Array.isArray(body.errors) ? body.errors : [{ message: String(body.errors) }];
      const codes = errors.map((e) => (e as { extensions?: { code?: string } }).extensions?.code);
      const messages = errors.map((e) => (e as { message?: string }).message ?? 'error').join('; ');
      // Throttling and Shopify-side faults pass; anything else (a document Shopify cannot accept) will
      // fail the same way every time, so it goes to a person instead of being retried for a day.
      if (codes.some((c) => c !== undefined && TRANSIENT_GRAPHQL_CODES.has(c))) {
        return { kind: 'retry', reason: `Shopify GraphQL errors: ${messages}`, retryAfterMs: codes.includes('THROTTLED') ? 2_000 : undefined };
      }
      return { kind: 'failed', reason: `Shopify GraphQL errors: ${messages}`, userErrors: [], subject: null };
    }

    const payload = body.data?.[name] as { userErrors?: ShopifyUserError[] } & Record<string, unknown> | undefined;
    if (!payload) return { kind: 'retry', reason: `Shopify answered without data.${name}` };
    const subject = (payload[MUTATION_SUBJECT_FIELD[name]] ?? null) as MutationSubject | null;
    const userErrors = payload.userErrors ?? [];
    if (userErrors.length === 0) return { kind: 'acknowledged', subject, alreadyInState: false, userErrors };

    const target = MUTATION_TARGET_STATE[name];
    const state = subject?.state?.code;
    if (target && state === target) {
      return { kind: 'acknowledged', subject, alreadyInState: true, userErrors };
    }
    // A "pending" report that arrives after the session was finalized has nothing left to do.
    if (name === 'paymentSessionPending' && (state === 'RESOLVED' || state === 'REJECTED')) {
      return { kind: 'acknowledged', subject, alreadyInState: true, userErrors };
    }
    return {
      kind: 'failed',
      reason: `Shopify refused ${name}: ${userErrors.map((e) => e.message).join('; ')}`,
      userErrors,
      subject,
    };
  }
}

const TRANSIENT_GRAPHQL_CODES = new Set(['THROTTLED', 'INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE', 'TIMEOUT']);

function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
