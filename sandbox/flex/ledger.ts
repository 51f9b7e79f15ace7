import {
  CARD_NETWORK,
  DAY_MS,
  type CardRates,
  type FeeSchedule,
  type PayoutSchedule,
  percentOf,
  REFUNDS_RETURN_FEES,
  shouldPayOut,
  startOfUtcDay,
} from './assumptions';
import type { Clock } from './clock';
import { newId } from './ids';
import type { FlexState } from './state';
import { GroupIndex, scopeKey } from './table';
import type { BalanceTransactionRec, IntentRec, RefundRec, Scope, SessionRec, Wire } from './types';
import type { StringMap } from './validate';

// Money after the buyer: Flex's fees on each charge, the balance transactions that record every
// movement (charges, refunds, adjustments, payouts), and the payouts that gather what became
// available. Everything runs on the sandbox clock: a charge's net becomes available some days
// later, and payouts are made as the clock passes each UTC midnight (see assumptions.ts).

export interface AdjustmentInput extends Scope {
  /** Cents; negative takes money from the merchant (a dispute, a correction). */
  amount: number;
  /** Cents Flex keeps on top (`dispute_fee_amount`), e.g. a dispute fee. */
  disputeFee?: number;
  /** Default `adjustment`; e.g. `dispute`. */
  reportingCategory?: string;
  description?: string;
  checkoutSessionId?: string;
  metadata?: StringMap;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export const feeOf = (bt: BalanceTransactionRec): number => bt.transactionFee + bt.interchangeFee + bt.lmnFee + bt.disputeFee;
export const netOf = (bt: BalanceTransactionRec): number => bt.amount - feeOf(bt);

export class Ledger {
  /** Balance transactions of each payout (its own `payout` transaction included), oldest first. */
  readonly byPayout = new GroupIndex<BalanceTransactionRec>();
  /** Per (account, mode): balance transactions not yet paid out. */
  private readonly unpaid = new Map<string, Set<BalanceTransactionRec>>();
  /** The last UTC midnight payouts were considered for. */
  private lastBoundaryMs: number;

  constructor(
    private readonly state: FlexState,
    private readonly clock: Clock,
    public fees: FeeSchedule,
    public payoutSchedule: PayoutSchedule,
  ) {
    this.lastBoundaryMs = startOfUtcDay(clock.nowMs());
  }

  /** Money taken from a card: fees on the intent and a `payment` balance transaction. */
  charge(session: SessionRec, intent: IntentRec, amount: number): BalanceTransactionRec {
    const rates: CardRates = { ...this.fees, ...(intent.cardType === 'hsa_fsa' ? this.fees.hsaFsa : {}) };
    const first = intent.fees === null;
    const needsLetter = session.lineItems.some((li) => li.eligibility === 'letter_of_medical_necessity');
    const transactionFee = percentOf(amount, rates.transactionPercent) + (first ? rates.transactionFixed : 0);
    const interchangeFee = percentOf(amount, rates.interchangePercent);
    const lmnFee = first && needsLetter && intent.cardType === 'hsa_fsa' ? this.fees.letterFee : 0;
    const before = intent.fees ?? { transaction: 0, interchange: 0, letter: 0 };
    intent.fees = {
      transaction: before.transaction + transactionFee,
      interchange: before.interchange + interchangeFee,
      letter: before.letter + lmnFee,
    };
    const now = this.clock.nowMs();
    return this.record({
      ...this.state.owned(session, 'fbt_', now),
      type: 'payment',
      reportingCategory: 'charge',
      amount,
      transactionFee,
      interchangeFee,
      lmnFee,
      disputeFee: 0,
      availableOnMs: startOfUtcDay(now) + this.payoutSchedule.availableAfterDays * DAY_MS,
      payoutId: null,
      sessionId: session.id,
      clientReferenceId: session.clientReferenceId,
      intentId: intent.id,
      sourceId: intent.chargeId,
      cardType: intent.cardType,
      description: null,
      metadata: { ...session.metadata },
    });
  }

  /** A refund that succeeded: one `payment_refund` per intent it took money from. */
  refunded(refund: RefundRec): BalanceTransactionRec[] {
    const session = this.state.sessions.get(refund.sessionId);
    const now = this.clock.nowMs();
    return refund.items
      .filter((item) => item.amount > 0)
      .map((item) =>
        this.record({
          ...this.state.owned(refund, 'fbt_', now),
          type: 'payment_refund',
          reportingCategory: 'refund',
          amount: -item.amount,
          transactionFee: 0,
          interchangeFee: 0,
          lmnFee: 0,
          disputeFee: 0,
          // A refund leaves the balance at once.
          availableOnMs: now,
          payoutId: null,
          sessionId: refund.sessionId,
          clientReferenceId: session?.clientReferenceId ?? null,
          intentId: item.intentId,
          sourceId: refund.id,
          cardType: this.state.intents.get(item.intentId)?.cardType ?? null,
          description: REFUNDS_RETURN_FEES ? 'refund (fees returned)' : null,
          metadata: { ...refund.metadata },
        }),
      );
  }

