import { Prisma, type FlexMode } from '@prisma/client';
import type { DbClient } from '../db-client';
import type { ShopId } from '../../lib/ids';
import { toSafeNumber } from '../../lib/money';

/** A payout as stored, with where reading its balance transactions stands. */
export interface StoredPayout {
  id: string;
  flexPayoutId: string;
  status: string;
  complete: boolean;
  btCursor: string | null;
}

export interface PayoutFacts {
  flexPayoutId: string;
  status: string;
  amountMinor: number;
  currency: string;
  arrivalDate: Date;
  flexCreatedAt: Date;
}

export interface BalanceTransactionFacts {
  flexBalanceTransactionId: string;
  type: string;
  reportingCategory: string | null;
  amountMinor: number;
  feeMinor: number;
  netMinor: number;
  transactionFeeMinor: number;
  interchangeFeeMinor: number;
  lmnFeeMinor: number;
  disputeFeeMinor: number;
  cardType: string | null;
  checkoutSessionId: string | null;
  clientReferenceId: string | null;
  paymentIntentId: string | null;
  sourceId: string | null;
  currency: string;
  flexCreatedAt: Date;
}

export interface CursorRecord {
  shopId: string;
  mode: FlexMode;
  nextRunAt: Date | null;
  sweepAfter: string | null;
  doneBefore: Date | null;
  lastRunAt: Date | null;
  lastError: string | null;
}

/** One row of the report: what one payout took for one checkout session, with the Shopify side of it. */
export interface PayoutRow {
  /** Keyset position (payouts newest first). */
  key: RowKey;
  flexPayoutId: string;
  payoutStatus: string;
  payoutAmountMinor: number;
  arrivalDate: Date;
  currency: string;
  checkoutSessionId: string | null;
  clientReferenceId: string | null;
  chargedHsaFsaMinor: number;
  chargedCardMinor: number;
  refundedMinor: number;
  adjustmentsMinor: number;
  transactionFeeMinor: number;
  interchangeFeeMinor: number;
  lmnFeeMinor: number;
  disputeFeeMinor: number;
  netMinor: number;
  /** The payment of this shop and mode behind the checkout session, if any. */
  paymentShopifyId: string | null;
  paymentKind: 'SALE' | 'AUTHORIZATION' | null;
  paymentAmountMinor: number | null;
  capturedMinor: number;
  orderName: string | null;
  shopifyOrderId: string | null;
  orderTotalMinor: number | null;
  otherPaymentsMinor: number;
  /** Over every stored payout, for the checkout session: charges and refunds Flex made. */
  sessionChargedMinor: number;
  sessionFlexRefundedMinor: number;
  /** Refunds Shopify asked for and Flex confirmed (our refund sessions that succeeded). */
  shopifyRefundedMinor: number;
  lastShopifyRefundAt: Date | null;
}

export interface RowKey {
  arrivalDate: Date;
  payoutId: string;
  checkoutSessionId: string;
}

/** A linked order whose Flex charge is in none of the stored payouts. */
export interface UnpaidOrderRow {
  key: { orderCreatedAt: Date; id: string };
  orderName: string;
  shopifyOrderId: string;
  orderCreatedAt: Date;
  currency: string;
  orderTotalMinor: number;
  flexCheckoutSessionId: string | null;
  paymentShopifyId: string;
  expectedChargeMinor: number;
}

export interface PayoutSummary {
  flexPayoutId: string;
  status: string;
  amountMinor: number;
  currency: string;
  arrivalDate: Date;
  flexCreatedAt: Date;
  complete: boolean;
  transactions: number;
  /** Σ net of the payout's balance transactions other than the payout's own. */
  netMinor: number;
}

export interface DateRange {
  from: Date;
  /** Exclusive. */
  to: Date;
}

const modeSql = (mode: FlexMode) => Prisma.sql`${mode}::"FlexMode"`;

/** Flex payouts and balance transactions as read, and the per-order report built from them. */
export class ReconciliationRepository {
  constructor(private readonly db: DbClient) {}

