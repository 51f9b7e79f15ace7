import type { FlexMode } from '@prisma/client';
import type { CursorRecord, StoredPayout } from '../db/repositories/reconciliation';
import type { Transactor } from '../db/transactor';
import { FLEX_PAGE_SIZE, FlexApiError, type FlexAccountClient, type FlexClient } from '../flex/flex-client';
import type { FlexBalanceTransaction, FlexPayout } from '../flex/flex-types';
import type { Clock } from '../lib/clock';
import type { ShopId } from '../lib/ids';
import type { Logger } from '../lib/logger';

export interface SyncPayoutsOptions {
  /** How often each shop and mode is read again. */
  everyMs: number;
  /** How far back the first read of a shop goes. */
  lookbackMs: number;
  /** After a Flex failure, the next try. */
  retryMs: number;
  /** Pages of payouts read per run (the place is kept; the next run continues). */
  maxPagesPerRun?: number;
}

/**
 * Reconciliation, the reading half (README "Reconciliation"): per shop and mode, the Flex payouts
 * (`GET /v1/payouts`, newest first) and every balance transaction each took
 * (`GET /v1/balance_transactions?payout_id=`), stored as they are. The report is built from them
 * when asked (reconciliation-report.ts).
 *
 * Resumable: where the listing of payouts stands (`sweepAfter`), and where each payout's transactions
 * stand (`btCursor`), are saved after every page, so a crash or a Flex outage costs at most a page.
 * A payout's transactions never change once it is made, so a payout read to the end is not read
 * again; only its status is (in_transit → paid). A sweep stops at `doneBefore`: every payout created
 * before it is stored complete and paid. One instance at a time per shop and mode (the cursor row's
 * `nextRunAt` is the lease).
 */
export class SyncFlexPayouts {
  constructor(
    private readonly deps: { transactor: Transactor; flex: FlexClient; clock: Clock; logger: Logger },
    private readonly options: SyncPayoutsOptions,
  ) {}

  /** One pass over the connections whose turn has come; returns how many were read. */
  async runOnce(): Promise<number> {
    const { repos } = this.deps.transactor;
    const now = this.deps.clock.now();
    const due = await repos.reconciliation.dueConnections(now, 20);
    let ran = 0;
    for (const { shopId, mode } of due) {
      const cursor = await repos.reconciliation.claimRun(shopId, mode, now, 10 * 60 * 1000);
      if (!cursor) continue;
      ran++;
      await this.runFor(shopId, mode, cursor);
    }
    return ran;
  }

  private async runFor(shopId: ShopId, mode: FlexMode, cursor: CursorRecord): Promise<void> {
    const { repos } = this.deps.transactor;
    const connection = await repos.flexConnections.find(shopId, mode);
    if (!connection) return;
    const started = this.deps.clock.now();
    try {
      const finished = await this.sweep(shopId, mode, cursor, this.deps.flex.forKey(connection.apiKey));
      await repos.reconciliation.saveCursor(shopId, mode, {
        lastRunAt: started,
        lastError: null,
        // A sweep cut short by the page limit goes on at once; a finished one waits its turn.
        nextRunAt: new Date(started.getTime() + (finished ? this.options.everyMs : 0)),
      });
    } catch (error) {
      if (!(error instanceof FlexApiError)) {
        this.deps.logger.error({ err: error, shopId, mode }, 'reconciliation: reading Flex payouts failed');
      } else {
        this.deps.logger.warn({ shopId, mode, flexError: { kind: error.kind, status: error.status } }, 'reconciliation: Flex did not answer; trying again later');
      }
      await repos.reconciliation.saveCursor(shopId, mode, {
        lastRunAt: started,
        lastError: (error as Error).message.slice(0, 500),
        nextRunAt: new Date(started.getTime() + Math.max(this.options.retryMs, error instanceof FlexApiError ? (error.retryAfterMs ?? 0) : 0)),
      });
    }
  }

