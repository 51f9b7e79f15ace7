import type { Prisma, ShopifyOrderRefund } from '@prisma/client';
import { randomUUID } from 'node:crypto';
import type { PaymentId, ShopId } from '../../lib/ids';
import { toSafeNumber } from '../../lib/money';
import type { DbClient } from '../db-client';

/** One line of a Shopify order refund: the variant, how many units, and the money Shopify gave back for them. */
export interface OrderRefundLine {
  variantId: string | null;
  quantity: number;
  subtotalMinor: number;
  taxMinor: number;
}

export interface NewOrderRefund {
  shopId: ShopId;
  shopifyRefundId: string;
  shopifyOrderId: string;
  paymentSessionId: PaymentId | null;
  amountMinor: number;
  currency: string;
  lines: OrderRefundLine[];
  shippingMinor: number;
  receivedAt: Date;
}

export type OrderRefundRecord = Omit<ShopifyOrderRefund, 'amountMinor' | 'shippingMinor' | 'lines'> & {
  amountMinor: number;
  shippingMinor: number;
  lines: OrderRefundLine[];
};

export class OrderRefundRepository {
  constructor(private readonly db: DbClient) {}

  /** Keeps the order refund once (a redelivered webhook changes nothing). True when new. */
  async record(input: NewOrderRefund): Promise<boolean> {
    const inserted = await this.db.$executeRaw`
      INSERT INTO "ShopifyOrderRefund" (id, "shopId", "shopifyRefundId", "shopifyOrderId", "paymentSessionId", "amountMinor", currency, lines, "shippingMinor", "receivedAt")
      VALUES (${randomUUID()}::uuid, ${input.shopId}::uuid, ${input.shopifyRefundId}, ${input.shopifyOrderId}, ${input.paymentSessionId}::uuid, ${input.amountMinor},
        ${input.currency}, ${JSON.stringify(input.lines)}::jsonb, ${input.shippingMinor}, ${input.receivedAt})
      ON CONFLICT ("shopId", "shopifyRefundId") DO NOTHING`;
    return inserted > 0;
  }

  /**
   * Joins a refund session to the oldest order refund of its payment with its amount that no other
   * refund session took: SKIP LOCKED and the unique refundSessionId make two sessions never take the
   * same one. Null when there is none (yet).
   */
  async claim(paymentSessionId: PaymentId, refundSessionId: string, amountMinor: number): Promise<OrderRefundRecord | null> {
    const rows = await this.db.$queryRaw<ShopifyOrderRefund[]>`
      UPDATE "ShopifyOrderRefund" SET "refundSessionId" = ${refundSessionId}::uuid
      WHERE id = (
        SELECT id FROM "ShopifyOrderRefund"
        WHERE "paymentSessionId" = ${paymentSessionId}::uuid AND "refundSessionId" IS NULL AND "amountMinor" = ${amountMinor}
        ORDER BY "receivedAt" LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING *`;
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async findForRefundSession(refundSessionId: string): Promise<OrderRefundRecord | null> {
    const row = await this.db.shopifyOrderRefund.findUnique({ where: { refundSessionId } });
    return row ? toRecord(row) : null;
  }
}

function toRecord(row: ShopifyOrderRefund): OrderRefundRecord {
  return { ...row, amountMinor: toSafeNumber(row.amountMinor), shippingMinor: toSafeNumber(row.shippingMinor), lines: row.lines as Prisma.JsonValue as unknown as OrderRefundLine[] };
}
