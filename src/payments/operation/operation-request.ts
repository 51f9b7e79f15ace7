import { createHash } from 'node:crypto';
import type { Prisma } from '@prisma/client';
import { z } from 'zod';
import type { Repositories } from '../../db/repositories';
import type { PaymentSessionRecord } from '../../db/repositories/payment-sessions';
import type { ShopRecord } from '../../db/repositories/shops';
import { flexAcceptsCurrency } from '../../flex/flex-currency';
import { shopifySessionId, type ShopDomain, type ShopifySessionId } from '../../lib/ids';
import { parseDecimalAmount } from '../../lib/money';
import type { OperationKind } from '../report-to-shopify';
import { currencyCode, decimalAmount, describeZodError, invalidRequest, isoDateTime, readShopifyHeaders, type RequestProblem } from '../shopify-session-request';

/**
 * Refund, capture and void sessions ("operations" on a payment Shopify already has: reference
 * §3.3–3.5) share their headers, most of their body, and what is checked before anything is stored.
 * A parsed request is a union by kind: refunds and captures carry an amount, voids none.
 */

interface OperationRequestBase {
  shopDomain: ShopDomain;
  shopifyRequestId: string | null;
  apiVersion: string;
  id: string;
  gid: string;
  /** The payment this operation is about: Shopify's id of the payment session. */
  paymentId: ShopifySessionId;
  test: boolean;
  merchantLocale: string | null;
  proposedAt: Date | null;
  raw: Prisma.InputJsonValue;
  /** What makes two requests "the same": Shopify's retries repeat these exactly. */
  fingerprint: string;
}

export type RefundRequest = OperationRequestBase & { kind: 'refund'; amountMinor: number; currency: string };
export type CaptureRequest = OperationRequestBase & { kind: 'capture'; amountMinor: number; currency: string };
export type VoidRequest = OperationRequestBase & { kind: 'void' };
export type OperationRequest = RefundRequest | CaptureRequest | VoidRequest;
export type RequestOfKind<K extends OperationKind> = Extract<OperationRequest, { kind: K }>;

const GID_TYPE: Record<OperationKind, string> = { refund: 'RefundSession', capture: 'CaptureSession', void: 'VoidSession' };

const common = (kind: OperationKind) => ({
  id: z.string().min(1).max(255),
  gid: z.string().regex(new RegExp(`^gid://shopify/${GID_TYPE[kind]}/[^/]+$`), `must be gid://shopify/${GID_TYPE[kind]}/<id>`),
  payment_id: z.string().min(1).max(255),
  test: z.boolean(),
  merchant_locale: z.string().max(64).nullish(),
  proposed_at: isoDateTime.nullish(),
});

const gidEndsWithId = { message: 'gid must end with the session id', path: ['gid'] };
const withAmount = (kind: 'refund' | 'capture') =>
  z.looseObject({ ...common(kind), amount: decimalAmount, currency: currencyCode }).refine((b) => b.gid.endsWith(`/${b.id}`), gidEndsWithId);
const voidSchema = z.looseObject(common('void')).refine((b) => b.gid.endsWith(`/${b.id}`), gidEndsWithId);

export type ParsedOperation<K extends OperationKind> = { ok: true; value: RequestOfKind<K> } | { ok: false; problem: RequestProblem };

export function parseOperationRequest<K extends OperationKind>(kind: K, headers: Record<string, string | string[] | undefined>, body: unknown): ParsedOperation<K> {
  const headerCheck = readShopifyHeaders(headers);
  if (!headerCheck.ok) return headerCheck;
  const { shopDomain, requestId, apiVersion } = headerCheck.value;
  const parsed = (kind === 'void' ? voidSchema : withAmount(kind)).safeParse(body);
  if (!parsed.success) return { ok: false, problem: invalidRequest(describeZodError(parsed.error)) };
  const request = parsed.data;
  const base = {
    shopDomain,
    shopifyRequestId: requestId,
    apiVersion,
    id: request.id,
    gid: request.gid,
    paymentId: shopifySessionId(request.payment_id),
    test: request.test,
    merchantLocale: request.merchant_locale ?? null,
    proposedAt: request.proposed_at ? new Date(request.proposed_at) : null,
    raw: request as Prisma.InputJsonValue,
  };
  if (!('amount' in request)) {
    const fingerprint = fingerprintOf([kind, shopDomain, request.id, request.gid, request.payment_id, null, null, request.test]);
    return { ok: true, value: { ...base, kind: 'void', fingerprint } as RequestOfKind<K> };
  }
  const currency = request.currency as string;
  if (!flexAcceptsCurrency(currency)) {
    return { ok: false, problem: { status: 422, code: 'unsupported_currency', message: `Flex accepts USD only; this ${kind} is in ${currency}` } };
  }
  const amount = parseDecimalAmount(request.amount as string, currency);
  if (!amount.ok) return { ok: false, problem: invalidRequest([`amount: ${amount.reason}`]) };
  if (amount.minor <= 0) return { ok: false, problem: invalidRequest(['amount: must be greater than zero']) };
  const fingerprint = fingerprintOf([kind, shopDomain, request.id, request.gid, request.payment_id, amount.minor, currency, request.test]);
  return { ok: true, value: { ...base, kind, amountMinor: amount.minor, currency, fingerprint } as RequestOfKind<K> };
}

function fingerprintOf(essentials: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(essentials)).digest('hex');
}

/**
 * The shop and the payment an operation is about. A payment_id that is not one of this shop's
 * payments is refused (404), as is one whose mode or currency the request contradicts (422):
 * nothing is stored for either.
 */
export async function findOperationPayment(
  repos: Repositories,
  request: OperationRequest,
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
  if (request.kind !== 'void' && request.currency !== payment.currency) {
    return { ok: false, problem: { status: 422, code: 'currency_mismatch', message: `currency ${request.currency} differs from the payment's ${payment.currency}` } };
  }
  return { ok: true, shop, payment };
}
