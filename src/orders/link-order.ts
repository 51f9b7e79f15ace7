import type { Prisma } from '@prisma/client';
import { z } from 'zod';
import type { JobRecord } from '../db/repositories/jobs';
import type { PaymentSessionRecord } from '../db/repositories/payment-sessions';
import type { FlexConnectionWithSecrets } from '../db/repositories/flex-connections';
import type { Transactor } from '../db/transactor';
import { FlexApiError, type FlexClient } from '../flex/flex-client';
import { lineItemProductId, type FlexCheckoutSession, type FlexLineItem, type FlexPaymentIntent } from '../flex/flex-types';
import type { Clock } from '../lib/clock';
import { shopifySessionId, type ShopId } from '../lib/ids';
import type { Logger } from '../lib/logger';
import { parseDecimalAmount } from '../lib/money';
import { defineJobType, enqueueJob } from '../outbox/job-type';
import type { JobHandler, JobResult } from '../outbox/outbox-worker';
import type { ShopifyAccessTokens } from '../shopify/access-tokens';
import { orderIdOf, type AdminOrder, type ShopifyOrdersApi } from '../shopify/admin-orders';
import { ANNOTATE_ORDER } from './annotate-order';
import { orderAnnotation } from './order-annotation';
import { NO_LINE_COMPARISON, orderDifferences, type FlexOrderLine, type LineComparison, type ShopifyOrderLine } from './order-differences';

/**
 * Order sync (README "Orders"): a Shopify order, from orders/create, orders/paid or the poller, is
 * joined to the payment it paid for, and so to its Flex checkout session and payment intents.
 *
 * The join: the order's transactions carry Shopify's payment session id as `paymentId` (reference
 * §6); failing that, the webhook's `checkout_token` or `cart_token` is looked for in the payment's
 * `cancel_url` (the buyer's checkout URL). Then Flex is asked what it took, on which card
 * (`GET /v1/payment_intents?checkout_session=`), what it was asked to charge (the checkout session)
 * and for which lines; the order is compared with it, and what is to be written on the order goes to
 * the write-back job (annotate-order.ts) in the same transaction.
 */
export const LINK_ORDER = defineJobType(
  'orders.link-order',
  z.object({
    shopId: z.string(),
    orderGid: z.string(),
    source: z.enum(['orders/create', 'orders/paid', 'poller']),
    checkoutToken: z.string().nullable().optional(),
    cartToken: z.string().nullable().optional(),
  }),
);
export type LinkOrderPayload = z.infer<typeof LINK_ORDER.payload>;

/** One job per order and source: orders/create and orders/paid (after a capture) each bring the order up to date. */
export function linkOrderDedupeKey(shopId: string, shopifyOrderId: string, source: LinkOrderPayload['source']): string {
  return `${LINK_ORDER.kind}:${shopId}:${shopifyOrderId}:${source}`;
}

/** How far back a checkout token is looked for among the shop's payments. */
const CHECKOUT_TOKEN_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

export interface LinkOrderDeps {
  transactor: Transactor;
  tokens: ShopifyAccessTokens;
  orders: ShopifyOrdersApi;
  flex: FlexClient;
  clock: Clock;
  logger: Logger;
  /** Compares the order's lines with those Flex was sent (compare-order-lines.ts); without it, lines are not compared. */
  compareLines?: LineComparison;
}

export class LinkOrderJob implements JobHandler<LinkOrderPayload> {
  readonly type = LINK_ORDER;

  constructor(private readonly deps: LinkOrderDeps) {}