  /** Connections whose turn has come (never read, or due): the periodic task's work list. */
  async dueConnections(now: Date, limit: number): Promise<Array<{ shopId: ShopId; mode: FlexMode }>> {
    const rows = await this.db.$queryRaw<Array<{ shopId: string; mode: FlexMode }>>`
      SELECT c."shopId", c.mode FROM "FlexConnection" c
      JOIN "Shop" s ON s.id = c."shopId" AND s.status = 'ACTIVE'
      LEFT JOIN "ReconciliationCursor" r ON r."shopId" = c."shopId" AND r.mode = c.mode
      WHERE r."nextRunAt" IS NULL OR r."nextRunAt" <= ${now}
      ORDER BY r."nextRunAt" NULLS FIRST
      LIMIT ${limit}`;
    return rows.map((r) => ({ shopId: r.shopId as ShopId, mode: r.mode }));
  }

  /** Takes the (shop, mode) for one run: moves its next run `leaseMs` ahead so other instances skip it. */
  async claimRun(shopId: ShopId, mode: FlexMode, now: Date, leaseMs: number): Promise<CursorRecord | null> {
    await this.db.reconciliationCursor.createMany({ data: [{ shopId, mode }], skipDuplicates: true });
    const rows = await this.db.$queryRaw<CursorRecord[]>`
      UPDATE "ReconciliationCursor" SET "nextRunAt" = ${new Date(now.getTime() + leaseMs)}, "updatedAt" = ${now}
      WHERE "shopId" = ${shopId}::uuid AND mode = ${modeSql(mode)} AND ("nextRunAt" IS NULL OR "nextRunAt" <= ${now})
      RETURNING *`;
    return rows[0] ?? null;
  }

  async saveCursor(shopId: ShopId, mode: FlexMode, data: Partial<Omit<CursorRecord, 'shopId' | 'mode'>>): Promise<void> {
    await this.db.reconciliationCursor.update({ where: { shopId_mode: { shopId, mode } }, data });
  }

  async cursor(shopId: ShopId, mode: FlexMode): Promise<CursorRecord | null> {
    return this.db.reconciliationCursor.findUnique({ where: { shopId_mode: { shopId, mode } } });
  }

  /** Stores a payout or brings its status up to date; what was read of its transactions stays. */
  async upsertPayout(shopId: ShopId, mode: FlexMode, payout: PayoutFacts): Promise<StoredPayout> {
    const row = await this.db.flexPayout.upsert({
      where: { shopId_mode_flexPayoutId: { shopId, mode, flexPayoutId: payout.flexPayoutId } },
      create: { shopId, mode, ...payout, amountMinor: BigInt(payout.amountMinor) },
      update: { status: payout.status, amountMinor: BigInt(payout.amountMinor), arrivalDate: payout.arrivalDate },
      select: { id: true, flexPayoutId: true, status: true, complete: true, btCursor: true },
    });
    return row;
  }

  /** One page of a payout's balance transactions and where reading stopped, together. */
  async saveBalanceTransactions(payout: StoredPayout, shopId: ShopId, mode: FlexMode, page: BalanceTransactionFacts[], progress: { btCursor: string | null; complete: boolean }): Promise<void> {
    if (page.length > 0) {
      const big = (n: number) => BigInt(n);
      await this.db.flexBalanceTransaction.createMany({
        data: page.map((bt) => ({
          ...bt,
          shopId,
          mode,
          payoutId: payout.id,
          amountMinor: big(bt.amountMinor),
          feeMinor: big(bt.feeMinor),
          netMinor: big(bt.netMinor),
          transactionFeeMinor: big(bt.transactionFeeMinor),
          interchangeFeeMinor: big(bt.interchangeFeeMinor),
          lmnFeeMinor: big(bt.lmnFeeMinor),
          disputeFeeMinor: big(bt.disputeFeeMinor),
        })),
        skipDuplicates: true,
      });
    }
    await this.db.flexPayout.update({ where: { id: payout.id }, data: progress });
  }

