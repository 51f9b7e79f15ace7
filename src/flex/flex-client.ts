import { z } from 'zod';
import type { Logger } from '../lib/logger';
import { secondsSince, type AppMetrics, type CallOutcome, type FlexOperation } from '../lib/metrics';
import type { Secret } from '../lib/secret';
import { sleep } from '../lib/sleep';
import {
  flexBalanceTransactionSchema,
  flexCheckoutSessionSchema,
  flexLineItemSchema,
  flexPaymentIntentSchema,
  flexPayoutSchema,
  flexPriceSchema,
  flexProductSchema,
  flexRefundSchema,
  flexWebhookEndpointSchema,
  type FlexBalanceTransaction,
  type FlexCheckoutSession,
  type FlexLineItem,
  type FlexPaymentIntent,
  type FlexPayout,
  type FlexPrice,
  type FlexProduct,
  type FlexRefund,
} from './flex-types';

const anyArray = z.array(z.unknown());
const anyValue = z.unknown();
const refundList = z.array(flexRefundSchema);
const paymentIntentList = z.array(flexPaymentIntentSchema);
const lineItemList = z.array(flexLineItemSchema);
const payoutList = z.array(flexPayoutSchema);
const balanceTransactionList = z.array(flexBalanceTransactionSchema);

/** Flex's list pages hold at most 100 (§1.2). */
export const FLEX_PAGE_SIZE = 100;
const productList = z.array(flexProductSchema);
const priceList = z.array(flexPriceSchema);

/**
 * A small typed client for the Flex API (https://api.withflex.com/v1). One instance per process;
 * `forKey` binds it to a shop's live or test key.
 *
 * Errors are classified the way callers must act on them:
 * - `unavailable`: network error, timeout, 429, 5xx, or an idempotent request still in progress.
 *   The outcome is unknown; retry with the same Idempotency-Key or read Flex's state.
 * - `unauthorized`: the key is refused (401/403).
 * - `not_found`: 404.
 * - `rejected`: any other 4xx; Flex refused the request and retrying it unchanged will not help.
 */
export type FlexErrorKind = 'unavailable' | 'unauthorized' | 'not_found' | 'rejected';

export class FlexApiError extends Error {
  constructor(
    readonly kind: FlexErrorKind,
    message: string,
    readonly status?: number,
    readonly code?: string,
    readonly retryAfterMs?: number,
    /** Set when no answer came back at all: why. */
    readonly noAnswer?: 'timeout' | 'network_error',
  ) {
    super(message);
    this.name = 'FlexApiError';
  }

  get retryable(): boolean {
    return this.kind === 'unavailable';
  }
}

export interface FlexClientOptions {
  baseUrl: string;
  timeoutMs: number;
  logger: Logger;
  fetch?: typeof fetch;
  /** Each call is counted by operation and outcome, with its latency. */
  metrics?: AppMetrics;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export class FlexClient {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: FlexClientOptions) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  forKey(apiKey: Secret): FlexAccountClient {
    return new FlexAccountClient(this, apiKey);
  }