  async handle(_job: JobRecord, payload: LinkOrderPayload): Promise<JobResult> {
    const { repos } = this.deps.transactor;
    const shop = await repos.shops.findById(payload.shopId);
    if (!shop || shop.status !== 'ACTIVE') return { status: 'succeeded', result: { skipped: 'the shop is not installed' } };
    const token = await this.deps.tokens.forShop(shop.domain);
    if (!token) return { status: 'retry', error: 'no Shopify access token stored for this shop' };

    const read = await this.deps.orders.order(shop.domain, token, payload.orderGid);
    if (read.kind !== 'data') return read.kind === 'retry' ? { status: 'retry', error: read.reason, retryAfterMs: read.retryAfterMs } : { status: 'failed', error: read.reason };
    const order = read.data;
    const shopifyOrderId = order ? orderIdOf(order.id) : null;
    if (!order || !shopifyOrderId) return { status: 'succeeded', result: { outcome: 'order_not_found' } };

    const found = await this.findPayment(shop.id, order, payload);
    if (!found) return { status: 'succeeded', result: { outcome: 'not_a_flex_payment' } };
    const { payment, via } = found;
    if (!payment.flexCheckoutSessionId) return { status: 'failed', error: `payment ${payment.shopifyId} was resolved without a Flex checkout session` };
    const connection = await repos.flexConnections.find(shop.id, payment.test ? 'TEST' : 'LIVE');
    if (!connection) return { status: 'retry', error: `no Flex ${payment.test ? 'test' : 'live'} key is connected to read the payment from` };

    let flexSide: FlexSide;
    try {
      flexSide = await this.readFlex(connection, payment.flexCheckoutSessionId);
    } catch (error) {
      if (!(error instanceof FlexApiError)) throw error;
      const retryable = error.kind === 'unavailable' || error.kind === 'unauthorized';
      return retryable ? { status: 'retry', error: error.message, retryAfterMs: error.retryAfterMs } : { status: 'failed', error: error.message };
    }
    const facts = await this.compare(order, shopifyOrderId, payment, via, payload.source, flexSide, connection);
    if ('problem' in facts) return { status: 'failed', error: facts.problem };

    const now = this.deps.clock.now();
    const outcome = await this.deps.transactor.run(async (tx) => {
      const linked = await tx.shopifyOrders.link(facts.link, now);
      if (linked.outcome === 'conflict') {
        await tx.payments.addEvent(payment.id, 'order_link_conflict', { order: order.name, shopifyOrderId, linkedOrder: linked.existing?.name ?? null });
        return 'conflict' as const;
      }
      await tx.shopifyOrders.saveIntents(shop.id, payment.id, flexSide.intents.map(intentFacts));
      if (linked.outcome === 'created') {
        await tx.payments.addEvent(payment.id, 'order_linked', { order: order.name, shopifyOrderId, via, source: payload.source });
      }
      if (linked.differencesChanged && facts.differenceCount > 0) {
        await tx.payments.addEvent(payment.id, 'order_mismatch_flagged', { order: order.name, differences: facts.differenceCount });
      }
      await enqueueJob(tx.jobs, ANNOTATE_ORDER, { shopId: shop.id, orderRowId: linked.record.id, digest: facts.link.annotationDigest }, {
        dedupeKey: `${ANNOTATE_ORDER.kind}:${linked.record.id}:${facts.link.annotationDigest}`,
        shopId: shop.id,
        subject: { type: 'payment_session', id: payment.id },
        runAt: now,
      });
      return linked.outcome;
    });
    this.deps.logger.info({ paymentSessionId: payment.id, order: order.name, via, outcome, differences: facts.differenceCount }, 'order linked to its Flex payment');
    return { status: 'succeeded', result: { outcome, order: order.name, via, differences: facts.differenceCount } };
  }

  /** By the transactions' payment id first (documented), then by the checkout's tokens in the payment's cancel_url. */
  private async findPayment(shopId: ShopId, order: AdminOrder, payload: LinkOrderPayload): Promise<{ payment: PaymentSessionRecord; via: 'payment_id' | 'checkout_token' } | null> {
    const { repos } = this.deps.transactor;
    for (const t of order.transactions) {
      if (!t.paymentId || !['SALE', 'AUTHORIZATION'].includes(t.kind)) continue;
      const payment = await repos.payments.findByShopifyId(shopId, shopifySessionId(t.paymentId));
      if (payment?.status === 'RESOLVED') return { payment, via: 'payment_id' };
    }
    const tokens = [payload.checkoutToken, payload.cartToken].filter((t): t is string => typeof t === 'string' && t !== '');
    if (tokens.length === 0) return null;
    const since = new Date(Date.parse(order.createdAt) - CHECKOUT_TOKEN_WINDOW_MS);
    const candidates = (await repos.shopifyOrders.paymentsByCheckoutToken(shopId, tokens, since)).filter((p) => tokens.some((t) => urlHasSegment(p.cancelUrl, t)));
    // A buyer who started over has several payments for one checkout; only one was paid.
    const paid = candidates.filter((p) => p.status === 'RESOLVED');
    return paid.length === 1 ? { payment: paid[0]!, via: 'checkout_token' } : null;
  }