  /** The oldest stored payout not yet final (in transit, or not read to the end), and the newest stored. */
  async payoutBoundaries(shopId: ShopId, mode: FlexMode): Promise<{ oldestOpen: Date | null; newest: Date | null }> {
    const [row] = await this.db.$queryRaw<Array<{ oldestOpen: Date | null; newest: Date | null }>>`
      SELECT min("flexCreatedAt") FILTER (WHERE status <> 'paid' OR NOT complete) AS "oldestOpen", max("flexCreatedAt") AS newest
      FROM "FlexPayout" WHERE "shopId" = ${shopId}::uuid AND mode = ${modeSql(mode)}`;
    return { oldestOpen: row?.oldestOpen ?? null, newest: row?.newest ?? null };
  }

  /** Payouts arriving in the range, newest first, with what their balance transactions add up to. */
  async payoutSummaries(shopId: ShopId, mode: FlexMode, range: DateRange, limit: number): Promise<PayoutSummary[]> {
    const rows = await this.db.$queryRaw<Array<Omit<PayoutSummary, 'amountMinor' | 'netMinor' | 'transactions'> & { amountMinor: bigint; netMinor: bigint | null; transactions: bigint }>>`
      SELECT po."flexPayoutId", po.status, po."amountMinor", po.currency, po."arrivalDate", po."flexCreatedAt", po.complete,
        count(b.id) AS transactions, sum(b."netMinor") AS "netMinor"
      FROM "FlexPayout" po
      LEFT JOIN "FlexBalanceTransaction" b ON b."payoutId" = po.id AND b.type <> 'payout'
      WHERE po."shopId" = ${shopId}::uuid AND po.mode = ${modeSql(mode)} AND po."arrivalDate" >= ${range.from} AND po."arrivalDate" < ${range.to}
      GROUP BY po.id
      ORDER BY po."arrivalDate" DESC, po.id DESC
      LIMIT ${limit}`;
    return rows.map((r) => ({ ...r, amountMinor: toSafeNumber(r.amountMinor), netMinor: toSafeNumber(r.netMinor ?? 0n), transactions: Number(r.transactions) }));
  }

