import { Prisma } from '@prisma/client';
import type { FlexRefund, RefundSession } from '@prisma/client';
import type { DbClient } from '../db-client';
import type { PaymentId, ShopId } from '../../lib/ids';
import { toSafeNumber } from '../../lib/money';
import { OperationSessionRepository, type NewOperationSession, type SessionTable } from './operation-sessions';

export type { RefundStatus } from '@prisma/client';

/** A Shopify refund session as the app keeps it; money in integer minor units. */
export type RefundSessionRecord = Omit<RefundSession, 'amountMinor' | 'paymentSessionId' | 'shopId'> & { amountMinor: number; paymentSessionId: PaymentId; shopId: ShopId };
export type FlexRefundRecord = Omit<FlexRefund, 'amountMinor'> & { amountMinor: number | null };

export type NewRefundSession = NewOperationSession & { amountMinor: number; currency: string };

/** Flex refund statuses that never change again. */
export const FINAL_FLEX_REFUND_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'canceled']);

export class RefundSessionRepository extends OperationSessionRepository<RefundSession, RefundSessionRecord> {
  constructor(private readonly db: DbClient) {
    super(db.refundSession as unknown as SessionTable<RefundSession>, toRecord);
  }

  insertIfNew(input: NewRefundSession): Promise<boolean> {
    return this.insert({ ...input, amountMinor: BigInt(input.amountMinor) });
  }

  /** RECEIVED → PENDING once Flex has the refund; false if it moved on already. */
  /** Records how the refund goes to Flex, once: a second decision (a concurrent run) changes nothing. */
  async decideLines(id: string, breakdown: Prisma.InputJsonValue | null, reason: string | null, now: Date): Promise<boolean> {
    const { count } = await this.db.refundSession.updateMany({
      where: { id, linesDecidedAt: null },
      data: { lineBreakdown: breakdown ?? Prisma.DbNull, linesReason: reason, linesDecidedAt: now },
    });
    return count === 1;
  }

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
  return { ...row, amountMinor: toSafeNumber(row.amountMinor), paymentSessionId: row.paymentSessionId as PaymentId, shopId: row.shopId as ShopId };
}