  private async readFlex(connection: FlexConnectionWithSecrets, checkoutSessionId: string): Promise<FlexSide> {
    const flex = this.deps.flex.forKey(connection.apiKey);
    const [intents, checkout, lines] = await Promise.all([
      flex.listPaymentIntents(checkoutSessionId),
      flex.getCheckoutSession(checkoutSessionId),
      flex.listCheckoutLineItems(checkoutSessionId),
    ]);
    return { intents, checkout, lines };
  }

  private async compare(
    order: AdminOrder,
    shopifyOrderId: string,
    payment: PaymentSessionRecord,
    via: 'payment_id' | 'checkout_token',
    source: LinkOrderPayload['source'],
    flexSide: FlexSide,
    connection: FlexConnectionWithSecrets,
  ): Promise<{ link: Parameters<Transactor['repos']['shopifyOrders']['link']>[0]; differenceCount: number } | { problem: string }> {
    const currency = order.currencyCode;
    const amount = (text: string) => parseDecimalAmount(text, currency);
    const total = amount(order.totalPriceSet.shopMoney.amount);
    if (!total.ok) return { problem: `the order's total: ${total.reason}` };
    let otherPayments = 0;
    for (const t of order.transactions) {
      if (t.status !== 'SUCCESS' || !['SALE', 'AUTHORIZATION'].includes(t.kind) || t.paymentId === payment.shopifyId) continue;
      const paid = amount(t.amountSet.shopMoney.amount);
      if (paid.ok) otherPayments += paid.minor;
    }
    const shopifyLines: ShopifyOrderLine[] = order.lineItems.nodes.map((l) => {
      const original = amount(l.originalTotalSet.shopMoney.amount);
      let discounts = 0;
      for (const allocation of l.discountAllocations) {
        const allocated = amount(allocation.allocatedAmountSet.shopMoney.amount);
        if (allocated.ok) discounts += allocated.minor;
      }
      return { id: l.id, title: l.name, quantity: l.quantity, variantId: l.variant?.id ?? null, sku: l.sku ?? null, totalMinor: original.ok ? original.minor - discounts : 0 };
    });
    const flexLines: FlexOrderLine[] = flexSide.lines.map((l) => ({
      id: l.line_item_id ?? null,
      description: l.description ?? '',
      quantity: l.quantity ?? 1,
      totalMinor: l.amount_total ?? null,
      priceId: l.price?.price_id ?? null,
      productId: lineItemProductId(l) ?? null,
      eligibility: l.eligibility ?? null,
    }));
    const catchAll = flexSide.lines.length > 0 && flexSide.lines.every((l) => isCatchAllLine(l, connection));
    // What the app sent Flex, to tie Flex's prices to the order's variants (none for the catch-all line).
    const cart = catchAll ? null : await this.deps.transactor.repos.paymentCarts.find(payment.id);
    let hsaFsaMinor = 0;
    let cardMinor = 0;
    for (const pi of flexSide.intents) {
      const taken = (pi.amount_received ?? 0) + (pi.amount_capturable ?? 0);
      if (isHsaFsaCard(pi.payment_card_type)) hsaFsaMinor += taken;
      else cardMinor += taken;
    }
    const balance = await this.deps.transactor.repos.ledger.balance(payment);
    const expectedChargeMinor = payment.kind === 'SALE' ? payment.amountMinor : balance.capturedMinor > 0 ? balance.capturedMinor : balance.voidCommitted ? 0 : payment.amountMinor;
    const differences = orderDifferences(
      {
        orderTotalMinor: total.minor,
        otherPaymentsMinor: otherPayments,
        shopifyAmountMinor: payment.amountMinor,
        flexRequestedMinor: flexSide.checkout.amount_total ?? null,
        flexChargedMinor: hsaFsaMinor + cardMinor,
        expectedChargeMinor,
        catchAll,
        shopifyLines,
        shopifyLinesComplete: !order.lineItems.pageInfo.hasNextPage,
        flexLines,
        sentLines: cart?.source === 'CART' ? cart.lines : null,
      },
      this.deps.compareLines ?? NO_LINE_COMPARISON,
    );
    const lmnRequired = typeof flexSide.checkout.letter_of_medical_necessity_required === 'boolean' ? flexSide.checkout.letter_of_medical_necessity_required : null;
    const lineEligibility = catchAll ? null : flexLines;
    const annotation = orderAnnotation({
      orderGid: order.id,
      currency,
      flexCheckoutSessionId: payment.flexCheckoutSessionId!,
      hsaFsaMinor,
      cardMinor,
      lmnRequired,
      lineEligibility,
    });
    return {
      differenceCount: differences.length,
      link: {
        shopId: payment.shopId,
        paymentSessionId: payment.id,
        shopifyOrderId,
        name: order.name,
        test: order.test,
        currency,
        totalMinor: total.minor,
        otherPaymentsMinor: otherPayments,
        orderCreatedAt: new Date(order.createdAt),
        linkedVia: via,
        source,
        flexCheckoutSessionId: payment.flexCheckoutSessionId!,
        hsaFsaMinor,
        cardMinor,
        lmnRequired,
        lineEligibility: lineEligibility as unknown as Prisma.InputJsonValue | null,
        shopifyLines: shopifyLines as unknown as Prisma.InputJsonValue,
        differences: differences as unknown as Prisma.InputJsonValue[],
        annotation: { metafields: annotation.metafields, tags: annotation.tags, noteLine: annotation.noteLine } as unknown as Prisma.InputJsonValue,
        annotationDigest: annotation.digest,
      },
    };
  }
}

