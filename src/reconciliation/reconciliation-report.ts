import type { FlexMode } from '@prisma/client';
import type { CursorRecord, DateRange, PayoutRow, PayoutSummary, UnpaidOrderRow } from '../db/repositories/reconciliation';
import type { Transactor } from '../db/transactor';
import type { Clock } from '../lib/clock';
import type { ShopDomain, ShopId } from '../lib/ids';
import { formatMoney } from '../lib/money';

/**
 * Reconciliation, the report (README "Reconciliation"): per Flex payout and order, what Flex charged
 * on each kind of card, its fees by kind, refunds, net, the payout and its arrival date, next to the
 * Shopify order, with what does not match flagged. Built from the stored payouts and balance
 * transactions (sync-payouts.ts) and the app's own records of payments, orders, captures and
 * refunds, for one shop and one mode (test and live never mix).
 */

export type ReconciliationFlag =
  /** Flex charged for a checkout no order of this shop is linked to (not ours, or the order never came). */
  | 'flex_charge_without_order'
  /** An order paid with Flex whose charge is in no payout, well after Flex should have paid it out. */
  | 'order_without_flex_charge'
  /** What Flex charged for the checkout is not what the order's payment took. */
  | 'amount_differs'
  /** Refunds differ: refunded in Shopify (confirmed by Flex) but not in Flex's balance, or the other way. */
  | 'refund_differs';

export const FLAG_TEXT: Record<ReconciliationFlag, string> = {
  flex_charge_without_order: 'Flex charge with no Shopify order',
  order_without_flex_charge: 'Shopify order paid with Flex, but no Flex charge paid out',
  amount_differs: 'Amounts differ between Flex and Shopify',
  refund_differs: 'Refund in one system and not the other',
};

/** One row of the report: one checkout's money in one payout, or an order Flex has not paid out. */
export interface ReportRow {
  flexPayoutId: string | null;
  payoutStatus: string | null;
  arrivalDate: Date | null;
  orderName: string | null;
  shopifyOrderId: string | null;
  paymentShopifyId: string | null;
  flexCheckoutSessionId: string | null;
  currency: string;
  orderTotalMinor: number | null;
  chargedHsaFsaMinor: number;
  chargedCardMinor: number;
  transactionFeeMinor: number;
  interchangeFeeMinor: number;
  lmnFeeMinor: number;
  disputeFeeMinor: number;
  refundedMinor: number;
  adjustmentsMinor: number;
  netMinor: number;
  flags: ReconciliationFlag[];
  /** What the flags mean here, one sentence each. */
  notes: string[];
}

export interface PayoutView extends Omit<PayoutSummary, 'amountMinor' | 'netMinor'> {
  amount: string;
  net: string;
  /** The payout's amount is not what its balance transactions add up to. */
  totalDiffers: boolean;
  rows: ReportRow[];
  flaggedRows: number;
  /** Rows left out of the page (the CSV has them). */
  moreRows: number;
}

export interface ReconciliationOverview {
  mode: FlexMode;
  lastRunAt: Date | null;
  lastError: string | null;
  payouts: PayoutView[];
  /** Orders Flex should have paid out by now and has not. */
  unpaidOrders: ReportRow[];
}

export interface ReportOptions {
  /** How long after an order or a refund Flex has to show it in a payout before a missing one is flagged. */
  settlementMs: number;
}

const BATCH = 500;
const PAGE_PAYOUTS = 10;
const PAGE_ROWS_PER_PAYOUT = 15;

export class ReconciliationReport {
  constructor(private readonly deps: { transactor: Transactor; clock: Clock }, private readonly options: ReportOptions) {}

  /** What the settings page shows: the latest payouts (flagged rows first) and the unpaid orders. */
  async overview(shopDomain: ShopDomain, mode: FlexMode, range: DateRange): Promise<ReconciliationOverview | null> {
    const { repos } = this.deps.transactor;
    const shop = await repos.shops.findByDomain(shopDomain);
    if (!shop) return null;
    const summaries = await repos.reconciliation.payoutSummaries(shop.id, mode, range, PAGE_PAYOUTS);
    const rows = summaries.length
      ? await repos.reconciliation.payoutRows(shop.id, mode, range, { limit: 10_000, flexPayoutIds: summaries.map((s) => s.flexPayoutId) })
      : [];
    const now = this.deps.clock.now();
    const payouts = summaries.map((s): PayoutView => {
      const mine = rows.filter((r) => r.flexPayoutId === s.flexPayoutId).map((r) => this.payoutRow(r, now));
      const flagged = mine.filter((r) => r.flags.length > 0);
      const shown = [...flagged, ...mine.filter((r) => r.flags.length === 0)].slice(0, PAGE_ROWS_PER_PAYOUT);
      const { amountMinor, netMinor, ...rest } = s;
      return {
        ...rest,
        amount: formatMoney(amountMinor, s.currency),
        net: formatMoney(netMinor, s.currency),
        totalDiffers: s.complete && amountMinor !== netMinor,
        rows: shown,
        flaggedRows: flagged.length,
        moreRows: mine.length - shown.length,
      };
    });
    const unpaid = await repos.reconciliation.unpaidOrders(shop.id, mode, range, this.settledBefore(now), { limit: 20 });
    const cursor: CursorRecord | null = await repos.reconciliation.cursor(shop.id, mode);
    return { mode, lastRunAt: cursor?.lastRunAt ?? null, lastError: cursor?.lastError ?? null, payouts, unpaidOrders: unpaid.map(unpaidRow) };
  }