  /**
   * One batch of report rows (payouts arriving in the range, newest first; one row per payout and
   * checkout session), after `after`. Each row carries the Shopify side (payment, order, refunds,
   * captures) and the session's totals over every stored payout, for the flags.
   */
  async payoutRows(shopId: ShopId, mode: FlexMode, range: DateRange, options: { after?: RowKey; limit: number; flexPayoutIds?: string[] }): Promise<PayoutRow[]> {
    const test = mode === 'TEST';
    const after = options.after
      ? Prisma.sql`AND (po."arrivalDate", po.id::text, g.cs) < (${options.after.arrivalDate}, ${options.after.payoutId}, ${options.after.checkoutSessionId})`
      : Prisma.empty;
    const onlyPayouts = options.flexPayoutIds ? Prisma.sql`AND po."flexPayoutId" IN (${Prisma.join(options.flexPayoutIds.length ? options.flexPayoutIds : [''])})` : Prisma.empty;
    const rows = await this.db.$queryRaw<Array<Record<string, unknown>>>`
      WITH payouts AS (
        SELECT * FROM "FlexPayout" po
        WHERE po."shopId" = ${shopId}::uuid AND po.mode = ${modeSql(mode)} AND po."arrivalDate" >= ${range.from} AND po."arrivalDate" < ${range.to} ${onlyPayouts}
      ), g AS (
        SELECT b."payoutId", coalesce(b."checkoutSessionId", '') AS cs, max(b."clientReferenceId") AS "clientReferenceId",
          sum(CASE WHEN b.type = 'payment' AND b."cardType" = 'hsa_fsa' THEN b."amountMinor" ELSE 0 END) AS "chargedHsaFsaMinor",
          sum(CASE WHEN b.type = 'payment' AND coalesce(b."cardType", '') <> 'hsa_fsa' THEN b."amountMinor" ELSE 0 END) AS "chargedCardMinor",
          sum(CASE WHEN b.type = 'payment_refund' THEN -b."amountMinor" ELSE 0 END) AS "refundedMinor",
          sum(CASE WHEN b.type NOT IN ('payment', 'payment_refund') THEN b."amountMinor" ELSE 0 END) AS "adjustmentsMinor",
          sum(b."transactionFeeMinor") AS "transactionFeeMinor", sum(b."interchangeFeeMinor") AS "interchangeFeeMinor",
          sum(b."lmnFeeMinor") AS "lmnFeeMinor", sum(b."disputeFeeMinor") AS "disputeFeeMinor", sum(b."netMinor") AS "netMinor"
        FROM "FlexBalanceTransaction" b
        WHERE b."payoutId" IN (SELECT id FROM payouts) AND b.type <> 'payout'
        GROUP BY b."payoutId", coalesce(b."checkoutSessionId", '')
      )
      SELECT g.*, po.id::text AS "payoutRowId", po."flexPayoutId", po.status AS "payoutStatus", po."amountMinor" AS "payoutAmountMinor", po."arrivalDate", po.currency,
        p."shopifyId" AS "paymentShopifyId", p.kind::text AS "paymentKind", p."amountMinor" AS "paymentAmountMinor",
        o.name AS "orderName", o."shopifyOrderId", o."totalMinor" AS "orderTotalMinor", o."otherPaymentsMinor",
        (SELECT coalesce(sum(c."amountMinor"), 0) FROM "CaptureSession" c WHERE c."paymentSessionId" = p.id AND c.status = 'SUCCEEDED') AS "capturedMinor",
        (SELECT coalesce(sum(b2."amountMinor"), 0) FROM "FlexBalanceTransaction" b2
          WHERE b2."shopId" = ${shopId}::uuid AND b2.mode = ${modeSql(mode)} AND b2."checkoutSessionId" = g.cs AND b2.type = 'payment') AS "sessionChargedMinor",
        (SELECT coalesce(-sum(b2."amountMinor"), 0) FROM "FlexBalanceTransaction" b2
          WHERE b2."shopId" = ${shopId}::uuid AND b2.mode = ${modeSql(mode)} AND b2."checkoutSessionId" = g.cs AND b2.type = 'payment_refund') AS "sessionFlexRefundedMinor",
        (SELECT coalesce(sum(r."amountMinor"), 0) FROM "RefundSession" r WHERE r."paymentSessionId" = p.id AND r.status = 'SUCCEEDED') AS "shopifyRefundedMinor",
        (SELECT max(r."decidedAt") FROM "RefundSession" r WHERE r."paymentSessionId" = p.id AND r.status = 'SUCCEEDED') AS "lastShopifyRefundAt"
      FROM g
      JOIN payouts po ON po.id = g."payoutId"
      LEFT JOIN "PaymentSession" p ON g.cs <> '' AND p."shopId" = ${shopId}::uuid AND p.test = ${test} AND p."flexCheckoutSessionId" = g.cs
      LEFT JOIN "ShopifyOrder" o ON o."paymentSessionId" = p.id
      WHERE true ${after}
      ORDER BY po."arrivalDate" DESC, po.id::text DESC, g.cs DESC
      LIMIT ${options.limit}`;
    return rows.map(toPayoutRow);
  }

