import type { Prisma } from '@prisma/client';
import type { Repositories } from '../../db/repositories';
import type { CatchAllCatalog } from '../../flex/catch-all-catalog';
import { FlexApiError, type FlexAccountClient, type FlexClient } from '../../flex/flex-client';
import { flexAcceptsCurrency } from '../../flex/flex-currency';
import type { FlexCheckoutSession } from '../../flex/flex-types';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { flexCheckoutSessionId, shopifySessionId } from '../../lib/ids';
import { parseDecimalAmount } from '../../lib/money';
import { sleep } from '../../lib/sleep';
import type { FlexConnectionWithSecrets } from '../../db/repositories/flex-connections';
import type { PaymentSessionRecord } from '../../db/repositories/payment-sessions';
import { describeZodError, invalidRequest, readShopifyHeaders, type RequestProblem } from '../shopify-session-request';
import { buyerDefaults, paymentRequestFingerprint, paymentSessionRequestSchema, type PaymentSessionRequest } from './payment-session-request';

export type CreatePaymentSessionResult =
  | { ok: true; redirectUrl: string; paymentSessionId: string; replayed: boolean }
  | { ok: false; problem: RequestProblem; paymentSessionId?: string };

export interface CreatePaymentSessionDeps {
  repos: Repositories;
  flex: FlexClient;
  catalog: CatchAllCatalog;
  clock: Clock;
  logger: Logger;
  appUrl: string;
  reconcileAfterMs: number;
  /** How long a concurrent duplicate waits for the first request to get Flex's answer. */
  waitForConcurrentMs?: number;
  checkoutLeaseMs?: number;
}

/**
 * Shopify asks us to start a payment: store it, create the Flex checkout session once, answer with
 * the URL to send the buyer to.
 *
 * The Shopify session id is the idempotency key end to end: a unique (shop, id) row, a lease so that
 * only one request talks to Flex, and an Idempotency-Key derived from the id on every Flex call.
 */
export class CreatePaymentSession {
  private readonly waitForConcurrentMs: number;
  private readonly checkoutLeaseMs: number;

  constructor(private readonly deps: CreatePaymentSessionDeps) {
    this.waitForConcurrentMs = deps.waitForConcurrentMs ?? 15_000;
    this.checkoutLeaseMs = deps.checkoutLeaseMs ?? 30_000;
  }

  async execute(headers: Record<string, string | string[] | undefined>, body: unknown): Promise<CreatePaymentSessionResult> {
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
    const found = await repos.flexConnections.findWithShop(shopDomain, request.test ? 'TEST' : 'LIVE');
    if (!found || found.shop.status !== 'ACTIVE') {
      return { ok: false, problem: { status: 404, code: 'unknown_shop', message: `Shop ${shopDomain} has not installed this app` } };
    }
    const { shop, connection } = found;
    if (!connection) {
      return {
        ok: false,
        problem: { status: 422, code: 'flex_not_connected', message: `Shop ${shopDomain} has no Flex ${request.test ? 'test' : 'live'} API key; connect Flex in the app settings` },
      };
    }

    const fingerprint = paymentRequestFingerprint(shopDomain, request);
    const { record, created } = await repos.payments.insertOrGet({
      shopId: shop.id,
      shopifyId: shopifySessionId(request.id),
      gid: request.gid,
      groupId: request.group,
      buyerSessionId: request.session_id ?? null,
      amountMinor: amount.minor,
      currency: request.currency,
      kind: request.kind === 'authorization' ? 'AUTHORIZATION' : 'SALE',
      test: request.test,
      cancelUrl: request.payment_method.data.cancel_url,
      merchantLocale: request.merchant_locale ?? null,
      proposedAt: request.proposed_at ? new Date(request.proposed_at) : null,
      customer: (request.customer ?? null) as Prisma.InputJsonValue | null,
      rawRequest: request as unknown as Prisma.InputJsonValue,
      requestFingerprint: fingerprint,
      apiVersion,
      shopifyRequestId: requestId,
      createdAt: this.deps.clock.now(),
    }, { type: 'shopify_session_received', detail: { amountMinor: amount.minor, currency: request.currency, kind: request.kind, test: request.test, shopifyRequestId: requestId } });
    if (!created && record.requestFingerprint !== fingerprint) {
      return {
        ok: false,
        paymentSessionId: record.id,
        problem: { status: 409, code: 'idempotency_conflict', message: `Payment session ${request.id} was already received with different details` },
      };
    }
    return this.redirectFor(record, request, shopDomain, connection, !created);
  }