  /**
   * Every row of the range, in batches read with a keyset cursor (never the whole result at once):
   * payout rows, newest payout first, then the orders Flex has not paid out. Null for an unknown shop.
   */
  async rowsOf(shopDomain: ShopDomain, mode: FlexMode, range: DateRange): Promise<AsyncIterable<ReportRow> | null> {
    const shop = await this.deps.transactor.repos.shops.findByDomain(shopDomain);
    if (!shop) return null;
    return this.stream(shop.id, mode, range);
  }

  private async *stream(shopId: ShopId, mode: FlexMode, range: DateRange): AsyncGenerator<ReportRow> {
    const { repos } = this.deps.transactor;
    const now = this.deps.clock.now();
    let after: PayoutRow['key'] | undefined;
    for (;;) {
      const batch = await repos.reconciliation.payoutRows(shopId, mode, range, { after, limit: BATCH });
      for (const row of batch) yield this.payoutRow(row, now);
      if (batch.length < BATCH) break;
      after = batch.at(-1)!.key;
    }
    let afterOrder: UnpaidOrderRow['key'] | undefined;
    for (;;) {
      const batch = await repos.reconciliation.unpaidOrders(shopId, mode, range, this.settledBefore(now), { after: afterOrder, limit: BATCH });
      for (const row of batch) yield unpaidRow(row);
      if (batch.length < BATCH) break;
      afterOrder = batch.at(-1)!.key;
    }
  }

  private settledBefore(now: Date): Date {
    return new Date(now.getTime() - this.options.settlementMs);
  }

  private payoutRow(r: PayoutRow, now: Date): ReportRow {
    const flags: ReconciliationFlag[] = [];
    const notes: string[] = [];
    const money = (minor: number) => formatMoney(minor, r.currency);
    const charged = r.chargedHsaFsaMinor + r.chargedCardMinor;
    if (charged > 0 && !r.orderName) {
      flags.push('flex_charge_without_order');
      notes.push(r.paymentShopifyId ? `Payment ${r.paymentShopifyId} has no Shopify order linked.` : `Checkout ${r.checkoutSessionId ?? '?'} is not a payment of this store through the app.`);
    }
    if (charged > 0 && r.paymentKind) {
      const expected = r.paymentKind === 'SALE' ? (r.paymentAmountMinor ?? 0) : r.capturedMinor;
      if (r.sessionChargedMinor !== expected) {
        flags.push('amount_differs');
        notes.push(`Flex charged ${money(r.sessionChargedMinor)} for this checkout; the Shopify payment took ${money(expected)}.`);
      }
    }
    if ((charged > 0 || r.refundedMinor > 0) && r.paymentKind && r.sessionFlexRefundedMinor !== r.shopifyRefundedMinor) {
      const flexAhead = r.sessionFlexRefundedMinor > r.shopifyRefundedMinor;
      const settled = r.lastShopifyRefundAt !== null && r.lastShopifyRefundAt.getTime() < this.settledBefore(now).getTime();
      if (flexAhead || settled) {
        flags.push('refund_differs');
        notes.push(`Flex refunded ${money(r.sessionFlexRefundedMinor)}; Shopify refunded ${money(r.shopifyRefundedMinor)}.`);
      }
    }
    return {
      flexPayoutId: r.flexPayoutId,
      payoutStatus: r.payoutStatus,
      arrivalDate: r.arrivalDate,
      orderName: r.orderName,
      shopifyOrderId: r.shopifyOrderId,
      paymentShopifyId: r.paymentShopifyId,
      flexCheckoutSessionId: r.checkoutSessionId,
      currency: r.currency,
      orderTotalMinor: r.orderTotalMinor,
      chargedHsaFsaMinor: r.chargedHsaFsaMinor,
      chargedCardMinor: r.chargedCardMinor,
      transactionFeeMinor: r.transactionFeeMinor,
      interchangeFeeMinor: r.interchangeFeeMinor,
      lmnFeeMinor: r.lmnFeeMinor,
      disputeFeeMinor: r.disputeFeeMinor,
      refundedMinor: r.refundedMinor,
      adjustmentsMinor: r.adjustmentsMinor,
      netMinor: r.netMinor,
      flags,
      notes,
    };
  }
}

function unpaidRow(o: UnpaidOrderRow): ReportRow {
  return {
    flexPayoutId: null,
    payoutStatus: null,
    arrivalDate: null,
    orderName: o.orderName,
    shopifyOrderId: o.shopifyOrderId,
    paymentShopifyId: o.paymentShopifyId,
    flexCheckoutSessionId: o.flexCheckoutSessionId,
    currency: o.currency,
    orderTotalMinor: o.orderTotalMinor,
    chargedHsaFsaMinor: 0,
    chargedCardMinor: 0,
    transactionFeeMinor: 0,
    interchangeFeeMinor: 0,
    lmnFeeMinor: 0,
    disputeFeeMinor: 0,
    refundedMinor: 0,
    adjustmentsMinor: 0,
    netMinor: 0,
    flags: ['order_without_flex_charge'],
    notes: [`Flex should have paid out ${formatMoney(o.expectedChargeMinor, o.currency)} for this order by now.`],
  };
}
