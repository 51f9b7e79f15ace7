import type { FlexRefund, Prisma, RefundSession } from '@prisma/client';
import type { DbClient } from '../../db/db-client';
import { toSafeNumber } from '../../lib/money';

export type { RefundStatus } from '@prisma/client';

/** A Shopify refund session as the app keeps it; money in integer minor units. */
export type RefundSessionRecord = Omit<RefundSession, 'amountMinor'> & { amountMinor: number };
export type FlexRefundRecord = Omit<FlexRefund, 'amountMinor'> & { amountMinor: number | null };

export interface NewRefundSession {
  shopId: string;
  paymentSessionId: string;
  shopifyId: string;
  gid: string;
  amountMinor: number;
  currency: string;
  test: boolean;
  merchantLocale: string | null;
  proposedAt: Date | null;
  rawRequest: Prisma.InputJsonValue;
  requestFingerprint: string;
  apiVersion: string;
  shopifyRequestId: string | null;
  status: 'RECEIVED' | 'REJECTED';
  rejectionCode?: string;
  rejectionMessage?: string;
  decidedAt?: Date;
}

/** Flex refund statuses that never change again. */
export const FINAL_FLEX_REFUND_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'canceled']);

export class RefundSessionRepository {
  constructor(private readonly db: DbClient) {}

  /**
   * Inserts the session unless (shop, Shopify id) is taken. ON CONFLICT DO NOTHING: safe inside a
   * transaction, where a unique violation would abort it.
   */
  async insertIfNew(input: NewRefundSession): Promise<boolean> {
    const { count } = await this.db.refundSession.createMany({
      data: [{ ...input, amountMinor: BigInt(input.amountMinor) }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  async findById(id: string): Promise<RefundSessionRecord | null> {
    if (!isUuid(id)) return null;
    const row = await this.db.refundSession.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }

  async findByShopifyId(shopId: string, shopifyId: string): Promise<RefundSessionRecord | null> {
    const row = await this.db.refundSession.findUnique({ where: { shopId_shopifyId: { shopId, shopifyId } } });
    return row ? toRecord(row) : null;
  }

  async listForPayment(paymentSessionId: string): Promise<RefundSessionRecord[]> {
    const rows = await this.db.refundSession.findMany({ where: { paymentSessionId }, orderBy: { createdAt: 'asc' } });
    return rows.map(toRecord);
  }

  /** RECEIVED → PENDING once Flex has the refund; false if it moved on already. */
  async markPending(id: string, nextPollAt: Date): Promise<boolean> {
    const { count } = await this.db.refundSession.updateMany({ where: { id, status: 'RECEIVED' }, data: { status: 'PENDING', nextPollAt } });
    return count === 1;
  }

  /**
   * A final outcome, once: only from a state that is not final yet, so webhook, poll and job can race.
   * REJECTED (Flex refused it outright) only before Flex is known to have the refund.
   */
  async decide(id: string, outcome: { status: 'SUCCEEDED' } | { status: 'FAILED' | 'REJECTED'; rejectionCode: string; rejectionMessage: string }, now: Date): Promise<boolean> {
    const { count } = await this.db.refundSession.updateMany({
      where: { id, status: { in: outcome.status === 'REJECTED' ? ['RECEIVED'] : ['RECEIVED', 'PENDING'] } },
      data: { ...outcome, decidedAt: now, nextPollAt: null },
    });
    return count === 1;
  }

  /** Stops polling a refund a person must look at (it stays PENDING and keeps holding its amount). */
  async stopPolling(id: string): Promise<void> {
    await this.db.refundSession.updateMany({ where: { id, status: 'PENDING' }, data: { nextPollAt: null } });
  }

  async schedulePoll(id: string, at: Date): Promise<void> {
    await this.db.refundSession.updateMany({ where: { id, status: 'PENDING' }, data: { nextPollAt: at } });
  }

  /**
   * Claims refunds pending at Flex that are due for a status check, pushing their next check out by
   * `leaseMs` so that other instances skip them meanwhile.
   */
  async claimDueForPolling(now: Date, limit: number, leaseMs: number): Promise<RefundSessionRecord[]> {
    const claimed = await this.db.$queryRaw<Array<{ id: string }>>`
      UPDATE "RefundSession" SET "nextPollAt" = ${new Date(now.getTime() + leaseMs)},
        "pollAttempts" = "pollAttempts" + 1, "updatedAt" = ${now}
      WHERE id IN (
        SELECT id FROM "RefundSession"
        WHERE status = 'PENDING' AND "nextPollAt" <= ${now}
        ORDER BY "nextPollAt"
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING id`;
    if (claimed.length === 0) return [];
    const rows = await this.db.refundSession.findMany({ where: { id: { in: claimed.map((c) => c.id) } } });
    return rows.map(toRecord);
  }

  async recordShopifyState(id: string, shopifyState: string): Promise<void> {
    await this.db.refundSession.updateMany({ where: { id }, data: { shopifyState } });
  }

  /**
   * Records Flex's refunds for a session: new ones are added, known ones take Flex's newer status
   * (a final status never changes again).
   */
  async recordFlexRefunds(refundSessionId: string, shopId: string, refunds: Array<{ flexRefundId: string; amountMinor: number | null; status: string }>): Promise<void> {
    if (refunds.length === 0) return;
    await this.db.flexRefund.createMany({
      data: refunds.map((r) => ({ refundSessionId, shopId, flexRefundId: r.flexRefundId, amountMinor: r.amountMinor === null ? null : BigInt(r.amountMinor), status: r.status })),
      skipDuplicates: true,
    });
    for (const r of refunds) {
      await this.db.flexRefund.updateMany({
        where: { shopId, flexRefundId: r.flexRefundId, refundSessionId, status: { notIn: [...FINAL_FLEX_REFUND_STATUSES, r.status] } },
        data: { status: r.status },
      });
    }
  }

  async listFlexRefunds(refundSessionId: string): Promise<FlexRefundRecord[]> {
    const rows = await this.db.flexRefund.findMany({ where: { refundSessionId }, orderBy: { createdAt: 'asc' } });
    return rows.map((r) => ({ ...r, amountMinor: r.amountMinor === null ? null : toSafeNumber(r.amountMinor) }));
  }

  async findByFlexRefund(shopId: string, flexRefundId: string): Promise<RefundSessionRecord | null> {
    const row = await this.db.flexRefund.findUnique({ where: { shopId_flexRefundId: { shopId, flexRefundId } }, include: { refundSession: true } });
    return row ? toRecord(row.refundSession) : null;
  }
}

function toRecord(row: RefundSession): RefundSessionRecord {
  return { ...row, amountMinor: toSafeNumber(row.amountMinor) };
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
