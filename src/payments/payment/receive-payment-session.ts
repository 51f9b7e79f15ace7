import type { Prisma } from '@prisma/client';
import type { Repositories } from '../../db/repositories';
import { flexAcceptsCurrency } from '../../flex/flex-currency';
import { checkoutTokenOf } from '../../cart/checkout-tokens';
import type { Clock } from '../../lib/clock';
import { shopifySessionId, type PaymentId } from '../../lib/ids';
import { parseDecimalAmount } from '../../lib/money';
import { describeZodError, invalidRequest, readShopifyHeaders, type RequestProblem } from '../shopify-session-request';
import { paymentRequestFingerprint, paymentSessionRequestSchema } from './payment-session-request';

export type ReceivePaymentSessionResult =
  | { ok: true; redirectUrl: string; paymentSessionId: PaymentId; replayed: boolean }
  | { ok: false; problem: RequestProblem; paymentSessionId?: PaymentId };

/**
 * Shopify asks us to start a payment (reference §3.2): store it once under (shop, Shopify session
 * id) and answer at once with our own pay page, `{APP_URL}/pay/{id}`. Nothing is asked of Flex while
 * Shopify waits (its time limit for this answer is not published): the Flex checkout is made when
 * the buyer lands on the pay page (pay-step.ts), with the cart captured by then.
 *
 * A repeat of the request, even a concurrent one, finds the stored row and gets the same answer; the
 * same id with other details is a conflict.
 */
export class ReceivePaymentSession {
  constructor(private readonly deps: { repos: Repositories; appUrl: string; clock: Clock }) {}

  async execute(headers: Record<string, string | string[] | undefined>, body: unknown): Promise<ReceivePaymentSessionResult> {
    const headerCheck = readShopifyHeaders(headers);
    if (!headerCheck.ok) return { ok: false, problem: headerCheck.problem };
    const { shopDomain, requestId, apiVersion } = headerCheck.value;

    const parsed = paymentSessionRequestSchema.safeParse(body);
    if (!parsed.success) return { ok: false, problem: invalidRequest(describeZodError(parsed.error)) };
    const request = parsed.data;

    if (!flexAcceptsCurrency(request.currency)) {
      return { ok: false, problem: { status: 422, code: 'unsupported_currency', message: `Flex accepts USD only; this session is in ${request.currency}` } };
    }
    const amount = parseDecimalAmount(request.amount, request.currency);
    if (!amount.ok) return { ok: false, problem: invalidRequest([`amount: ${amount.reason}`]) };
    if (amount.minor <= 0) return { ok: false, problem: invalidRequest(['amount: must be greater than zero']) };

    const { repos } = this.deps;
    const fingerprint = paymentRequestFingerprint(shopDomain, request);
    const session = {
      shopifyId: shopifySessionId(request.id),
      gid: request.gid,
      groupId: request.group,
      buyerSessionId: request.session_id ?? null,
      amountMinor: amount.minor,
      currency: request.currency,
      kind: request.kind === 'authorization' ? ('AUTHORIZATION' as const) : ('SALE' as const),
      test: request.test,
      cancelUrl: request.payment_method.data.cancel_url,
      checkoutToken: checkoutTokenOf(request.payment_method.data.cancel_url),
      merchantLocale: request.merchant_locale ?? null,
      proposedAt: request.proposed_at ? new Date(request.proposed_at) : null,
      customer: (request.customer ?? null) as Prisma.InputJsonValue | null,
      rawRequest: request as Prisma.InputJsonValue,
      requestFingerprint: fingerprint,
      apiVersion,
      shopifyRequestId: requestId,
      createdAt: this.deps.clock.now(),
    };
    const event = { type: 'shopify_session_received', detail: { amountMinor: amount.minor, currency: request.currency, kind: request.kind, test: request.test, shopifyRequestId: requestId } };

    // The common case, a new session for a shop that takes Flex payments, is one statement; the
    // shop is read only when nothing was stored, to say why or to find the session already stored.
    // The shop's Flex keys are not opened here (the pay page opens them): a key sealed with an
    // encryption key that is no longer configured fails there, not here.
    const inserted = await repos.payments.insertForConnectedShop(shopDomain, session, event);
    if (inserted) return { ok: true, redirectUrl: payPageUrl(this.deps.appUrl, inserted.id), paymentSessionId: inserted.id, replayed: false };

    const found = await repos.flexConnections.findWithShop(shopDomain, request.test ? 'TEST' : 'LIVE');
    if (!found || found.shop.status !== 'ACTIVE') {
      return { ok: false, problem: { status: 404, code: 'unknown_shop', message: `Shop ${shopDomain} has not installed this app` } };
    }
    if (!found.connection) {
      return {
        ok: false,
        problem: { status: 422, code: 'flex_not_connected', message: `Shop ${shopDomain} has no Flex ${request.test ? 'test' : 'live'} API key; connect Flex in the app settings` },
      };
    }
    // A repeat of the request: the stored session. Or none (Flex was connected a moment ago): stored now.
    const stored = await repos.payments.findByShopifyId(found.shop.id, session.shopifyId);
    const { record, created } = stored ? { record: stored, created: false } : await repos.payments.insertOrGet({ ...session, shopId: found.shop.id }, event);
    if (!created && record.requestFingerprint !== fingerprint) {
      return {
        ok: false,
        paymentSessionId: record.id,
        problem: { status: 409, code: 'idempotency_conflict', message: `Payment session ${request.id} was already received with different details` },
      };
    }
    return { ok: true, redirectUrl: payPageUrl(this.deps.appUrl, record.id), paymentSessionId: record.id, replayed: !created };
  }
}

/** Where Shopify sends the buyer: our pay page, which makes the Flex checkout and sends them on. */
export function payPageUrl(appUrl: string, paymentId: PaymentId): string {
  return `${appUrl}/pay/${paymentId}`;
}