  /** Returns the stored redirect, or creates the Flex checkout session if nobody else is doing so. */
  private async redirectFor(
    initial: PaymentSessionRecord,
    request: PaymentSessionRequest,
    shopDomain: string,
    connection: FlexConnectionWithSecrets,
    replayed: boolean,
  ): Promise<CreatePaymentSessionResult> {
    const { repos, clock } = this.deps;
    const deadline = Date.now() + this.waitForConcurrentMs;
    let record: PaymentSessionRecord | null = initial;
    let claimed: PaymentSessionRecord | null = null;
    while (!claimed) {
      if (!record) throw new Error(`payment session ${initial.id} disappeared`);
      if (record.flexRedirectUrl) return { ok: true, redirectUrl: record.flexRedirectUrl, paymentSessionId: record.id, replayed: true };
      if (record.status !== 'RECEIVED') {
        return { ok: false, paymentSessionId: record.id, problem: { status: 409, code: 'session_finalized', message: `Payment session ${record.shopifyId} is already ${record.status.toLowerCase()}` } };
      }
      const now = clock.now();
      claimed = await repos.payments.claimCheckoutCreation(record.id, now, new Date(now.getTime() + this.checkoutLeaseMs));
      if (claimed) break;
      if (Date.now() > deadline) {
        return { ok: false, paymentSessionId: record.id, problem: { status: 503, code: 'in_progress', message: 'This payment session is still being set up; retry shortly' } };
      }
      await sleep(25);
      record = await repos.payments.findById(record.id);
    }

    try {
      const checkout = await this.createCheckout(claimed, request, shopDomain, connection);
      const redirectUrl = checkout.redirect_url;
      if (!redirectUrl) throw new FlexApiError('unavailable', 'Flex created the checkout session without a redirect_url');
      const saved = await repos.payments.recordCheckoutCreated(
        claimed.id,
        flexCheckoutSessionId(checkout.checkout_session_id),
        redirectUrl,
        new Date(clock.now().getTime() + this.deps.reconcileAfterMs),
        { type: 'flex_checkout_created', detail: { flexCheckoutSessionId: checkout.checkout_session_id, amountTotal: checkout.amount_total ?? null } },
      );
      if (connection.keyRejectedAt) await repos.flexConnections.clearKeyRejected(connection.id);
      return { ok: true, redirectUrl, paymentSessionId: saved.id, replayed };
    } catch (error) {
      await repos.payments.releaseCheckoutLease(claimed.id);
      if (!(error instanceof FlexApiError)) throw error;
      await repos.payments.addEvent(claimed.id, 'flex_checkout_failed', { kind: error.kind, status: error.status ?? null, code: error.code ?? null, message: error.message });
      this.deps.logger.warn({ paymentSessionId: claimed.id, flexError: { kind: error.kind, status: error.status, code: error.code } }, 'could not create the Flex checkout session');
      if (error.kind === 'unauthorized') {
        await repos.flexConnections.markKeyRejected(connection.id, clock.now());
        return { ok: false, paymentSessionId: claimed.id, problem: { status: 502, code: 'flex_key_refused', message: 'Flex refused the shop’s API key; the merchant must reconnect Flex' } };
      }
      if (error.kind === 'unavailable') {
        return { ok: false, paymentSessionId: claimed.id, problem: { status: 503, code: 'flex_unavailable', message: 'Flex is unavailable; retry shortly' } };
      }
      return { ok: false, paymentSessionId: claimed.id, problem: { status: 502, code: 'flex_rejected', message: error.message } };
    }
  }

  private async createCheckout(
    record: PaymentSessionRecord,
    request: PaymentSessionRequest,
    shopDomain: string,
    connection: FlexConnectionWithSecrets,
  ): Promise<FlexCheckoutSession> {
    const flex = this.deps.flex.forKey(connection.apiKey);
    // A previous attempt may have reached Flex and then lost its answer (timeout, crash). Flex's
    // idempotency replay covers that, and so does looking the session up by our reference.
    if (record.checkoutAttempts > 1) {
      const earlier = await this.findEarlierCheckout(flex, record);
      if (earlier) return earlier;
    }
    const body = (priceId: string) => ({
      mode: 'payment' as const,
      line_items: [{ price: priceId, quantity: 1 }],
      success_url: `${this.deps.appUrl}/payments/return/${record.id}?checkout_session={CHECKOUT_SESSION_ID}`,
      cancel_url: `${this.deps.appUrl}/payments/cancel/${record.id}`,
      client_reference_id: record.shopifyId,
      // Flex documents only "automatic"; "manual" for Shopify authorizations is our assumption (README).
      capture_method: record.kind === 'AUTHORIZATION' ? ('manual' as const) : ('automatic' as const),
      defaults: buyerDefaults(request.customer),
      metadata: {
        shopify_shop_domain: shopDomain,
        shopify_payment_session_gid: record.gid,
        shopify_payment_session_id: record.shopifyId,
        shopify_payment_group: record.groupId,
        app_payment_session_id: record.id,
      },
    });
    const idempotencyKey = `shopify-payment-session:${shopDomain}:${record.shopifyId}`;
    const priceId = await this.deps.catalog.priceFor(connection, flex, shopDomain, record.amountMinor, record.currency);
    try {
      return await flex.createCheckoutSession(body(priceId), idempotencyKey);
    } catch (error) {
      // A price deleted in Flex: forget it and make a new one, once (as Flex's own plugin does).
      if (!(error instanceof FlexApiError) || error.code !== 'price_not_found') throw error;
      await this.deps.catalog.forgetPrice(connection, record.amountMinor, record.currency);
      const freshPrice = await this.deps.catalog.priceFor(connection, flex, shopDomain, record.amountMinor, record.currency);
      return flex.createCheckoutSession(body(freshPrice), `${idempotencyKey}:price-${freshPrice}`);
    }
  }

  private async findEarlierCheckout(flex: FlexAccountClient, record: PaymentSessionRecord): Promise<FlexCheckoutSession | undefined> {
    const sessions = await flex.listCheckoutSessionsByReference(record.shopifyId);
    return sessions.find((s) => s.metadata?.app_payment_session_id === record.id && s.status !== 'expired' && s.status !== 'canceled' && s.redirect_url);
  }
}
