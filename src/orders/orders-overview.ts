import type { Transactor } from '../db/transactor';
import type { Clock } from '../lib/clock';
import type { ShopDomain } from '../lib/ids';
import { formatMoney } from '../lib/money';
import { describeDifference, type OrderDifference } from './order-differences';

export interface MissingOrderView {
  paymentShopifyId: string;
  amount: string;
  test: boolean;
  decidedAt: Date;
}

export interface OrderView {
  name: string;
  shopifyOrderId: string;
  paymentShopifyId: string;
  flexCheckoutSessionId: string | null;
  test: boolean;
  total: string;
  hsaFsa: string;
  card: string;
  lmnRequired: boolean | null;
  /** What differs, one sentence each; empty when nothing does. */
  differences: string[];
  annotated: boolean;
  linkedVia: string;
  source: string;
  orderCreatedAt: Date;
}

export interface OrdersOverview {
  /** Paid payments that no Shopify order has been found for after a while. */
  missing: MissingOrderView[];
  /** Recent orders, flagged ones first. */
  orders: OrderView[];
  flaggedCount: number;
}

/** The settings page's Orders card, for the signed-in shop only. */
export class LoadOrdersOverview {
  constructor(private readonly deps: { transactor: Transactor; clock: Clock; missingAfterMs: number; windowMs: number }) {}

  async execute(shopDomain: ShopDomain): Promise<OrdersOverview | null> {
    const { repos } = this.deps.transactor;
    const shop = await repos.shops.findByDomain(shopDomain);
    if (!shop) return null;
    const now = this.deps.clock.now().getTime();
    const missing = await repos.shopifyOrders.paymentsAwaitingOrder(shop.id, new Date(now - this.deps.windowMs), new Date(now - this.deps.missingAfterMs), 20);
    const orders = await repos.shopifyOrders.listForShop(shop.id, 20);
    return {
      missing: missing.map((p) => ({ paymentShopifyId: p.shopifyId, amount: formatMoney(p.amountMinor, p.currency), test: p.test, decidedAt: p.decidedAt! })),
      orders: orders.map((o) => ({
        name: o.name,
        shopifyOrderId: o.shopifyOrderId,
        paymentShopifyId: o.paymentShopifyId,
        flexCheckoutSessionId: o.flexCheckoutSessionId,
        test: o.test,
        total: formatMoney(o.totalMinor, o.currency),
        hsaFsa: formatMoney(o.hsaFsaMinor, o.currency),
        card: formatMoney(o.cardMinor, o.currency),
        lmnRequired: o.lmnRequired,
        differences: (Array.isArray(o.differences) ? (o.differences as unknown as OrderDifference[]) : []).map((d) => describeDifference(d, o.currency)),
        annotated: o.annotatedAt !== null && o.annotationDigest !== null,
        linkedVia: o.linkedVia,
        source: o.source,
        orderCreatedAt: o.orderCreatedAt,
      })),
      flaggedCount: await repos.shopifyOrders.countFlagged(shop.id),
    };
  }
}
