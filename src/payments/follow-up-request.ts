import { createHash } from 'node:crypto';
import type { Prisma } from '@prisma/client';
import { z } from 'zod';
import type { Repositories } from '../db/repositories';
import { parseDecimalAmount } from '../lib/money';
import type { ShopRecord } from '../shops/shop-repository';
import type { PaymentSessionRecord } from './payment-session-repository';
import { currencyCode, decimalAmount, describeZodError, invalidRequest, isoDateTime, readShopifyHeaders, type RequestProblem } from './shopify-request';

/**
 * Refund, capture and void sessions: Shopify's follow-ups to a payment (reference §3.3–3.5). They
 * share headers, most of the body, and what is checked before anything is stored; this is that part.
 */
export type FollowUpKind = 'refund' | 'capture' | 'void';

const GID_TYPE: Record<FollowUpKind, string> = { refund: 'RefundSession', capture: 'CaptureSession', void: 'VoidSession' };

const common = (kind: FollowUpKind) => ({
  id: z.string().min(1).max(255),
  gid: z.string().regex(new RegExp(`^gid://shopify/${GID_TYPE[kind]}/[^/]+$`), `must be gid://shopify/${GID_TYPE[kind]}/<id>`),
  payment_id: z.string().min(1).max(255),
  test: z.boolean(),
  merchant_locale: z.string().nullish(),
  proposed_at: isoDateTime.nullish(),
});

const gidEndsWithId = { message: 'gid must end with the session id', path: ['gid'] };

const withAmount = (kind: 'refund' | 'capture') =>
  z.looseObject({ ...common(kind), amount: decimalAmount, currency: currencyCode }).refine((b) => b.gid.endsWith(`/${b.id}`), gidEndsWithId);

const SCHEMAS = {
  refund: withAmount('refund'),
  capture: withAmount('capture'),
  void: z.looseObject(common('void')).refine((b) => b.gid.endsWith(`/${b.id}`), gidEndsWithId),
};

/** A follow-up request that passed validation, with its amount in minor units. */
export interface FollowUpRequest {
  kind: FollowUpKind;
  shopDomain: string;
  shopifyRequestId: string | null;
  apiVersion: string;
  id: string;
  gid: string;
  paymentId: string;
  /** Null for voids, which carry no amount. */
  amountMinor: number | null;
  currency: string | null;
  test: boolean;
  merchantLocale: string | null;
  proposedAt: Date | null;
  raw: Prisma.InputJsonValue;
  /** What makes two requests "the same": Shopify's retries repeat these exactly. */
  fingerprint: string;
}

/** Flex takes US dollars only. */
const FLEX_CURRENCIES = new Set(['USD']);

export function parseFollowUpRequest(
  kind: FollowUpKind,
  headers: Record<string, string | string[] | undefined>,
  body: unknown,
): { ok: true; value: FollowUpRequest } | { ok: false; problem: RequestProblem } {
  const headerCheck = readShopifyHeaders(headers);
  if (!headerCheck.ok) return headerCheck;
  const parsed = SCHEMAS[kind].safeParse(body);
  if (!parsed.success) return { ok: false, problem: invalidRequest(describeZodError(parsed.error)) };
  const request = parsed.data as z.infer<(typeof SCHEMAS)['refund']>;

  let amountMinor: number | null = null;
  let currency: string | null = null;
  if (kind !== 'void') {
    currency = request.currency;
    if (!FLEX_CURRENCIES.has(currency)) {
      return { ok: false, problem: { status: 422, code: 'unsupported_currency', message: `Flex accepts USD only; this ${kind} is in ${currency}` } };
    }
    const amount = parseDecimalAmount(request.amount, currency);
    if (!amount.ok) return { ok: false, problem: invalidRequest([`amount: ${amount.reason}`]) };
    if (amount.minor <= 0) return { ok: false, problem: invalidRequest(['amount: must be greater than zero']) };
    amountMinor = amount.minor;
  }

  const { shopDomain, requestId, apiVersion } = headerCheck.value;
  const essentials = [kind, shopDomain, request.id, request.gid, request.payment_id, amountMinor, currency, request.test];
  return {
    ok: true,
    value: {
      kind,
      shopDomain,
      shopifyRequestId: requestId,
      apiVersion,
      id: request.id,
      gid: request.gid,
      paymentId: request.payment_id,
      amountMinor,
      currency,
      test: request.test,
      merchantLocale: request.merchant_locale ?? null,
      proposedAt: request.proposed_at ? new Date(request.proposed_at) : null,
      raw: request as unknown as Prisma.InputJsonValue,
      fingerprint: createHash('sha256').update(JSON.stringify(essentials)).digest('hex'),
    },
  };
}

/**
 * The shop and the payment a follow-up is about. A payment_id that is not one of this shop's
 * payments is refused (404), as is one whose mode or currency the request contradicts (422):
 * nothing is stored for either.
 */
export async function findFollowUpPayment(
  repos: Repositories,
  request: FollowUpRequest,
): Promise<{ ok: true; shop: ShopRecord; payment: PaymentSessionRecord } | { ok: false; problem: RequestProblem }> {
  const shop = await repos.shops.findByDomain(request.shopDomain);
  if (!shop || shop.status !== 'ACTIVE') {
    return { ok: false, problem: { status: 404, code: 'unknown_shop', message: `Shop ${request.shopDomain} has not installed this app` } };
  }
  const payment = await repos.payments.findByShopifyId(shop.id, request.paymentId);
  if (!payment) {
    return { ok: false, problem: { status: 404, code: 'unknown_payment', message: `payment_id ${request.paymentId} is not a payment session of ${request.shopDomain}` } };
  }
  if (payment.test !== request.test) {
    return {
      ok: false,
      problem: { status: 422, code: 'test_mode_mismatch', message: `test is ${request.test} but payment ${request.paymentId} was a ${payment.test ? 'test' : 'live'} payment` },
    };
  }
  if (request.currency !== null && request.currency !== payment.currency) {
    return { ok: false, problem: { status: 422, code: 'currency_mismatch', message: `currency ${request.currency} differs from the payment's ${payment.currency}` } };
  }
  return { ok: true, shop, payment };
}

/** The answer to a request whose (shop, id) was stored before: the same 201, unless the details differ. */
export function replayOrConflict(kind: FollowUpKind, stored: { id: string; requestFingerprint: string }, request: FollowUpRequest): ReceiveFollowUpResult {
  if (stored.requestFingerprint !== request.fingerprint) {
    return {
      ok: false,
      sessionId: stored.id,
      problem: { status: 409, code: 'idempotency_conflict', message: `${capitalize(kind)} session ${request.id} was already received with different details` },
    };
  }
  return { ok: true, sessionId: stored.id, replayed: true };
}

export type ReceiveFollowUpResult =
  | { ok: true; sessionId: string; replayed: boolean; paymentSessionId?: string }
  | { ok: false; problem: RequestProblem; sessionId?: string; paymentSessionId?: string };

/** The row fields every follow-up stores from its request. */
export function storedRequestFields(request: FollowUpRequest, shopId: string, paymentSessionId: string) {
  return {
    shopId,
    paymentSessionId,
    shopifyId: request.id,
    gid: request.gid,
    test: request.test,
    merchantLocale: request.merchantLocale,
    proposedAt: request.proposedAt,
    rawRequest: request.raw,
    requestFingerprint: request.fingerprint,
    apiVersion: request.apiVersion,
    shopifyRequestId: request.shopifyRequestId,
  };
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
