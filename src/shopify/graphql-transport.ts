import { createGraphQLClient } from '@shopify/graphql-client';
import { secondsSince, type AppMetrics, type CallOutcome } from '../lib/metrics';
import type { Secret } from '../lib/secret';

/**
 * One GraphQL call to a shop's Shopify API (Payments Apps or Admin) through Shopify's own
 * `@shopify/graphql-client`, and what came of it in the terms a durable job acts on:
 * - data: Shopify executed the document (user errors, if any, are in the data);
 * - retry: transient: network error, timeout, HTTP 429 or 5xx, a token being replaced (401/403),
 *   throttling and Shopify-side faults, a body that is not the JSON Shopify sends;
 * - failed: Shopify refused the document itself (another 4xx, a validation error): it would fail
 *   the same way every time, so a person must look instead of a day of retries.
 * The library's own retries stay off: the outbox retries durably, across restarts.
 */
export type GraphqlOutcome =
  | { kind: 'data'; data: Record<string, unknown>; extensions: Record<string, unknown> | undefined }
  | {
      kind: 'retry';
      reason: string;
      retryAfterMs?: number;
      throttled?: boolean;
      tokenRefused?: boolean;
      extensions?: Record<string, unknown>;
      cause?: 'timeout' | 'network_error' | 'throttled' | 'server_error' | 'bad_response';
    }
  | { kind: 'failed'; reason: string };

const TRANSIENT_GRAPHQL_CODES = new Set(['THROTTLED', 'INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE', 'TIMEOUT']);

export interface GraphqlRequest {
  url: string;
  accessToken: Secret;
  document: string;
  variables: Record<string, unknown>;
  timeoutMs: number;
  fetch?: typeof fetch;
  /** Each call is counted under the document's operation name, with its outcome and latency. */
  metrics?: AppMetrics;
}

export async function shopifyGraphql(request: GraphqlRequest): Promise<GraphqlOutcome> {
  const started = performance.now();
  let outcome: CallOutcome = 'network_error';
  try {
    const result = await send(request);
    outcome = callOutcome(result);
    return result;
  } finally {
    request.metrics?.observeShopifyCall(operationName(request.document), outcome, secondsSince(started));
  }
}

/**
 * The document's operation name (`mutation PaymentSessionResolve(…)` → PaymentSessionResolve): our
 * documents are constants, so the label is bounded; an anonymous document counts as "anonymous".
 */
export function operationName(document: string): string {
  return /^\s*(?:query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(document)?.[1] ?? 'anonymous';
}

function callOutcome(outcome: GraphqlOutcome): CallOutcome {
  if (outcome.kind === 'data') return 'ok';
  if (outcome.kind === 'failed') return 'refused';
  if (outcome.throttled) return 'throttled';
  if (outcome.tokenRefused) return 'unauthorized';
  return outcome.cause ?? 'server_error';
}

async function send(request: GraphqlRequest): Promise<GraphqlOutcome> {
  const client = createGraphQLClient({
    url: request.url,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Shopify-Access-Token': request.accessToken.reveal() },
    customFetchApi: request.fetch ?? fetch,
    retries: 0,
  });
  const { data, errors, extensions } = await client.request<Record<string, unknown>>(request.document, {
    variables: request.variables,
    signal: AbortSignal.timeout(request.timeoutMs),
  });
  if (!errors) return { kind: 'data', data: data ?? {}, extensions: extensions as Record<string, unknown> | undefined };

  const status = errors.networkStatusCode;
  if (status === undefined) {
    const timedOut = /timeout|aborted/i.test(errors.message ?? '');
    return {
      kind: 'retry',
      reason: timedOut ? `Shopify did not answer within ${request.timeoutMs} ms` : `network error: ${errors.message ?? 'unknown'}`,
      cause: timedOut ? 'timeout' : 'network_error',
    };
  }
  if (status === 429 || status >= 500) {
    return { kind: 'retry', reason: `Shopify answered HTTP ${status}`, retryAfterMs: retryAfterMs(errors.response), cause: status === 429 ? 'throttled' : 'server_error' };
  }
  // The token may be replaced by a reinstall; keep the work and keep trying until the job expires.
  if (status === 401 || status === 403) return { kind: 'retry', reason: `Shopify refused the access token (HTTP ${status})`, tokenRefused: true };
  if (status < 200 || status >= 300) {
    const text = (await errors.response?.text().catch(() => '')) ?? '';
    return { kind: 'failed', reason: `Shopify answered HTTP ${status}: ${text.slice(0, 300)}` };
  }
  const graphQLErrors = (errors.graphQLErrors ?? []) as Array<{ message?: string; extensions?: { code?: string } }>;
  if (graphQLErrors.length === 0) {
    // A 2xx that is not Shopify's JSON (a proxy's page), or JSON with neither data nor errors.
    return { kind: 'retry', reason: `Shopify answered with an unexpected body: ${errors.message ?? ''}`, cause: 'bad_response' };
  }
  const codes = graphQLErrors.map((e) => e.extensions?.code);
  const messages = graphQLErrors.map((e) => e.message ?? 'error').join('; ');
  if (codes.some((c) => c !== undefined && TRANSIENT_GRAPHQL_CODES.has(c))) {
    const throttled = codes.includes('THROTTLED');
    return {
      kind: 'retry',
      reason: `Shopify GraphQL errors: ${messages}`,
      retryAfterMs: throttled ? throttleWaitMs(extensions) : undefined,
      throttled,
      extensions: extensions as Record<string, unknown> | undefined,
    };
  }
  return { kind: 'failed', reason: `Shopify GraphQL errors: ${messages}` };
}

/**
 * How long until a throttled query can run: Shopify's cost extension says what is available and how
 * fast the bucket refills (Admin API); without it, two seconds.
 */
export function throttleWaitMs(extensions: unknown, needed?: number): number {
  const cost = (extensions as { cost?: { requestedQueryCost?: number; throttleStatus?: { currentlyAvailable?: number; restoreRate?: number } } } | undefined)?.cost;
  const status = cost?.throttleStatus;
  const want = needed ?? cost?.requestedQueryCost;
  if (!status?.restoreRate || want === undefined || status.currentlyAvailable === undefined) return 2_000;
  return Math.max(250, Math.ceil(((want - status.currentlyAvailable) / status.restoreRate) * 1000));
}

function retryAfterMs(response: Response | undefined): number | undefined {
  const value = response?.headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