  adjust(input: AdjustmentInput): BalanceTransactionRec {
    if (!Number.isSafeInteger(input.amount) || input.amount === 0) {
      throw new RangeError(`amount must be a non-zero integer (cents), got ${input.amount}`);
    }
    const disputeFee = input.disputeFee ?? 0;
    if (!Number.isSafeInteger(disputeFee) || disputeFee < 0) throw new RangeError(`disputeFee must be a non-negative integer, got ${disputeFee}`);
    const session = input.checkoutSessionId === undefined ? undefined : this.state.sessions.get(input.checkoutSessionId);
    if (input.checkoutSessionId !== undefined && (!session || scopeKey(session) !== scopeKey(input))) {
      throw new RangeError(`No checkout session ${input.checkoutSessionId} in this account and mode`);
    }
    const now = this.clock.nowMs();
    return this.record({
      ...this.state.owned(input, 'fbt_', now),
      type: 'adjustment',
      reportingCategory: input.reportingCategory ?? 'adjustment',
      amount: input.amount,
      transactionFee: 0,
      interchangeFee: 0,
      lmnFee: 0,
      disputeFee,
      availableOnMs: now,
      payoutId: null,
      sessionId: session?.id ?? null,
      clientReferenceId: session?.clientReferenceId ?? null,
      intentId: null,
      sourceId: newId('fadj_'),
      cardType: null,
      description: input.description ?? null,
      metadata: { ...(input.metadata ?? {}) },
    });
  }

  /** Makes the automatic payouts of every UTC midnight the sandbox clock passed since the last look. */
  catchUp(): void {
    const today = startOfUtcDay(this.clock.nowMs());
    while (this.lastBoundaryMs < today) {
      if (!this.payoutSchedule.automatic || this.unpaid.size === 0) {
        this.lastBoundaryMs = today;
        break;
      }
      this.lastBoundaryMs += DAY_MS;
      this.payOut(this.lastBoundaryMs);
    }
  }

  /** Pays out now what is available (every account and mode, or one). */
  runPayouts(filter: { accountId?: string; testMode?: boolean } = {}): string[] {
    this.catchUp();
    return this.payOut(this.clock.nowMs(), filter);
  }

  status(bt: BalanceTransactionRec): 'pending' | 'available' {
    return this.clock.nowMs() >= bt.availableOnMs ? 'available' : 'pending';
  }

  private record(bt: BalanceTransactionRec): BalanceTransactionRec {
    this.state.balanceTransactions.set(bt.id, bt);
    const key = scopeKey(bt);
    let set = this.unpaid.get(key);
    if (!set) this.unpaid.set(key, (set = new Set()));
    set.add(bt);
    return bt;
  }

  private payOut(atMs: number, filter: { accountId?: string; testMode?: boolean } = {}): string[] {
    const made: string[] = [];
    for (const [key, set] of this.unpaid) {
      const first = set.values().next().value as BalanceTransactionRec | undefined;
      if (!first) continue;
      if (filter.accountId !== undefined && first.accountId !== filter.accountId) continue;
      if (filter.testMode !== undefined && first.testMode !== filter.testMode) continue;
      const due = [...set].filter((bt) => bt.availableOnMs <= atMs).sort((a, b) => a.seq - b.seq);
      const net = due.reduce((sum, bt) => sum + netOf(bt), 0);
      if (due.length === 0 || !shouldPayOut(net)) continue;
      const scope: Scope = { accountId: first.accountId, testMode: first.testMode };
      const payout = {
        ...this.state.owned(scope, 'fpo_', atMs),
        amount: net,
        arrivalDateMs: startOfUtcDay(atMs) + this.payoutSchedule.arrivalAfterDays * DAY_MS,
        balanceTransactionIds: [] as string[],
      };
      const own: BalanceTransactionRec = {
        ...this.state.owned(scope, 'fbt_', atMs),
        type: 'payout',
        reportingCategory: 'payout',
        amount: -net,
        transactionFee: 0,
        interchangeFee: 0,
        lmnFee: 0,
        disputeFee: 0,
        availableOnMs: atMs,
        payoutId: payout.id,
        sessionId: null,
        clientReferenceId: null,
        intentId: null,
        sourceId: payout.id,
        cardType: null,
        description: 'STRIPE PAYOUT',
        metadata: {},
      };
      for (const bt of due) {
        bt.payoutId = payout.id;
        set.delete(bt);
        this.byPayout.add(payout.id, bt);
        payout.balanceTransactionIds.push(bt.id);
      }
      if (set.size === 0) this.unpaid.delete(key);
      this.state.balanceTransactions.set(own.id, own);
      this.byPayout.add(payout.id, own);
      payout.balanceTransactionIds.push(own.id);
      this.state.payouts.set(payout.id, payout);
      made.push(payout.id);
    }
    return made;
  }

  // ---- wire shapes ------------------------------------------------------------------------------

  balanceTransactionWire(bt: BalanceTransactionRec): Wire {
    return {
      balance_transaction_id: bt.id,
      amount: bt.amount,
      fee: feeOf(bt),
      net: netOf(bt),
      status: this.status(bt),
      available_on: iso(bt.availableOnMs),
      created_at: iso(bt.createdAtMs),
      exchange_rate: null,
      type: bt.type,
      reporting_category: bt.reportingCategory,
      checkout_session_id: bt.sessionId,
      client_reference_id: bt.clientReferenceId,
      flex_payment_intent_id: bt.intentId,
      source_id: bt.sourceId,
      payout_id: bt.payoutId,
      transaction_fee_amount: bt.transactionFee,
      interchange_fee_amount: bt.interchangeFee,
      lmn_fee_amount: bt.lmnFee,
      dispute_fee_amount: bt.disputeFee,
      card_type: bt.cardType,
      card_network: bt.cardType ? CARD_NETWORK : null,
      currency: 'usd',
      mid: null,
      description: bt.description,
      metadata: { ...bt.metadata },
      test_mode: bt.testMode,
    };
  }

  payoutWire(p: { id: string; amount: number; arrivalDateMs: number; createdAtMs: number; testMode: boolean }): Wire {
    return {
      payout_id: p.id,
      status: this.clock.nowMs() >= p.arrivalDateMs ? 'paid' : 'in_transit',
      amount: p.amount,
      arrival_date: iso(p.arrivalDateMs),
      created_at: iso(p.createdAtMs),
      source_type: 'card',
      test_mode: p.testMode,
    };
  }
}