interface FlexSide {
  intents: FlexPaymentIntent[];
  checkout: FlexCheckoutSession;
  lines: FlexLineItem[];
}

/**
 * Flex's `payment_card_type` is not documented beyond "primary" appearing in examples: the app
 * takes "hsa_fsa" (and anything naming HSA or FSA) as the HSA/FSA card and every other value as a
 * regular card (README, assumptions about Flex).
 */
export function isHsaFsaCard(cardType: string | null | undefined): boolean {
  return typeof cardType === 'string' && /hsa|fsa/i.test(cardType);
}

/** The shop's catch-all product (catch-all-catalog.ts), by id or by what it was created with. */
function isCatchAllLine(line: FlexLineItem, connection: FlexConnectionWithSecrets): boolean {
  const productId = lineItemProductId(line);
  if (productId && productId === connection.catchAllProductId) return true;
  const product = line.price?.product;
  if (!product || typeof product === 'string') return false;
  const record = product as Record<string, unknown>;
  const metadata = record.metadata as Record<string, unknown> | undefined;
  return metadata?.purpose === 'catch-all' || (typeof record.client_reference_id === 'string' && record.client_reference_id.endsWith(':catch-all'));
}

function intentFacts(pi: FlexPaymentIntent) {
  return {
    flexPaymentIntentId: pi.payment_intent_id,
    cardType: pi.payment_card_type ?? null,
    status: pi.status ?? null,
    amountMinor: pi.amount ?? null,
    amountReceivedMinor: pi.amount_received ?? 0,
    amountCapturableMinor: pi.amount_capturable ?? 0,
  };
}

/** Whether `token` is a whole path segment of `url` (the checkout URL's token). */
function urlHasSegment(url: string, token: string): boolean {
  try {
    return new URL(url).pathname.split('/').includes(token);
  } catch {
    return false;
  }
}
