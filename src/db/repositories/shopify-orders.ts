import { Prisma, type ShopifyOrder } from '@prisma/client';
import type { DbClient } from '../db-client';
import type { PaymentId, ShopId } from '../../lib/ids';
import { toSafeNumber } from '../../lib/money';
import { toRecord, type PaymentSessionRecord } from './payment-sessions';

/** A Shopify order linked to a payment (README "Orders"); money in integer minor units. */
export type ShopifyOrderRecord = Omit<ShopifyOrder, 'totalMinor' | 'otherPaymentsMinor' | 'hsaFsaMinor' | 'cardMinor' | 'shopId' | 'paymentSessionId'> & {
  shopId: ShopId;
  paymentSessionId: PaymentId;
  totalMinor: number;
  otherPaymentsMinor: number;
  hsaFsaMinor: number;
  cardMinor: number;
};

/** What order sync learned about an order, from Shopify and Flex. */
export interface OrderLinkFacts {
  shopId: ShopId;
  paymentSessionId: PaymentId;
  shopifyOrderId: string;
  name: string;
  test: boolean;
  currency: string;
  totalMinor: number;
  otherPaymentsMinor: number;
  orderCreatedAt: Date;
  linkedVia: 'payment_id' | 'checkout_token';
  source: string;
  flexCheckoutSessionId: string;
  hsaFsaMinor: number;
  cardMinor: number;
  lmnRequired: boolean | null;
  lineEligibility: Prisma.InputJsonValue | null;
  shopifyLines: Prisma.InputJsonValue;
  differences: Prisma.InputJsonValue[];
  annotation: Prisma.InputJsonValue;
  annotationDigest: string;
}

export type LinkResult =
  | { outcome: 'created' | 'updated'; record: ShopifyOrderRecord; differencesChanged: boolean }
  /** The payment is linked to another order, or the order to another payment: left as it was. */
  | { outcome: 'conflict'; existing: ShopifyOrderRecord | null };

export interface FlexPaymentIntentFacts {
  flexPaymentIntentId: string;
  cardType: string | null;
  status: string | null;
  amountMinor: number | null;
  amountReceivedMinor: number;
  amountCapturableMinor: number;
}

export class ShopifyOrderRepository {
  constructor(private readonly db: DbClient) {}

  async findById(id: string): Promise<ShopifyOrderRecord | null> {
    const row = await this.db.shopifyOrder.findUnique({ where: { id } });
    return row ? toOrderRecord(row) : null;
  }

  async findByShopifyOrderId(shopId: string, shopifyOrderId: string): Promise<ShopifyOrderRecord | null> {
    const row = await this.db.shopifyOrder.findUnique({ where: { shopId_shopifyOrderId: { shopId, shopifyOrderId } } });
    return row ? toOrderRecord(row) : null;
  }

  async findByPayment(paymentSessionId: PaymentId): Promise<ShopifyOrderRecord | null> {
    const row = await this.db.shopifyOrder.findUnique({ where: { paymentSessionId } });
    return row ? toOrderRecord(row) : null;
  }

