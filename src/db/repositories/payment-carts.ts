import type { PaymentCartLine, PaymentCartSource } from '@prisma/client';
import type { PaymentId, ShopId } from '../../lib/ids';
import { toSafeNumber } from '../../lib/money';
import type { DbClient } from '../db-client';
import type { SqlRunner } from '../sql';

export interface PaymentCartLineInput {
  shopifyVariantId: string;
  shopifyProductId: string;
  title: string;
  quantity: number;
  unitAmountMinor: number;
  discountMinor: number;
  flexProductId: string;
  flexPriceId: string;
  eligibility: string | null;
}

/** What a payment's Flex checkout is made of, decided once before Flex is called. */
export type StoredPaymentCart =
  | {
      source: 'CART';
      snapshotId: string | null;
      lines: PaymentCartLineInput[];
      shippingMinor: number;
      taxMinor: number;
      /** Line discounts and the order's discount together. */
      discountMinor: number;
      adjustmentMinor: number;
    }
  | { source: 'CATCH_ALL'; reason: string };

export interface CartSourceCount {
  source: PaymentCartSource;
  reason: string | null;
  count: number;
}

export class PaymentCartRepository {
  constructor(
    private readonly db: DbClient,
    private readonly sql: SqlRunner,
  ) {}

  /**
   * Records the decision, with its lines and a timeline event, in one statement, fenced by the pay
   * page's lease: a holder whose lease ran out, or a second decision, changes nothing. True when recorded.
   */
  async record(id: PaymentId, leaseToken: string, cart: StoredPaymentCart, event: { type: string; detail: unknown }): Promise<boolean> {
    const lines = cart.source === 'CART' ? cart.lines.map((l, position) => ({ ...l, position })) : [];
    const cartOnly = <T>(pick: (c: Extract<StoredPaymentCart, { source: 'CART' }>) => T): T | null => (cart.source === 'CART' ? pick(cart) : null);
    const rows = await this.sql.query<{ n: number }>`
      WITH updated AS (
        UPDATE "PaymentSession" SET
          "cartSource" = ${cart.source}::"PaymentCartSource",
          "cartFallbackReason" = ${cart.source === 'CATCH_ALL' ? cart.reason : null},
          "cartSnapshotId" = ${cartOnly((c) => c.snapshotId)},
          "cartShippingMinor" = ${cartOnly((c) => c.shippingMinor)}, "cartTaxMinor" = ${cartOnly((c) => c.taxMinor)},
          "cartDiscountMinor" = ${cartOnly((c) => c.discountMinor)}, "cartAdjustmentMinor" = ${cartOnly((c) => c.adjustmentMinor)},
          "updatedAt" = now()
        WHERE id = ${id}::uuid AND "checkoutLeaseToken" = ${leaseToken} AND "cartSource" IS NULL AND status = 'RECEIVED'
        RETURNING id
      ), lines AS (
        INSERT INTO "PaymentCartLine" ("paymentSessionId", position, "shopifyVariantId", "shopifyProductId", title, quantity,
          "unitAmountMinor", "discountMinor", "flexProductId", "flexPriceId", eligibility)
        SELECT updated.id, l.position, l."shopifyVariantId", l."shopifyProductId", l.title, l.quantity,
          l."unitAmountMinor", l."discountMinor", l."flexProductId", l."flexPriceId", l.eligibility
        FROM updated, jsonb_to_recordset(${JSON.stringify(lines)}::jsonb) AS l(position int, "shopifyVariantId" text, "shopifyProductId" text,
          title text, quantity int, "unitAmountMinor" bigint, "discountMinor" bigint, "flexProductId" text, "flexPriceId" text, eligibility text)
      ), event AS (
        INSERT INTO "PaymentEvent" ("paymentSessionId", "type", "detail")
        SELECT id, ${event.type}, ${JSON.stringify(event.detail)}::jsonb FROM updated
      )
      SELECT count(*)::int AS n FROM updated`;
    return (rows[0]?.n ?? 0) > 0;
  }

  /**
   * Flex refused the checkout made of the cart: the payment goes to Flex as the catch-all line
   * instead, and its lines go (they describe the Flex checkout, which will not have them).
   */
  async fallBackToCatchAll(id: PaymentId, leaseToken: string, reason: string, event: { type: string; detail: unknown }): Promise<boolean> {
    const rows = await this.sql.query<{ n: number }>`
      WITH updated AS (
        UPDATE "PaymentSession" SET "cartSource" = 'CATCH_ALL', "cartFallbackReason" = ${reason},
          "cartShippingMinor" = NULL, "cartTaxMinor" = NULL, "cartDiscountMinor" = NULL, "cartAdjustmentMinor" = NULL, "updatedAt" = now()
        WHERE id = ${id}::uuid AND "checkoutLeaseToken" = ${leaseToken} AND "cartSource" = 'CART' AND status = 'RECEIVED'
        RETURNING id
      ), gone AS (
        DELETE FROM "PaymentCartLine" USING updated WHERE "PaymentCartLine"."paymentSessionId" = updated.id
      ), event AS (
        INSERT INTO "PaymentEvent" ("paymentSessionId", "type", "detail")
        SELECT id, ${event.type}, ${JSON.stringify(event.detail)}::jsonb FROM updated
      )
      SELECT count(*)::int AS n FROM updated`;
    return (rows[0]?.n ?? 0) > 0;
  }

  /** The decision recorded for a payment, or null before the pay page made one. */
  async find(id: PaymentId): Promise<StoredPaymentCart | null> {
    const payment = await this.db.paymentSession.findUnique({
      where: { id },
      select: {
        cartSource: true, cartFallbackReason: true, cartSnapshotId: true, cartShippingMinor: true, cartTaxMinor: true, cartDiscountMinor: true, cartAdjustmentMinor: true,
        cartLines: { orderBy: { position: 'asc' } },
      },
    });
    if (!payment?.cartSource) return null;
    if (payment.cartSource === 'CATCH_ALL') return { source: 'CATCH_ALL', reason: payment.cartFallbackReason ?? 'unknown' };
    return {
      source: 'CART',
      snapshotId: payment.cartSnapshotId,
      lines: payment.cartLines.map(toLine),
      shippingMinor: toSafeNumber(payment.cartShippingMinor ?? 0n),
      taxMinor: toSafeNumber(payment.cartTaxMinor ?? 0n),
      discountMinor: toSafeNumber(payment.cartDiscountMinor ?? 0n),
      adjustmentMinor: toSafeNumber(payment.cartAdjustmentMinor ?? 0n),
    };
  }

  /** How the shop's payments since `since` reached Flex: with the cart, or as the catch-all line and why. */
  async sourceCounts(shopId: ShopId, since: Date): Promise<CartSourceCount[]> {
    const rows = await this.db.paymentSession.groupBy({
      by: ['cartSource', 'cartFallbackReason'],
      where: { shopId, createdAt: { gte: since }, cartSource: { not: null } },
      _count: { _all: true },
    });
    return rows.map((r) => ({ source: r.cartSource!, reason: r.cartFallbackReason, count: r._count._all }));
  }
}

function toLine(row: PaymentCartLine): PaymentCartLineInput {
  return {
    shopifyVariantId: row.shopifyVariantId,
    shopifyProductId: row.shopifyProductId,
    title: row.title,
    quantity: row.quantity,
    unitAmountMinor: toSafeNumber(row.unitAmountMinor),
    discountMinor: toSafeNumber(row.discountMinor),
    flexProductId: row.flexProductId,
    flexPriceId: row.flexPriceId,
    eligibility: row.eligibility,
  };
}