  /**
   * @internal used by FlexAccountClient. A request whose twin (same Idempotency-Key) is still running
   * in Flex is retried a few times: the twin finishes quickly and its answer is then replayed.
   */
  async request<T>(
    apiKey: Secret,
    operation: FlexOperation,
    method: Method,
    path: string,
    schema: z.ZodType<T>,
    envelope: string,
    options: { body?: unknown; idempotencyKey?: string } = {},
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.requestOnce(apiKey, operation, method, path, schema, envelope, options);
      } catch (error) {
        const inProgress = error instanceof FlexApiError && error.code === 'idempotency_request_in_progress';
        if (!inProgress || attempt >= 5) throw error;
        await sleep(100 * attempt);
      }
    }
  }

  private async requestOnce<T>(
    apiKey: Secret,
    operation: FlexOperation,
    method: Method,
    path: string,
    schema: z.ZodType<T>,
    envelope: string,
    options: { body?: unknown; idempotencyKey?: string } = {},
  ): Promise<T> {
    const started = performance.now();
    let outcome: CallOutcome = 'network_error';
    try {
      const result = await this.send(apiKey, method, path, schema, envelope, options);
      outcome = 'ok';
      return result;
    } catch (error) {
      outcome = callOutcome(error);
      throw error;
    } finally {
      this.options.metrics?.observeFlexCall(operation, outcome, secondsSince(started));
    }
  }

  private async send<T>(
    apiKey: Secret,
    method: Method,
    path: string,
    schema: z.ZodType<T>,
    envelope: string,
    options: { body?: unknown; idempotencyKey?: string },
  ): Promise<T> {
    const url = `${this.options.baseUrl}${path}`;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${apiKey.reveal()}`,
      Accept: 'application/json',
    };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
    const started = performance.now();
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      this.options.logger.warn(
        { flex: { method, path, idempotencyKey: options.idempotencyKey, ms: Math.round(performance.now() - started) } },
        timedOut ? 'Flex request timed out' : 'Flex request failed',
      );
      throw new FlexApiError(
        'unavailable',
        timedOut ? `Flex did not answer within ${this.options.timeoutMs} ms` : `Flex unreachable: ${(error as Error).message}`,
        undefined,
        undefined,
        undefined,
        timedOut ? 'timeout' : 'network_error',
      );
    }
    const text = await response.text();
    this.options.logger.debug(
      { flex: { method, path, status: response.status, idempotencyKey: options.idempotencyKey, ms: Math.round(performance.now() - started) } },
      'Flex request',
    );
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!response.ok) throw toFlexError(response, json);
    const wrapped = json && typeof json === 'object' ? (json as Record<string, unknown>)[envelope] : undefined;
    const parsed = schema.safeParse(wrapped);
    if (!parsed.success) {
      throw new FlexApiError('unavailable', `Flex answered ${method} ${path} with an unexpected body (no valid "${envelope}")`, response.status, 'unexpected_response');
    }
    return parsed.data;
  }
}

/** The metrics' name for how a Flex call ended. */
function callOutcome(error: unknown): CallOutcome {
  if (!(error instanceof FlexApiError)) return 'network_error';
  if (error.noAnswer) return error.noAnswer;
  if (error.code === 'unexpected_response') return 'bad_response';
  const status = error.status ?? 0;
  if (status === 429) return 'throttled';
  if (status >= 500 || error.code === 'idempotency_request_in_progress') return 'server_error';
  if (error.kind === 'unauthorized') return 'unauthorized';
  if (error.kind === 'not_found') return 'not_found';
  return 'refused';
}

function toFlexError(response: Response, body: unknown): FlexApiError {
  const { code, message } = describeFlexErrorBody(body);
  const status = response.status;
  const retryAfter = Number(response.headers.get('retry-after'));
  const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined;
  const text = message ?? `HTTP ${status}`;
  if (status === 429 || status >= 500 || code === 'idempotency_request_in_progress') {
    return new FlexApiError('unavailable', `Flex is unavailable (${status}): ${text}`, status, code, retryAfterMs);
  }
  if (status === 401 || status === 403) return new FlexApiError('unauthorized', `Flex refused the API key (${status}): ${text}`, status, code);
  if (status === 404) return new FlexApiError('not_found', `Flex object not found: ${text}`, status, code);
  return new FlexApiError('rejected', `Flex rejected the request (${status}): ${text}`, status, code);
}

/** Flex answers errors in two shapes: {error:{code,message}} (documented) and FastAPI's {detail}. */
export function describeFlexErrorBody(body: unknown): { code?: string; message?: string } {
  if (!body || typeof body !== 'object') return {};
  const record = body as Record<string, unknown>;
  const error = record.error as Record<string, unknown> | undefined;
  if (error && typeof error === 'object') {
    return { code: stringOrUndefined(error.code), message: stringOrUndefined(error.message) };
  }
  const detail = record.detail;
  if (typeof detail === 'string') return { code: detail, message: detail };
  if (Array.isArray(detail) && detail.length > 0) {
    const first = detail[0] as Record<string, unknown>;
    const msgs = detail.map((d) => stringOrUndefined((d as Record<string, unknown>).msg)).filter(Boolean);
    return { code: stringOrUndefined(first.type), message: msgs.join('; ') || undefined };
  }
  return {};
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export interface CreateCheckoutSessionInput {
  mode: 'payment';
  line_items: Array<{ price: string; quantity: number }>;
  success_url: string;
  cancel_url: string;
  client_reference_id: string;
  capture_method: 'automatic' | 'manual';
  defaults?: { email?: string; first_name?: string; last_name?: string; phone?: string };
  /** One shipping charge; Flex does not compute shipping. */
  shipping_options?: { shipping_rate_data: { display_name: string; amount: number } };
  /** Flex does not compute tax: the amount we send is the tax charged. */
  tax_rate?: { amount: number };
  /** Inline coupons; `applies_to.prices` puts one on the lines of those prices (as Flex's plugin sends). */
  discounts?: Array<{ coupon_data: { name: string; amount_off: number; applies_to?: { prices: string[] } } }>;
  /** Extra charges, e.g. a rounding adjustment (as Flex's plugin adds). */
  fees?: Array<{ amount: number; fee_type: 'custom'; name: string; description: string }>;
  metadata: Record<string, string>;
}

/** A refund by amount, or by line item (each line's cents, plus shipping), as Flex's plugin sends. */
export type RefundCheckoutSessionInput =
  | { amount: number; refund_metadata: Record<string, string> }
  | { line_items: Array<{ price: string; amount_to_refund: number }>; amount_shipping?: number; refund_metadata: Record<string, string> };

/** What the app tells Flex about a product (flex-api.md §7); Flex judges HSA/FSA eligibility from it. */
export interface FlexProductInput {
  name: string;
  description: string;
  url?: string | null;
  upc_code?: string | null;
  gtin?: string | null;
  categories?: string[];
  client_reference_id: string;
  metadata: Record<string, string>;
}

/** The fields PATCH /v1/products/{id} takes; `client_reference_id` cannot change. */
export type FlexProductPatch = Partial<Omit<FlexProductInput, 'client_reference_id'>> & { active?: boolean };

export interface CaptureCheckoutSessionInput {
  amount: number;
  final_capture: boolean;
  capture_metadata?: Record<string, string>;
}

/** Flex calls made with one shop's key. */
export class FlexAccountClient {
  constructor(
    private readonly client: FlexClient,
    private readonly apiKey: Secret,
  ) {}

  /** A cheap authenticated read, used to check that Flex accepts a key. */
  async verifyKey(): Promise<void> {
    await this.client.request(this.apiKey, 'verify_key', 'GET', '/v1/checkout/sessions?limit=1', anyArray, 'checkout_sessions');
  }

  createProduct(product: FlexProductInput, idempotencyKey: string): Promise<FlexProduct> {
    return this.client.request(this.apiKey, 'create_product', 'POST', '/v1/products', flexProductSchema, 'product', { body: { product }, idempotencyKey });
  }

  getProduct(id: string): Promise<FlexProduct> {
    return this.client.request(this.apiKey, 'get_product', 'GET', `/v1/products/${encodeURIComponent(id)}`, flexProductSchema, 'product');
  }

  updateProduct(id: string, patch: FlexProductPatch, idempotencyKey: string): Promise<FlexProduct> {
    return this.client.request(this.apiKey, 'update_product', 'PATCH', `/v1/products/${encodeURIComponent(id)}`, flexProductSchema, 'product', { body: { product: patch }, idempotencyKey });
  }

  /**
   * Products made with this client reference (newest first): finds a product whose create answer was
   * lost. The filter is an assumption (Flex documents no product filters; README).
   */
  listProductsByReference(clientReferenceId: string, options: { active?: boolean } = {}): Promise<FlexProduct[]> {
    const query = new URLSearchParams({ client_reference_id: clientReferenceId, limit: '10' });
    if (options.active !== undefined) query.set('active', String(options.active));
    return this.client.request(this.apiKey, 'list_products_by_reference', 'GET', `/v1/products?${query}`, productList, 'products');
  }

  createPrice(price: { product: string; unit_amount: number; description: string; metadata?: Record<string, string> }, idempotencyKey: string): Promise<FlexPrice> {
    return this.client.request(this.apiKey, 'create_price', 'POST', '/v1/prices', flexPriceSchema, 'price', { body: { price }, idempotencyKey });
  }

  /** A product's prices (newest first), e.g. its active ones. */
  listPricesOfProduct(productId: string, options: { active?: boolean } = {}): Promise<FlexPrice[]> {
    const query = new URLSearchParams({ product: productId, limit: '100' });
    if (options.active !== undefined) query.set('active', String(options.active));
    return this.client.request(this.apiKey, 'list_prices_of_product', 'GET', `/v1/prices?${query}`, priceList, 'prices');
  }

  /** Prices are immutable but for `active` (and description, metadata); the update is a POST. */
  deactivatePrice(id: string, idempotencyKey: string): Promise<FlexPrice> {
    return this.client.request(this.apiKey, 'deactivate_price', 'POST', `/v1/prices/${encodeURIComponent(id)}`, flexPriceSchema, 'price', { body: { price: { active: false } }, idempotencyKey });
  }

  createCheckoutSession(checkoutSession: CreateCheckoutSessionInput, idempotencyKey: string): Promise<FlexCheckoutSession> {
    return this.client.request(this.apiKey, 'create_checkout_session', 'POST', '/v1/checkout/sessions', flexCheckoutSessionSchema, 'checkout_session', {
      body: { checkout_session: checkoutSession },
      idempotencyKey,
    });
  }

  getCheckoutSession(id: string): Promise<FlexCheckoutSession> {
    return this.client.request(
      this.apiKey,
      'get_checkout_session',
      'GET',
      `/v1/checkout/sessions/${encodeURIComponent(id)}?expand_payment_intent=true`,
      flexCheckoutSessionSchema,
      'checkout_session',
    );
  }

  async listCheckoutSessionsByReference(clientReferenceId: string): Promise<FlexCheckoutSession[]> {
    const query = new URLSearchParams({ client_reference_id: clientReferenceId, limit: '100' });
    const list = await this.client.request(this.apiKey, 'list_checkout_sessions', 'GET', `/v1/checkout/sessions?${query}`, anyArray, 'checkout_sessions');
    return list.flatMap((item) => {
      const parsed = flexCheckoutSessionSchema.safeParse(item);
      return parsed.success ? [parsed.data] : [];
    });
  }

  refundCheckoutSession(id: string, input: RefundCheckoutSessionInput, idempotencyKey: string): Promise<FlexRefund[]> {
    return this.client.request(this.apiKey, 'refund', 'POST', `/v1/checkout/sessions/${encodeURIComponent(id)}/refund`, refundList, 'refunds', {
      body: { checkout_session: input },
      idempotencyKey,
    });
  }

  getRefund(id: string): Promise<FlexRefund> {
    return this.client.request(this.apiKey, 'get_refund', 'GET', `/v1/refunds/${encodeURIComponent(id)}`, flexRefundSchema, 'refund');
  }

  /** A checkout session's refunds (newest first), to find one whose answer was lost. */
  listRefundsForCheckoutSession(checkoutSessionId: string): Promise<FlexRefund[]> {
    const query = new URLSearchParams({ checkout_session: checkoutSessionId, limit: '100' });
    return this.client.request(this.apiKey, 'list_refunds', 'GET', `/v1/refunds?${query}`, refundList, 'refunds');
  }

  captureCheckoutSession(id: string, input: CaptureCheckoutSessionInput, idempotencyKey: string): Promise<FlexCheckoutSession> {
    return this.client.request(this.apiKey, 'capture', 'POST', `/v1/checkout/sessions/${encodeURIComponent(id)}/capture`, flexCheckoutSessionSchema, 'checkout_session', {
      body: { checkout_session: input },
      idempotencyKey,
    });
  }

  cancelCheckoutSession(id: string, idempotencyKey: string): Promise<FlexCheckoutSession> {
    return this.client.request(this.apiKey, 'cancel', 'POST', `/v1/checkout/sessions/${encodeURIComponent(id)}/cancel`, flexCheckoutSessionSchema, 'checkout_session', {
      body: {},
      idempotencyKey,
    });
  }

  /** The payment intents of a checkout session: one per card (two for a split payment). */
  listPaymentIntents(checkoutSessionId: string): Promise<FlexPaymentIntent[]> {
    const query = new URLSearchParams({ checkout_session: checkoutSessionId, limit: String(FLEX_PAGE_SIZE) });
    return this.client.request(this.apiKey, 'list_payment_intents', 'GET', `/v1/payment_intents?${query}`, paymentIntentList, 'payment_intents');
  }

  /** The lines Flex was asked to charge, with the eligibility it judged for each. */
  listCheckoutLineItems(checkoutSessionId: string): Promise<FlexLineItem[]> {
    return this.client.request(this.apiKey, 'list_checkout_line_items', 'GET', `/v1/checkout/sessions/${encodeURIComponent(checkoutSessionId)}/line_items?limit=${FLEX_PAGE_SIZE}`, lineItemList, 'line_items');
  }

  /** One page of payouts, newest first; `startingAfter` continues after that payout. */
  listPayouts(page: { startDate?: Date; startingAfter?: string }): Promise<FlexPayout[]> {
    const query = new URLSearchParams({ limit: String(FLEX_PAGE_SIZE) });
    if (page.startDate) query.set('start_date', page.startDate.toISOString());
    if (page.startingAfter) query.set('starting_after', page.startingAfter);
    return this.client.request(this.apiKey, 'list_payouts', 'GET', `/v1/payouts?${query}`, payoutList, 'payouts');
  }

  /** One page of the balance transactions a payout took (its own `payout` transaction included), newest first. */
  listPayoutBalanceTransactions(payoutId: string, startingAfter?: string): Promise<FlexBalanceTransaction[]> {
    const query = new URLSearchParams({ payout_id: payoutId, limit: String(FLEX_PAGE_SIZE) });
    if (startingAfter) query.set('starting_after', startingAfter);
    return this.client.request(this.apiKey, 'list_payout_balance_transactions', 'GET', `/v1/balance_transactions?${query}`, balanceTransactionList, 'balance_transactions');
  }

  createWebhookEndpoint(webhook: { url: string; events: string[] }, idempotencyKey: string) {
    return this.client.request(this.apiKey, 'create_webhook', 'POST', '/v1/webhooks', flexWebhookEndpointSchema, 'webhook', { body: { webhook }, idempotencyKey });
  }

  async deleteWebhookEndpoint(id: string, idempotencyKey: string): Promise<void> {
    await this.client.request(this.apiKey, 'delete_webhook', 'DELETE', `/v1/webhooks/${encodeURIComponent(id)}`, anyValue, 'webhook', { idempotencyKey }).catch((error: unknown) => {
      if (error instanceof FlexApiError && error.kind === 'not_found') return;
      throw error;
    });
  }
}