  /**
   * Links the order to its payment, or brings the link up to date. A first link is inserted with ON
   * CONFLICT DO NOTHING, so two syncs of one order (orders/create and orders/paid arrive together)
   * make one row; what the write-back has done (annotatedAt, noteWrittenAt) is never reset here.
   */
  async link(facts: OrderLinkFacts, now: Date): Promise<LinkResult> {
    const flagged = facts.differences.length > 0;
    const values = {
      name: facts.name,
      test: facts.test,
      currency: facts.currency,
      totalMinor: BigInt(facts.totalMinor),
      otherPaymentsMinor: BigInt(facts.otherPaymentsMinor),
      orderCreatedAt: facts.orderCreatedAt,
      flexCheckoutSessionId: facts.flexCheckoutSessionId,
      hsaFsaMinor: BigInt(facts.hsaFsaMinor),
      cardMinor: BigInt(facts.cardMinor),
      lmnRequired: facts.lmnRequired,
      lineEligibility: facts.lineEligibility ?? Prisma.DbNull,
      shopifyLines: facts.shopifyLines,
      differences: facts.differences,
      annotation: facts.annotation,
      annotationDigest: facts.annotationDigest,
    };
    const { count } = await this.db.shopifyOrder.createMany({
      data: [
        {
          ...values,
          shopId: facts.shopId,
          paymentSessionId: facts.paymentSessionId,
          shopifyOrderId: facts.shopifyOrderId,
          linkedVia: facts.linkedVia,
          source: facts.source,
          flaggedAt: flagged ? now : null,
        },
      ],
      skipDuplicates: true,
    });
    // The row is locked before it is read: the write-back (markAnnotated) may commit in between, and
    // an update computed from an older read would set its annotatedAt back to null with no write-back
    // left to run (the same digest's job has run). The read after the lock sees that commit.
    if (count === 0) await this.db.$queryRaw`SELECT id FROM "ShopifyOrder" WHERE "paymentSessionId" = ${facts.paymentSessionId}::uuid FOR UPDATE`;
    const existing = await this.db.shopifyOrder.findUnique({ where: { paymentSessionId: facts.paymentSessionId } });
    if (count === 1 && existing) return { outcome: 'created', record: toOrderRecord(existing), differencesChanged: flagged };
    if (!existing || existing.shopifyOrderId !== facts.shopifyOrderId) {
      const other = await this.db.shopifyOrder.findUnique({ where: { shopId_shopifyOrderId: { shopId: facts.shopId, shopifyOrderId: facts.shopifyOrderId } } });
      return { outcome: 'conflict', existing: existing ? toOrderRecord(existing) : other ? toOrderRecord(other) : null };
    }
    const differencesChanged = JSON.stringify(existing.differences) !== JSON.stringify(facts.differences);
    const updated = await this.db.shopifyOrder.update({
      where: { id: existing.id },
      // New things to write make the order "not annotated" until the write-back of them is done.
      data: { ...values, flaggedAt: flagged ? (existing.flaggedAt ?? now) : null, annotatedAt: existing.annotationDigest === facts.annotationDigest ? existing.annotatedAt : null },
    });
    return { outcome: 'updated', record: toOrderRecord(updated), differencesChanged };
  }

  async saveIntents(shopId: ShopId, paymentSessionId: PaymentId, intents: FlexPaymentIntentFacts[]): Promise<void> {
    for (const intent of intents) {
      const values = {
        cardType: intent.cardType,
        status: intent.status,
        amountMinor: intent.amountMinor === null ? null : BigInt(intent.amountMinor),
        amountReceivedMinor: BigInt(intent.amountReceivedMinor),
        amountCapturableMinor: BigInt(intent.amountCapturableMinor),
      };
      await this.db.flexPaymentIntent.upsert({
        where: { shopId_flexPaymentIntentId: { shopId, flexPaymentIntentId: intent.flexPaymentIntentId } },
        create: { shopId, paymentSessionId, flexPaymentIntentId: intent.flexPaymentIntentId, ...values },
        update: values,
      });
    }
  }

  /** The write-back of `digest` is done; `noteWritten` when this run wrote the note. */
  async recordAnnotated(id: string, digest: string, now: Date, noteWritten: boolean): Promise<void> {
    await this.db.shopifyOrder.updateMany({
      where: { id, annotationDigest: digest },
      data: { annotatedAt: now, ...(noteWritten ? { noteWrittenAt: now } : {}) },
    });
  }

  async markNoteWritten(id: string, now: Date): Promise<void> {
    await this.db.shopifyOrder.updateMany({ where: { id, noteWrittenAt: null }, data: { noteWrittenAt: now } });
  }

  /**
   * Payments of the shop whose `cancel_url` carries one of these tokens as a path segment (today's
   * `/checkouts/cn/{token}` and the legacy `/{shop id}/checkouts/{token}`): the checkout-token join of
   * an order to its payment. The LIKE narrows, the caller checks the segment.
   */
  async paymentsByCheckoutToken(shopId: ShopId, tokens: string[], since: Date): Promise<PaymentSessionRecord[]> {
    const usable = tokens.filter((t) => /^[A-Za-z0-9_-]{8,}$/.test(t));
    if (usable.length === 0) return [];
    const rows = await this.db.paymentSession.findMany({
      where: { shopId, status: 'RESOLVED', createdAt: { gte: since }, OR: usable.map((token) => ({ cancelUrl: { contains: `/${token}` } })) },
      orderBy: { createdAt: 'desc' },
      take: 20,
    });
    return rows.map(toRecord);
  }

