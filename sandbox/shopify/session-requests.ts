// Session requests as Shopify sends them to a payments app (reference §3): the bodies, the headers,
// and the client certificate. Every knob a test might want to turn is an input option, so tests can
// also send what real Shopify never would.
import { randomBytes, randomUUID } from 'node:crypto';
import type { HttpClient, OutgoingResponse } from './http-client';
import {
  GID_PREFIX,
  type FollowUpKind,
  type FollowUpSessionRecord,
  type PaymentKind,
  type PaymentSessionRecord,
  type PaymentsState,
} from './payments-state';
import { formatDateTime } from './graphql-schema';
import type { AppConfig } from './types';

export interface Address {
  given_name?: string;
  family_name?: string;
  line1?: string;
  line2?: string;
  city?: string;
  postal_code?: string;
  province?: string;
  province_code?: string;
  country_code?: string;
  phone_number?: string;
  company?: string;
}

export interface Customer {
  email?: string;
  phone_number?: string;
  locale?: string;
  billing_address?: Address;
  shipping_address?: Address;
}

export interface PaymentSessionRequestBody {
  id: string;
  gid: string;
  group: string;
  session_id: string;
  amount: string;
  currency: string;
  test: boolean;
  merchant_locale: string;
  payment_method: { type: 'offsite'; data: { cancel_url: string } };
  proposed_at: string;
  customer?: Customer;
  kind: PaymentKind;
}

export interface FollowUpRequestBody {
  id: string;
  gid: string;
  payment_id: string;
  amount?: string;
  currency?: string;
  test: boolean;
  merchant_locale: string;
  proposed_at: string;
}

type BodyOverride<B> = ((body: B) => unknown) | Partial<B> | Record<string, unknown>;

/** Options shared by all four session requests. */
export interface RequestOptions<B> {
  /** A function `(defaultBody) => body` (a string is sent as is), or fields merged into the body. */
  body?: BodyOverride<B>;
  /** Headers to add or replace; `null` removes one of the defaults. */
  headers?: Record<string, string | null>;
  /** `false`: do not present the client certificate even if `app.clientTls` is set. */
  tls?: boolean;
  /** The `Shopify-Api-Version` header (default: the simulator's `apiVersion`). */
  apiVersion?: string;
  merchantLocale?: string;
  test?: boolean;
  proposedAt?: string;
  /** Further deliveries of the same body after a non-2xx answer or a network error (default 0). */
  retries?: number;
  timeoutMs?: number;
}

export interface PaymentSessionInput extends RequestOptions<PaymentSessionRequestBody> {
  /** Reusing an `id` already sent to this shop re-delivers that session (Shopify's retry). */
  id?: string;
  group?: string;
  sessionId?: string;
  amount: string | number;
  currency?: string;
  kind?: PaymentKind;
  /** Merged over a default buyer; `null` sends no `customer` at all. */
  customer?: Customer | null;
  /**
   * The checkout (token) whose cart is being paid: `cancel_url` becomes that checkout's URL in the
   * form the checkout was created with (see assumptions). Without it, the URL is
   * `{publicUrl}/checkouts/{group}/cancel` as before carts existed.
   */
  checkoutToken?: string;
  /**
   * The order Shopify creates once this payment is resolved is edited at once by the merchant (an
   * item added for `amount`): its total then exceeds what the payment brought in, as happens when a
   * cart or order changes after payment. Nothing of it is sent to the app.
   */
  orderEdit?: { title?: string; amount: string | number };
}

export interface FollowUpSessionInput extends RequestOptions<FollowUpRequestBody> {
  id?: string;
  /** The payment session `id` (not the gid) this refund/capture/void belongs to. */
  paymentId: string;
  /** Default: the payment's amount. Ignored for voids, which carry no amount. */
  amount?: string | number;
  currency?: string;
}

export interface SentSession<S> {
  session: S;
  /** HTTP status of the app's last answer; 0 when it never answered (network error, timeout). */
  status: number;
  /** The app's answer, parsed when it is JSON. */
  body: unknown;
  headers: Record<string, string>;
  requestId: string;
  /** Set when there was no HTTP answer. */
  error?: string;
}

export interface SessionRequestContext {
  app(): AppConfig;
  apiVersion: string;
  publicUrl(): string;
  now(): Date;
  state: PaymentsState;
  http: HttpClient;
  /** The `cancel_url` of a checkout created by the simulator. */
  checkoutCancelUrl?(token: string): string | undefined;
}

