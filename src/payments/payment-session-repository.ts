import type { DecisionSource, PaymentKind, PaymentSession, Prisma } from '@prisma/client';
import type { DbClient } from '../db/db-client';
import { isUniqueViolation } from '../db/db-client';
import { toSafeNumber } from '../lib/money';

export type { PaymentKind, PaymentStatus, DecisionSource } from '@prisma/client';

/** A Shopify payment session as the app keeps it; money in integer minor units. */
export type PaymentSessionRecord = Omit<PaymentSession, 'amountMinor'> & { amountMinor: number };

export interface NewPaymentSession {
  shopId: string;
  shopifyId: string;
  gid: string;
  groupId: string;
  buyerSessionId: string | null;
  amountMinor: number;
  currency: string;
  kind: PaymentKind;
  test: boolean;
  cancelUrl: string;
  merchantLocale: string | null;
  proposedAt: Date | null;
  customer: Prisma.InputJsonValue | null;
  rawRequest: Prisma.InputJsonValue;
  requestFingerprint: string;
  apiVersion: string;
  shopifyRequestId: string | null;
}

export type FinalDecision =
  | { status: 'RESOLVED'; authorizationExpiresAt: Date | null }
  | { status: 'REJECTED'; rejectionCode: string; rejectionMessage: string };

export class PaymentSessionRepository {
  constructor(private readonly db: DbClient) {}

  /** Inserts the session, or returns the one already stored under (shop, Shopify id). */
  async insertOrGet(input: NewPaymentSession): Promise<{ record: PaymentSessionRecord; created: boolean }> {
    try {
      const row = await this.db.paymentSession.create({
        data: {
          ...input,
          amountMinor: BigInt(input.amountMinor),
          customer: input.customer ?? undefined,
        },
      });
      return { record: toRecord(row), created: true };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const existing = await this.findByShopifyId(input.shopId, input.shopifyId);
      if (!existing) throw error;
      return { record: existing, created: false };
    }
  }

  async findById(id: string): Promise<PaymentSessionRecord | null> {
    if (!isUuid(id)) return null;
    const row = await this.db.paymentSession.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }

  async findByShopifyId(shopId: string, shopifyId: string): Promise<PaymentSessionRecord | null> {
    const row = await this.db.paymentSession.findUnique({ where: { shopId_shopifyId: { shopId, shopifyId } } });
    return row ? toRecord(row) : null;
  }

  async findByFlexCheckoutSession(shopId: string, flexCheckoutSessionId: string): Promise<PaymentSessionRecord | null> {
    const row = await this.db.paymentSession.findUnique({
      where: { shopId_flexCheckoutSessionId: { shopId, flexCheckoutSessionId } },
    });
    return row ? toRecord(row) : null;
  }

  /**
   * Takes the right to create the Flex checkout session for a while. Only one request holds it;
   * a request that finds it taken waits for the holder's result instead of calling Flex too.
   */
  async claimCheckoutCreation(id: string, now: Date, leaseUntil: Date): Promise<boolean> {
    const { count } = await this.db.paymentSession.updateMany({
      where: {
        id,
        flexRedirectUrl: null,
        OR: [{ checkoutLeaseUntil: null }, { checkoutLeaseUntil: { lt: now } }],
      },
      data: { checkoutLeaseUntil: leaseUntil, checkoutAttempts: { increment: 1 } },
    });
    return count === 1;
  }

  async releaseCheckoutLease(id: string): Promise<void> {
    await this.db.paymentSession.updateMany({ where: { id, flexRedirectUrl: null }, data: { checkoutLeaseUntil: null } });
  }

  async recordCheckoutCreated(id: string, flexCheckoutSessionId: string, redirectUrl: string, nextReconcileAt: Date): Promise<PaymentSessionRecord> {
    const row = await this.db.paymentSession.update({
      where: { id },
      data: {
        flexCheckoutSessionId,
        flexRedirectUrl: redirectUrl,
        checkoutLeaseUntil: null,
        status: 'CHECKOUT_CREATED',
        nextReconcileAt,
      },
    });
    return toRecord(row);
  }