  /** True when the sweep reached its end (or `doneBefore`); false when it stopped at the page limit. */
  private async sweep(shopId: ShopId, mode: FlexMode, cursor: CursorRecord, flex: FlexAccountClient): Promise<boolean> {
    const { repos } = this.deps.transactor;
    let after = cursor.sweepAfter ?? undefined;
    const startDate = cursor.doneBefore ? undefined : new Date(this.deps.clock.now().getTime() - this.options.lookbackMs);
    for (let page = 0; page < (this.options.maxPagesPerRun ?? 20); page++) {
      const payouts = await flex.listPayouts({ startDate, startingAfter: after });
      let reachedDone = false;
      for (const payout of payouts) {
        const createdAt = new Date(payout.created_at);
        if (cursor.doneBefore && createdAt < cursor.doneBefore) {
          reachedDone = true;
          break;
        }
        const stored = await repos.reconciliation.upsertPayout(shopId, mode, payoutFacts(payout));
        if (!stored.complete) await this.readTransactions(shopId, mode, stored, flex);
        after = payout.payout_id;
        await repos.reconciliation.saveCursor(shopId, mode, { sweepAfter: after });
      }
      if (reachedDone || payouts.length < FLEX_PAGE_SIZE) {
        await repos.reconciliation.saveCursor(shopId, mode, { sweepAfter: null, doneBefore: await this.doneBefore(shopId, mode, cursor.doneBefore) });
        return true;
      }
    }
    return false;
  }

  private async readTransactions(shopId: ShopId, mode: FlexMode, payout: StoredPayout, flex: FlexAccountClient): Promise<void> {
    let btCursor = payout.btCursor ?? undefined;
    for (;;) {
      const page = await flex.listPayoutBalanceTransactions(payout.flexPayoutId, btCursor);
      const complete = page.length < FLEX_PAGE_SIZE;
      btCursor = page.at(-1)?.balance_transaction_id ?? btCursor;
      await this.deps.transactor.run((tx) => tx.reconciliation.saveBalanceTransactions(payout, shopId, mode, page.map(transactionFacts), { btCursor: btCursor ?? null, complete }));
      if (complete) return;
    }
  }

  /** Before the oldest payout still in transit (its status will change), or else the newest one stored. */
  private async doneBefore(shopId: ShopId, mode: FlexMode, previous: Date | null): Promise<Date | null> {
    const { oldestOpen, newest } = await this.deps.transactor.repos.reconciliation.payoutBoundaries(shopId, mode);
    return oldestOpen ?? newest ?? previous;
  }
}

function payoutFacts(p: FlexPayout) {
  return {
    flexPayoutId: p.payout_id,
    status: p.status,
    amountMinor: p.amount,
    currency: (p.currency ?? 'usd').toUpperCase(),
    arrivalDate: new Date(p.arrival_date),
    flexCreatedAt: new Date(p.created_at),
  };
}

function transactionFacts(bt: FlexBalanceTransaction) {
  const transactionFeeMinor = bt.transaction_fee_amount ?? 0;
  const interchangeFeeMinor = bt.interchange_fee_amount ?? 0;
  const lmnFeeMinor = bt.lmn_fee_amount ?? 0;
  const disputeFeeMinor = bt.dispute_fee_amount ?? 0;
  const feeMinor = bt.fee ?? transactionFeeMinor + interchangeFeeMinor + lmnFeeMinor + disputeFeeMinor;
  return {
    flexBalanceTransactionId: bt.balance_transaction_id,
    type: bt.type,
    reportingCategory: bt.reporting_category ?? null,
    amountMinor: bt.amount,
    feeMinor,
    netMinor: bt.net ?? bt.amount - feeMinor,
    transactionFeeMinor,
    interchangeFeeMinor,
    lmnFeeMinor,
    disputeFeeMinor,
    cardType: bt.card_type ?? null,
    checkoutSessionId: bt.checkout_session_id ?? null,
    clientReferenceId: bt.client_reference_id ?? null,
    paymentIntentId: bt.flex_payment_intent_id ?? null,
    sourceId: bt.source_id ?? null,
    currency: (bt.currency ?? 'usd').toUpperCase(),
    flexCreatedAt: new Date(bt.created_at),
  };
}