  /**
   * Linked orders paid by Flex (a sale, or a captured authorization), created in the range and before
   * `settledBefore`, whose charge is in no stored payout: by now Flex should have paid it out.
   */
  async unpaidOrders(shopId: ShopId, mode: FlexMode, range: DateRange, settledBefore: Date, options: { after?: UnpaidOrderRow['key']; limit: number }): Promise<UnpaidOrderRow[]> {
    const test = mode === 'TEST';
    const to = range.to < settledBefore ? range.to : settledBefore;
    const after = options.after ? Prisma.sql`AND (o."orderCreatedAt", o.id::text) < (${options.after.orderCreatedAt}, ${options.after.id})` : Prisma.empty;
    const rows = await this.db.$queryRaw<Array<Record<string, unknown>>>`
      SELECT o.id::text AS id, o.name AS "orderName", o."shopifyOrderId", o."orderCreatedAt", o.currency, o."totalMinor" AS "orderTotalMinor",
        o."flexCheckoutSessionId", p."shopifyId" AS "paymentShopifyId",
        CASE WHEN p.kind = 'SALE' THEN p."amountMinor"
          ELSE (SELECT coalesce(sum(c."amountMinor"), 0) FROM "CaptureSession" c WHERE c."paymentSessionId" = p.id AND c.status = 'SUCCEEDED') END AS "expectedChargeMinor"
      FROM "ShopifyOrder" o
      JOIN "PaymentSession" p ON p.id = o."paymentSessionId"
      WHERE o."shopId" = ${shopId}::uuid AND o.test = ${test} AND o."orderCreatedAt" >= ${range.from} AND o."orderCreatedAt" < ${to}
        AND (p.kind = 'SALE' OR EXISTS (SELECT 1 FROM "CaptureSession" c WHERE c."paymentSessionId" = p.id AND c.status = 'SUCCEEDED'))
        AND NOT EXISTS (SELECT 1 FROM "FlexBalanceTransaction" b
          WHERE b."shopId" = ${shopId}::uuid AND b.mode = ${modeSql(mode)} AND b."checkoutSessionId" = o."flexCheckoutSessionId" AND b.type = 'payment')
        ${after}
      ORDER BY o."orderCreatedAt" DESC, o.id::text DESC
      LIMIT ${options.limit}`;
    return rows.map((r) => ({
      key: { orderCreatedAt: r.orderCreatedAt as Date, id: r.id as string },
      orderName: r.orderName as string,
      shopifyOrderId: r.shopifyOrderId as string,
      orderCreatedAt: r.orderCreatedAt as Date,
      currency: r.currency as string,
      orderTotalMinor: num(r.orderTotalMinor),
      flexCheckoutSessionId: (r.flexCheckoutSessionId as string | null) ?? null,
      paymentShopifyId: r.paymentShopifyId as string,
      expectedChargeMinor: num(r.expectedChargeMinor),
    }));
  }
}

function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'bigint') return toSafeNumber(value);
  if (typeof value === 'number') return value;
  // numeric (sum of bigint) comes back as a Decimal or a string
  return toSafeNumber(BigInt(String(value)));
}

function toPayoutRow(r: Record<string, unknown>): PayoutRow {
  const cs = r.cs as string;
  return {
    key: { arrivalDate: r.arrivalDate as Date, payoutId: r.payoutRowId as string, checkoutSessionId: cs },
    flexPayoutId: r.flexPayoutId as string,
    payoutStatus: r.payoutStatus as string,
    payoutAmountMinor: num(r.payoutAmountMinor),
    arrivalDate: r.arrivalDate as Date,
    currency: r.currency as string,
    checkoutSessionId: cs === '' ? null : cs,
    clientReferenceId: (r.clientReferenceId as string | null) ?? null,
    chargedHsaFsaMinor: num(r.chargedHsaFsaMinor),
    chargedCardMinor: num(r.chargedCardMinor),
    refundedMinor: num(r.refundedMinor),
    adjustmentsMinor: num(r.adjustmentsMinor),
    transactionFeeMinor: num(r.transactionFeeMinor),
    interchangeFeeMinor: num(r.interchangeFeeMinor),
    lmnFeeMinor: num(r.lmnFeeMinor),
    disputeFeeMinor: num(r.disputeFeeMinor),
    netMinor: num(r.netMinor),
    paymentShopifyId: (r.paymentShopifyId as string | null) ?? null,
    paymentKind: (r.paymentKind as 'SALE' | 'AUTHORIZATION' | null) ?? null,
    paymentAmountMinor: r.paymentAmountMinor === null || r.paymentAmountMinor === undefined ? null : num(r.paymentAmountMinor),
    capturedMinor: num(r.capturedMinor),
    orderName: (r.orderName as string | null) ?? null,
    shopifyOrderId: (r.shopifyOrderId as string | null) ?? null,
    orderTotalMinor: r.orderTotalMinor === null || r.orderTotalMinor === undefined ? null : num(r.orderTotalMinor),
    otherPaymentsMinor: num(r.otherPaymentsMinor),
    sessionChargedMinor: num(r.sessionChargedMinor),
    sessionFlexRefundedMinor: num(r.sessionFlexRefundedMinor),
    shopifyRefundedMinor: num(r.shopifyRefundedMinor),
    lastShopifyRefundAt: (r.lastShopifyRefundAt as Date | null) ?? null,
  };
}