  /** Paid payments decided in the window that no order has been linked to yet, oldest first. */
  async paymentsAwaitingOrder(shopId: ShopId, decidedFrom: Date, decidedUntil: Date, limit: number): Promise<PaymentSessionRecord[]> {
    const rows = await this.db.paymentSession.findMany({
      where: { shopId, status: 'RESOLVED', decidedAt: { gte: decidedFrom, lte: decidedUntil }, shopifyOrder: { is: null } },
      orderBy: { decidedAt: 'asc' },
      take: limit,
    });
    return rows.map(toRecord);
  }

  /** Shops with such payments (the poller's work list). */
  async shopsAwaitingOrders(decidedFrom: Date, decidedUntil: Date, limit: number): Promise<ShopId[]> {
    const rows = await this.db.$queryRaw<Array<{ shopId: string }>>`
      SELECT DISTINCT p."shopId" FROM "PaymentSession" p
      JOIN "Shop" s ON s.id = p."shopId" AND s.status = 'ACTIVE'
      WHERE p.status = 'RESOLVED' AND p."decidedAt" >= ${decidedFrom} AND p."decidedAt" <= ${decidedUntil}
        AND NOT EXISTS (SELECT 1 FROM "ShopifyOrder" o WHERE o."paymentSessionId" = p.id)
      LIMIT ${limit}`;
    return rows.map((r) => r.shopId as ShopId);
  }

  /**
   * Takes the shop's turn to be polled: only one instance at a time, and not before `nextPollAt`
   * (moved forward by `leaseMs`, so another instance skips it). The state as claimed, or null.
   */
  async claimPoll(shopId: ShopId, now: Date, leaseMs: number): Promise<OrderSyncStateRecord | null> {
    await this.db.orderSyncState.createMany({ data: [{ shopId }], skipDuplicates: true });
    const rows = await this.db.$queryRaw<OrderSyncStateRecord[]>`
      UPDATE "OrderSyncState" SET "nextPollAt" = ${new Date(now.getTime() + leaseMs)}, "updatedAt" = ${now}
      WHERE "shopId" = ${shopId}::uuid AND ("nextPollAt" IS NULL OR "nextPollAt" <= ${now})
      RETURNING *`;
    return rows[0] ?? null;
  }

  /** Where the scan stands, and when to look again (`attempts` counts polls that found nothing new). */
  async savePoll(shopId: ShopId, state: { scanFrom: Date | null; scanCursor: string | null; nextPollAt: Date; pollAttempts: number }): Promise<void> {
    await this.db.orderSyncState.update({ where: { shopId }, data: state });
  }

  async syncState(shopId: ShopId): Promise<OrderSyncStateRecord | null> {
    return this.db.orderSyncState.findUnique({ where: { shopId } });
  }

  async setMetafieldDefinitionsVersion(shopId: ShopId, version: number): Promise<void> {
    await this.db.orderSyncState.upsert({ where: { shopId }, create: { shopId, metafieldDefinitionsVersion: version }, update: { metafieldDefinitionsVersion: version } });
  }

  /** Flagged orders first (newest flag first), then the most recent, for the settings page. */
  async listForShop(shopId: ShopId, limit: number): Promise<Array<ShopifyOrderRecord & { paymentShopifyId: string }>> {
    const rows = await this.db.shopifyOrder.findMany({
      where: { shopId },
      orderBy: [{ flaggedAt: { sort: 'desc', nulls: 'last' } }, { orderCreatedAt: 'desc' }],
      take: limit,
      include: { paymentSession: { select: { shopifyId: true } } },
    });
    return rows.map(({ paymentSession, ...row }) => ({ ...toOrderRecord(row), paymentShopifyId: paymentSession.shopifyId }));
  }

  countFlagged(shopId: ShopId): Promise<number> {
    return this.db.shopifyOrder.count({ where: { shopId, flaggedAt: { not: null } } });
  }
}

export type OrderSyncStateRecord = {
  shopId: string;
  nextPollAt: Date | null;
  pollAttempts: number;
  scanFrom: Date | null;
  scanCursor: string | null;
  metafieldDefinitionsVersion: number;
  updatedAt: Date;
};

export function toOrderRecord(row: ShopifyOrder): ShopifyOrderRecord {
  return {
    ...row,
    shopId: row.shopId as ShopId,
    paymentSessionId: row.paymentSessionId as PaymentId,
    totalMinor: toSafeNumber(row.totalMinor),
    otherPaymentsMinor: toSafeNumber(row.otherPaymentsMinor),
    hsaFsaMinor: toSafeNumber(row.hsaFsaMinor),
    cardMinor: toSafeNumber(row.cardMinor),
  };
}
