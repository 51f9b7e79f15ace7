import { readPage, type Query } from './catalog';
import type { FlexCore } from './core';
import { pageNewestFirst } from './table';
import type { BalanceTransactionRec, PayoutRec, Scope, Wire } from './types';
import { Input } from './validate';

// GET /v1/payouts, /v1/payouts/:id and /v1/balance_transactions: read-only views of the ledger
// (ledger.ts). Automatic payouts the sandbox clock has become due for are made before each read.

function readDate(v: Input, query: Query, key: string): number | undefined {
  const raw = query[key];
  if (raw === undefined || raw === '') return undefined;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) {
    v.add(['query', key], 'Input should be a valid datetime or date', 'datetime_from_date_parsing');
    return undefined;
  }
  return ms;
}

export function listPayouts(core: FlexCore, scope: Scope, query: Query): Wire {
  const v = new Input();
  const page = readPage(v, query);
  const start = readDate(v, query, 'start_date');
  const end = readDate(v, query, 'end_date');
  v.done();
  core.ledger.catchUp();
  const { payouts } = core.state;
  // `start_date` is inclusive, `end_date` exclusive: consecutive ranges never count a payout twice.
  const matches = (p: PayoutRec): boolean =>
    (query.payout_id === undefined || p.id === query.payout_id) &&
    (start === undefined || p.createdAtMs >= start) &&
    (end === undefined || p.createdAtMs < end);
  const candidates = query.payout_id === undefined ? payouts.inScope(scope) : payoutInScope(core, scope, query.payout_id);
  return { payouts: pageNewestFirst(candidates, page, (id) => payouts.get(id), matches).map((p) => core.ledger.payoutWire(p)) };
}

function payoutInScope(core: FlexCore, scope: Scope, id: string): PayoutRec[] {
  const payout = core.state.payouts.get(id);
  return payout && payout.accountId === scope.accountId && payout.testMode === scope.testMode ? [payout] : [];
}

export function getPayout(core: FlexCore, scope: Scope, id: string): Wire {
  core.ledger.catchUp();
  return { payout: core.ledger.payoutWire(core.state.find(core.state.payouts, scope, id)) };
}

export function listBalanceTransactions(core: FlexCore, scope: Scope, query: Query): Wire {
  const v = new Input();
  const page = readPage(v, query);
  v.done();
  core.ledger.catchUp();
  const table = core.state.balanceTransactions;
  const matches = (bt: BalanceTransactionRec): boolean =>
    bt.accountId === scope.accountId &&
    bt.testMode === scope.testMode &&
    (query.balance_transaction_id === undefined || bt.id === query.balance_transaction_id) &&
    (query.payout_id === undefined || bt.payoutId === query.payout_id) &&
    (query.type === undefined || bt.type === query.type) &&
    (query.reporting_category === undefined || bt.reportingCategory === query.reporting_category);
  // Read from the narrowest index the filters allow.
  let candidates: readonly BalanceTransactionRec[];
  if (query.balance_transaction_id !== undefined) {
    const one = table.get(query.balance_transaction_id);
    candidates = one ? [one] : [];
  } else if (query.payout_id !== undefined) {
    candidates = core.ledger.byPayout.get(query.payout_id);
  } else {
    candidates = table.inScope(scope);
  }
  return {
    balance_transactions: pageNewestFirst(candidates, page, (id) => table.get(id), matches).map((bt) => core.ledger.balanceTransactionWire(bt)),
  };
}