const PATHS: Record<'payment' | FollowUpKind, string> = {
  payment: '/payments/sessions',
  refund: '/payments/refunds',
  capture: '/payments/captures',
  void: '/payments/voids',
};

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function randomSessionId(length = 24): string {
  const bytes = randomBytes(length);
  let id = '';
  for (const byte of bytes) id += BASE62[byte % 62];
  return id;
}

// Groups and session ids look like base64 with padding on Shopify ("rZNvy…="); the URL-safe alphabet
// keeps them out of path trouble while the "=" still needs encoding in query strings.
function randomGroupId(): string {
  return `${randomBytes(22).toString('base64url').slice(0, 30)}=`;
}

export function formatAmount(amount: string | number): string {
  return typeof amount === 'number' ? amount.toFixed(2) : amount;
}

export const DEFAULT_CUSTOMER: Customer = {
  email: 'buyer@example.com',
  phone_number: '5555555555',
  locale: 'en',
  billing_address: {
    given_name: 'Alice',
    family_name: 'Buyer',
    line1: '123 Main Street',
    line2: 'Apt 4',
    city: 'Springfield',
    postal_code: '62701',
    province: 'Illinois',
    province_code: 'IL',
    country_code: 'US',
    phone_number: '5555555555',
    company: '',
  },
  shipping_address: {
    given_name: 'Alice',
    family_name: 'Buyer',
    line1: '123 Main Street',
    line2: 'Apt 4',
    city: 'Springfield',
    postal_code: '62701',
    province: 'Illinois',
    province_code: 'IL',
    country_code: 'US',
    phone_number: '5555555555',
  },
};

function applyBodyOverride<B>(body: B, override: BodyOverride<B> | undefined): unknown {
  if (override === undefined) return body;
  if (typeof override === 'function') return override(body);
  return { ...body, ...override };
}

export async function sendPaymentSession(
  ctx: SessionRequestContext,
  shop: string,
  input: PaymentSessionInput,
): Promise<SentSession<PaymentSessionRecord>> {
  const existing = input.id ? ctx.state.payment(shop, GID_PREFIX.payment + input.id) : undefined;
  let session: PaymentSessionRecord;
  let body: unknown;
  if (existing) {
    session = existing;
    body = input.body === undefined ? existing.requestBody : applyBodyOverride(existing.requestBody as PaymentSessionRequestBody, input.body);
  } else {
    const id = input.id ?? randomSessionId();
    const group = input.group ?? randomGroupId();
    const base = ctx.publicUrl();
    const checkoutCancelUrl = input.checkoutToken ? ctx.checkoutCancelUrl?.(input.checkoutToken) : undefined;
    if (input.checkoutToken && !checkoutCancelUrl) throw new Error(`No checkout ${input.checkoutToken}`);
    const defaultBody: PaymentSessionRequestBody = {
      id,
      gid: GID_PREFIX.payment + id,
      group,
      session_id: input.sessionId ?? randomGroupId(),
      amount: formatAmount(input.amount),
      currency: input.currency ?? 'USD',
      test: input.test ?? false,
      merchant_locale: input.merchantLocale ?? 'en',
      payment_method: {
        type: 'offsite',
        data: { cancel_url: checkoutCancelUrl ?? `${base}/checkouts/${encodeURIComponent(group)}/cancel` },
      },
      proposed_at: input.proposedAt ?? formatDateTime(ctx.now()),
      ...(input.customer === null ? {} : { customer: mergeCustomer(input.customer) }),
      kind: input.kind ?? 'sale',
    };
    body = applyBodyOverride(defaultBody, input.body);
    session = ctx.state.addPayment({
      shop,
      id,
      gid: defaultBody.gid,
      group,
      sessionId: defaultBody.session_id,
      kind: defaultBody.kind,
      amount: defaultBody.amount,
      currency: defaultBody.currency,
      test: defaultBody.test,
      customerEmail: defaultBody.customer?.email ?? null,
      checkoutToken: input.checkoutToken ?? null,
      orderEdit: input.orderEdit ? { title: input.orderEdit.title ?? 'Added after payment', amountCents: Math.round(Number(formatAmount(input.orderEdit.amount)) * 100) } : null,
      requestBody: body,
      createdAt: ctx.now().toISOString(),
      status: 'redirecting',
      rejection: null,
      pending: null,
      authorizationExpiresAt: null,
      networkTransactionId: null,
      finalizedAt: null,
      redirectUrl: null,
      answers: [],
    });
  }
  session.requestBody = body;
  return deliver(ctx, shop, 'payment', session, body, input);
}

