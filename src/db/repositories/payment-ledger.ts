import type { DbClient } from '../db-client';
import { toSafeNumber } from '../../lib/money';
import type { PaymentSessionRecord } from './payment-sessions';

/**
 * What a payment holds after checkout: captured, refunded, voided. Read under `lock`, so refund,
 * capture and void requests for one payment are decided one at a time, each seeing the ones before
 * it, also when Shopify sends several at once or several app instances receive them.
 */
export interface PaymentBalance {
  /** Money taken: a sale's amount once resolved, an authorization's succeeded captures. */
  capturedMinor: number;
  /** Captures that were not refused: succeeded, or on their way to Flex. */
  captureCommittedMinor: number;
  /** A capture (not refused) that released the rest of the authorization. */
  finalCaptureTaken: boolean;
  /** Refunds pending or succeeded, or on their way to Flex. */
  refundCommittedMinor: number;
  refundedMinor: number;
  /** A void that was not refused. */
  voidCommitted: boolean;
}

/** What a shop still has going on in Flex, in one mode: things that need its Flex key to finish. */
export interface OpenMoney {
  /** Checkouts the buyer may still pay, or that Flex has not finished (pending). */
  payments: number;
  refunds: number;
  captures: number;
  voids: number;
  /** Authorizations neither captured nor voided yet: Shopify may still capture or void them. */
  authorizations: number;
}

export class PaymentLedger {
  constructor(private readonly db: DbClient) {}

  /** A Flex checkout session behind the shop's open money in one mode, if any (to test a new key against). */
  async checkoutOfOpenMoney(shopId: string, test: boolean): Promise<string | null> {
    const [row] = await this.db.$queryRaw<Array<{ id: string }>>`
      SELECT p."flexCheckoutSessionId" AS id FROM "PaymentSession" p
      WHERE p."shopId" = ${shopId}::uuid AND p.test = ${test} AND p."flexCheckoutSessionId" IS NOT NULL AND (
        p.status IN ('CHECKOUT_CREATED', 'PENDING')
        OR (p.status = 'RESOLVED' AND p.kind = 'AUTHORIZATION' AND (p."authorizationExpiresAt" IS NULL OR p."authorizationExpiresAt" > now())
            AND NOT EXISTS (SELECT 1 FROM "CaptureSession" c WHERE c."paymentSessionId" = p.id AND c.status IN ('RECEIVED', 'SUCCEEDED'))
            AND NOT EXISTS (SELECT 1 FROM "VoidSession" v WHERE v."paymentSessionId" = p.id AND v.status IN ('RECEIVED', 'SUCCEEDED')))
        OR EXISTS (SELECT 1 FROM "RefundSession" r WHERE r."paymentSessionId" = p.id AND r.status IN ('RECEIVED', 'PENDING'))
        OR EXISTS (SELECT 1 FROM "CaptureSession" c WHERE c."paymentSessionId" = p.id AND c.status = 'RECEIVED')
        OR EXISTS (SELECT 1 FROM "VoidSession" v WHERE v."paymentSessionId" = p.id AND v.status = 'RECEIVED'))
      ORDER BY p."createdAt" DESC
      LIMIT 1`;
    return row?.id ?? null;
  }

  async openMoneyOfShop(shopId: string, test: boolean): Promise<OpenMoney> {
    const [row] = await this.db.$queryRaw<Array<Record<keyof OpenMoney, bigint>>>`
      SELECT
        (SELECT count(*) FROM "PaymentSession" WHERE "shopId" = ${shopId}::uuid AND test = ${test} AND status IN ('RECEIVED', 'CHECKOUT_CREATED', 'PENDING')) AS payments,
        (SELECT count(*) FROM "RefundSession" WHERE "shopId" = ${shopId}::uuid AND test = ${test} AND status IN ('RECEIVED', 'PENDING')) AS refunds,
        (SELECT count(*) FROM "CaptureSession" WHERE "shopId" = ${shopId}::uuid AND test = ${test} AND status = 'RECEIVED') AS captures,
        (SELECT count(*) FROM "VoidSession" WHERE "shopId" = ${shopId}::uuid AND test = ${test} AND status = 'RECEIVED') AS voids,
        (SELECT count(*) FROM "PaymentSession" p WHERE p."shopId" = ${shopId}::uuid AND p.test = ${test} AND p.status = 'RESOLVED' AND p.kind = 'AUTHORIZATION'
           AND (p."authorizationExpiresAt" IS NULL OR p."authorizationExpiresAt" > now())
           AND NOT EXISTS (SELECT 1 FROM "CaptureSession" c WHERE c."paymentSessionId" = p.id AND c.status IN ('RECEIVED', 'SUCCEEDED'))
           AND NOT EXISTS (SELECT 1 FROM "VoidSession" v WHERE v."paymentSessionId" = p.id AND v.status IN ('RECEIVED', 'SUCCEEDED'))) AS authorizations`;
    return {
      payments: Number(row!.payments),
      refunds: Number(row!.refunds),
      captures: Number(row!.captures),
      voids: Number(row!.voids),
      authorizations: Number(row!.authorizations),
    };
  }

  /**
   * Row lock on the payment until the transaction ends. Must run inside a transaction; every
   * decision that spends the payment's money takes it first.
   */
  async lock(paymentSessionId: string): Promise<void> {
    await this.db.$queryRaw`SELECT id FROM "PaymentSession" WHERE id = ${paymentSessionId}::uuid FOR UPDATE`;
  }

  async balance(payment: PaymentSessionRecord): Promise<PaymentBalance> {
    const captures = await this.db.captureSession.groupBy({
      by: ['status', 'finalCapture'],
      where: { paymentSessionId: payment.id, status: { in: ['RECEIVED', 'SUCCEEDED'] } },
      _sum: { amountMinor: true },
    });
    let succeededCaptures = 0;
    let captureCommittedMinor = 0;
    let finalCaptureTaken = false;
    for (const g of captures) {
      const sum = toSafeNumber(g._sum.amountMinor ?? 0n);
      captureCommittedMinor += sum;
      if (g.status === 'SUCCEEDED') succeededCaptures += sum;
      if (g.finalCapture) finalCaptureTaken = true;
    }
    const refunds = await this.db.refundSession.groupBy({
      by: ['status'],
      where: { paymentSessionId: payment.id, status: { in: ['RECEIVED', 'PENDING', 'SUCCEEDED'] } },
      _sum: { amountMinor: true },
    });
    let refundCommittedMinor = 0;
    let refundedMinor = 0;
    for (const g of refunds) {
      const sum = toSafeNumber(g._sum.amountMinor ?? 0n);
      refundCommittedMinor += sum;
      if (g.status === 'SUCCEEDED') refundedMinor += sum;
    }
    const voids = await this.db.voidSession.count({ where: { paymentSessionId: payment.id, status: { in: ['RECEIVED', 'SUCCEEDED'] } } });

    const resolved = payment.status === 'RESOLVED';
    return {
      capturedMinor: !resolved ? 0 : payment.kind === 'SALE' ? payment.amountMinor : succeededCaptures,
      captureCommittedMinor,
      finalCaptureTaken,
      refundCommittedMinor,
      refundedMinor,
      voidCommitted: voids > 0,
    };
  }
}