  /**
   * Records a final decision, unless one was already made. The conditional update is what makes the
   * first of buyer return, webhook and reconciler win and the others change nothing.
   */
  async decideFinal(id: string, decision: FinalDecision, source: DecisionSource, now: Date, flexCheckoutSessionId?: string): Promise<boolean> {
    const { count } = await this.db.paymentSession.updateMany({
      where: { id, status: { in: ['RECEIVED', 'CHECKOUT_CREATED', 'PENDING'] } },
      data: {
        status: decision.status,
        decisionSource: source,
        decidedAt: now,
        nextReconcileAt: null,
        ...(decision.status === 'RESOLVED'
          ? { authorizationExpiresAt: decision.authorizationExpiresAt }
          : { rejectionCode: decision.rejectionCode, rejectionMessage: decision.rejectionMessage }),
        ...(flexCheckoutSessionId ? { flexCheckoutSessionId } : {}),
      },
    });
    return count === 1;
  }

  /** Marks the session pending (once); it stays open for a final decision. */
  async decidePending(id: string, pendingExpiresAt: Date, source: DecisionSource, now: Date, nextReconcileAt: Date): Promise<boolean> {
    const { count } = await this.db.paymentSession.updateMany({
      where: { id, status: 'CHECKOUT_CREATED' },
      data: { status: 'PENDING', pendingExpiresAt, decisionSource: source, decidedAt: now, nextReconcileAt },
    });
    return count === 1;
  }

  async recordShopifyState(id: string, shopifyState: string, nextActionUrl: string | null): Promise<void> {
    await this.db.paymentSession.update({
      where: { id },
      data: { shopifyState, ...(nextActionUrl ? { nextActionUrl } : {}) },
    });
  }

  async recordBuyerReturn(id: string, now: Date): Promise<void> {
    await this.db.paymentSession.updateMany({ where: { id, buyerReturnedAt: null }, data: { buyerReturnedAt: now } });
  }

  async recordBuyerCancel(id: string, now: Date): Promise<void> {
    await this.db.paymentSession.update({ where: { id }, data: { buyerCanceledAt: now } });
  }

  /**
   * Claims sessions due for a status check with Flex, pushing their next check out by `leaseMs`
   * so that other instances skip them meanwhile.
   */
  async claimDueForReconciliation(now: Date, limit: number, leaseMs: number): Promise<PaymentSessionRecord[]> {
    const rows = await this.db.$queryRaw<PaymentSession[]>`
      UPDATE "PaymentSession" SET "nextReconcileAt" = ${new Date(now.getTime() + leaseMs)},
        "reconcileAttempts" = "reconcileAttempts" + 1, "updatedAt" = ${now}
      WHERE id IN (
        SELECT id FROM "PaymentSession"
        WHERE "nextReconcileAt" <= ${now} AND status IN ('CHECKOUT_CREATED', 'PENDING')
        ORDER BY "nextReconcileAt"
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING *`;
    return rows.map(toRecord);
  }

  async scheduleReconciliation(id: string, at: Date | null): Promise<void> {
    await this.db.paymentSession.updateMany({
      where: { id, status: { in: ['CHECKOUT_CREATED', 'PENDING'] } },
      data: { nextReconcileAt: at },
    });
  }

  async addEvent(paymentSessionId: string, type: string, detail?: Prisma.InputJsonValue): Promise<void> {
    await this.db.paymentEvent.create({ data: { paymentSessionId, type, detail } });
  }

  async listEvents(paymentSessionId: string): Promise<Array<{ type: string; detail: Prisma.JsonValue; createdAt: Date }>> {
    return this.db.paymentEvent.findMany({
      where: { paymentSessionId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { type: true, detail: true, createdAt: true },
    });
  }

  async listRecentForShop(shopId: string, limit: number): Promise<PaymentSessionRecord[]> {
    const rows = await this.db.paymentSession.findMany({ where: { shopId }, orderBy: { createdAt: 'desc' }, take: limit });
    return rows.map(toRecord);
  }
}

export function toRecord(row: PaymentSession): PaymentSessionRecord {
  return { ...row, amountMinor: toSafeNumber(row.amountMinor) };
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