export async function sendFollowUpSession(
  ctx: SessionRequestContext,
  kind: FollowUpKind,
  shop: string,
  input: FollowUpSessionInput,
): Promise<SentSession<FollowUpSessionRecord>> {
  const gidPrefix = GID_PREFIX[kind];
  const existing = input.id ? ctx.state.followUp(kind, shop, gidPrefix + input.id) : undefined;
  let session: FollowUpSessionRecord;
  let body: unknown;
  if (existing) {
    session = existing;
    body = input.body === undefined ? existing.requestBody : applyBodyOverride(existing.requestBody as FollowUpRequestBody, input.body);
  } else {
    // Shopify only sends these for payments it knows, but tests may point at any id on purpose.
    const payment = ctx.state.payment(shop, GID_PREFIX.payment + input.paymentId);
    const id = input.id ?? randomSessionId();
    const amount = kind === 'void' ? null : formatAmount(input.amount ?? payment?.amount ?? '0.00');
    const currency = input.currency ?? payment?.currency ?? 'USD';
    const test = input.test ?? payment?.test ?? false;
    const defaultBody: FollowUpRequestBody = {
      id,
      gid: gidPrefix + id,
      payment_id: input.paymentId,
      ...(amount === null ? {} : { amount, currency }),
      test,
      merchant_locale: input.merchantLocale ?? 'en',
      proposed_at: input.proposedAt ?? formatDateTime(ctx.now()),
    };
    body = applyBodyOverride(defaultBody, input.body);
    session = ctx.state.addFollowUp({
      kind,
      shop,
      id,
      gid: defaultBody.gid,
      paymentId: input.paymentId,
      amount,
      currency,
      test,
      requestBody: body,
      createdAt: ctx.now().toISOString(),
      status: 'requested',
      rejection: null,
      finalizedAt: null,
      answers: [],
    });
  }
  session.requestBody = body;
  return deliver(ctx, shop, kind, session, body, input);
}

function mergeCustomer(customer: Customer | undefined): Customer {
  if (!customer) return structuredClone(DEFAULT_CUSTOMER);
  return { ...structuredClone(DEFAULT_CUSTOMER), ...customer };
}

async function deliver<S extends PaymentSessionRecord | FollowUpSessionRecord, B>(
  ctx: SessionRequestContext,
  shop: string,
  kind: 'payment' | FollowUpKind,
  session: S,
  body: unknown,
  options: RequestOptions<B>,
): Promise<SentSession<S>> {
  const app = ctx.app();
  const url = `${(app.paymentsUrl ?? app.url).replace(/\/$/, '')}${PATHS[kind]}`;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const attempts = 1 + Math.max(0, options.retries ?? 0);
  let last: { response: OutgoingResponse; requestId: string } | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const requestId = randomUUID();
    const headers = buildHeaders(
      {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        'User-Agent': 'Shopify Payments Platform (simulator)',
        'Shopify-Shop-Domain': shop,
        'Shopify-Request-Id': requestId,
        'Shopify-Api-Version': options.apiVersion ?? ctx.apiVersion,
      },
      options.headers,
    );
    const response = await ctx.http.send({
      url,
      headers,
      body: text,
      timeoutMs: options.timeoutMs ?? app.requestTimeoutMs ?? 10_000,
      clientTls: options.tls === false ? undefined : app.clientTls,
      ca: app.clientTls?.ca,
    });
    ctx.state.recordAnswer(session, {
      at: ctx.now().toISOString(),
      requestId,
      status: response.status,
      body: response.body,
      ...(response.error ? { error: response.error } : {}),
    });
    last = { response, requestId };
    if (response.status >= 200 && response.status < 300) break;
  }
  const { response, requestId } = last!;
  return {
    session,
    status: response.status,
    body: response.body,
    headers: response.headers,
    requestId,
    ...(response.error ? { error: response.error } : {}),
  };
}

function buildHeaders(defaults: Record<string, string>, overrides: Record<string, string | null> | undefined): Record<string, string> {
  const headers: Record<string, string> = { ...defaults };
  for (const [name, value] of Object.entries(overrides ?? {})) {
    for (const existing of Object.keys(headers)) {
      if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
    }
    if (value !== null) headers[name] = value;
  }
  return headers;
}
