import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DEFAULT_FEE_SCHEDULE,
  DEFAULT_PAYOUT_SCHEDULE,
  type CardRates,
  type FeeSchedule,
  type PayoutSchedule,
} from './assumptions';
import {
  completeProcessing,
  expireCheckoutSession,
  pay,
  type CompleteProcessingOptions,
  type PayOutcome,
  type PayOutcomeType,
  type PayResult,
} from './checkout';
import { Clock } from './clock';
import { FlexCore, type RefundBehaviour } from './core';
import { checkEligibility, type EligibilityMatch } from './eligibility';
import { FlexSandboxError } from './errors';
import { Faults, type FaultControls, type RateLimitSettings } from './faults';
import { IdempotencyStore } from './idempotency';
import type { AdjustmentInput } from './ledger';
import { intentWire, productWire, refundWire, sessionWire, webhookWire } from './serialize';
import { createApp } from './server';
import { settleRefund } from './settlement';
import { FlexState, type CreateAccountInput } from './state';
import { Timers } from './timers';
import type { Table } from './table';
import type { Account, Eligibility, Owned, RefundFinalStatus, Wire } from './types';
import { WebhookDispatcher, type DeliveryRecord, type WebhookHeaderStyle } from './webhooks';

export type { CompleteProcessingOptions, PayOutcome, PayOutcomeType, PayResult } from './checkout';
export type { CardRates, FeeSchedule, PayoutSchedule } from './assumptions';
export type { EligibilityMatch } from './eligibility';
export type { DropWebhooksOptions, FailNextOptions, FaultControls, FaultSettings, RateLimitSettings } from './faults';
export type { AdjustmentInput } from './ledger';
export type { CreateAccountInput } from './state';
export type { RefundBehaviour } from './core';
export type { Account as FlexAccount, Eligibility, RefundFinalStatus, Wire } from './types';
export type { DeliveryAttempt, DeliveryRecord, WebhookHeaderStyle } from './webhooks';
export { FlexSandboxError } from './errors';
export { signWebhook, signingKey } from './webhooks';

export type CheckoutSessionCompletedEventName = 'checkout.session.completed' | 'checkout_session.completed';

export interface FlexSandboxOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Base of `redirect_url` (the hosted checkout page). Default: the server's own URL. */
  publicUrl?: string;
  /** Delay before each delivery attempt; its length is the number of attempts. */
  webhookRetryDelaysMs?: number[];
  /** A delivery attempt without a response for this long counts as failed. */
  webhookTimeoutMs?: number;
  /** `svix-*` headers (default), the unbranded `webhook-*` ones, or both. */
  webhookHeaders?: WebhookHeaderStyle;
  /** How long refunds stay `pending` before they settle (see `setRefundBehaviour`). */
  refundSettleDelayMs?: number;
  checkoutSessionLifetimeSeconds?: number;
  authorizationLifetimeSeconds?: number;
  checkoutSessionCompletedEventName?: CheckoutSessionCompletedEventName;
  /** Checkout sessions below this `amount_total` (cents) are refused with `checkout_amount_too_low`. */
  minimumAmountTotal?: number;
  /** `flex.requests` and `flex.deliveries` keep about this many recent entries (for long benchmarks). */
  recordLimit?: number;
  /** Accounts to create up front, e.g. with fixed keys for `npm start`. */
  accounts?: CreateAccountInput[];
  /** Flex's fees on each charge (merged over the defaults in assumptions.ts: 2.9 % + 30¢, $5 letter fee). */
  fees?: Partial<FeeSchedule>;
  /** When funds become available and payouts arrive (defaults: 2 days, then 1 day; automatic at UTC midnight). */
  payouts?: Partial<PayoutSchedule>;
  /** A token bucket per account and mode for `/v1` (default: none). `faults.reset()` comes back to this. */
  rateLimit?: RateLimitSettings | null;
}

export interface RequestRecord {
  /** Sandbox clock, ISO-8601. */
  at: string;
  method: string;
  /** Without the query string. */
  path: string;
  /** The route pattern that answered, e.g. `/v1/checkout/sessions/:id/refund`; null if none did. */
  route: string | null;
  /** From the API key; null when the key was refused. */
  mode: 'live' | 'test' | null;
  accountId: string | null;
  idempotencyKey: string | null;
  /** Null for a request left hanging by a fault. */
  status: number | null;
  replayed: boolean;
  /** Which injected fault answered this request, if any. */
  fault: 'before' | 'after' | 'hang' | null;
  /** Refused with 429 `rate_limited` (no work done, no idempotency key stored). */
  rateLimited: boolean;
}

const DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  webhookRetryDelaysMs: [0, 5_000, 30_000, 120_000, 600_000, 1_800_000],
  webhookTimeoutMs: 5_000,
  webhookHeaders: 'svix' as WebhookHeaderStyle,
  refundSettleDelayMs: 1_000,
  checkoutSessionLifetimeSeconds: 86_400,
  authorizationLifetimeSeconds: 604_800,
  checkoutSessionCompletedEventName: 'checkout.session.completed' as CheckoutSessionCompletedEventName,
  minimumAmountTotal: 50,
  recordLimit: 10_000,
};

type Resolved = typeof DEFAULTS & { publicUrl?: string };

/** Options that are objects of their own, resolved apart. */
const NESTED = new Set(['accounts', 'fees', 'payouts', 'rateLimit']);

function checkCardRates(rates: Partial<CardRates>, prefix: string): void {
  for (const [key, value] of Object.entries(rates)) {
    if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      throw new RangeError(`FlexSandbox: fees.${prefix}${key} must be a non-negative number, got ${String(value)}`);
    }
  }
}

/**
 * The schedule `partial` makes of `base` (an `hsaFsa` given replaces the HSA/FSA overrides as a
 * whole, so `{ hsaFsa: {} }` removes them); throws on a negative or non-numeric fee.
 */
function mergeFees(base: FeeSchedule, partial: Partial<FeeSchedule>): FeeSchedule {
  const { hsaFsa, ...flat } = partial;
  checkCardRates(flat, '');
  checkCardRates(hsaFsa ?? {}, 'hsaFsa.');
  if (flat.transactionFixed !== undefined && !Number.isInteger(flat.transactionFixed)) throw new RangeError('FlexSandbox: fees.transactionFixed must be whole cents');
  if (flat.letterFee !== undefined && !Number.isInteger(flat.letterFee)) throw new RangeError('FlexSandbox: fees.letterFee must be whole cents');
  return { ...base, ...flat, hsaFsa: { ...(hsaFsa ?? base.hsaFsa) } };
}

function mergePayoutSchedule(base: PayoutSchedule, partial: Partial<PayoutSchedule>): PayoutSchedule {
  const next = { ...base, ...partial };
  for (const key of ['availableAfterDays', 'arrivalAfterDays'] as const) {
    if (!(Number.isInteger(next[key]) && next[key] >= 0)) throw new RangeError(`FlexSandbox: payouts.${key} must be a whole number of days >= 0`);
  }
  if (typeof next.automatic !== 'boolean') throw new RangeError('FlexSandbox: payouts.automatic must be a boolean');
  return next;
}

function resolve(options: FlexSandboxOptions): Resolved {
  const o: Resolved = { ...DEFAULTS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && !NESTED.has(key)) (o as Record<string, unknown>)[key] = value;
  }
  const nonNegative = (name: string, value: number): void => {
    if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`FlexSandbox: ${name} must be a non-negative number, got ${value}`);
  };
  if (o.webhookRetryDelaysMs.length === 0) throw new RangeError('FlexSandbox: webhookRetryDelaysMs needs at least one delay');
  o.webhookRetryDelaysMs.forEach((d, i) => nonNegative(`webhookRetryDelaysMs[${i}]`, d));
  nonNegative('webhookTimeoutMs', o.webhookTimeoutMs);
  nonNegative('refundSettleDelayMs', o.refundSettleDelayMs);
  nonNegative('checkoutSessionLifetimeSeconds', o.checkoutSessionLifetimeSeconds);
  nonNegative('authorizationLifetimeSeconds', o.authorizationLifetimeSeconds);
  nonNegative('minimumAmountTotal', o.minimumAmountTotal);
  if (!(o.recordLimit >= 1)) throw new RangeError(`FlexSandbox: recordLimit must be at least 1, got ${o.recordLimit}`);
  o.webhookRetryDelaysMs = [...o.webhookRetryDelaysMs];
  o.publicUrl = o.publicUrl?.replace(/\/+$/, '');
  return o;
}

/**
 * A stand-in for the Flex API over real HTTP: keeps state per account and mode, enforces
 * idempotency, serves the hosted checkout page, sends Svix-signed webhooks with retries, and fails
 * on demand. Contract: `sandbox/README.md`, section "Flex sandbox".
 */
export class FlexSandbox {
  readonly faults: FaultControls;
  private readonly options: Resolved;
  private readonly state = new FlexState();
  private readonly clock = new Clock();
  private readonly timers = new Timers();
  private readonly faultState: Faults;
  private readonly core: FlexCore;
  private readonly dispatcher: WebhookDispatcher;
  private readonly idempotency: IdempotencyStore;
  private readonly requestLog: RequestRecord[] = [];
  private server: http.Server | undefined;
  private listeningUrl: string | undefined;

  constructor(options: FlexSandboxOptions = {}) {
    this.options = resolve(options);
    this.faultState = new Faults(Math.random, options.rateLimit ?? null);
    this.faults = this.faultState;
    this.dispatcher = new WebhookDispatcher(this.state, this.clock, this.timers, this.faultState, {
      retryDelaysMs: this.options.webhookRetryDelaysMs,
      timeoutMs: this.options.webhookTimeoutMs,
      headerStyle: this.options.webhookHeaders,
      recordLimit: this.options.recordLimit,
    });
    this.core = new FlexCore(
      this.state,
      this.clock,
      {
        publicUrl: () => this.publicUrl,
        checkoutSessionLifetimeSeconds: this.options.checkoutSessionLifetimeSeconds,
        authorizationLifetimeSeconds: this.options.authorizationLifetimeSeconds,
        refundSettleDelayMs: this.options.refundSettleDelayMs,
        checkoutSessionCompletedEventName: this.options.checkoutSessionCompletedEventName,
        minimumAmountTotal: this.options.minimumAmountTotal,
        fees: mergeFees(DEFAULT_FEE_SCHEDULE, options.fees ?? {}),
        payoutSchedule: mergePayoutSchedule(DEFAULT_PAYOUT_SCHEDULE, options.payouts ?? {}),
      },
      this.timers,
      (scope, type, object) => void this.dispatcher.publish(scope, type, object),
    );
    this.idempotency = new IdempotencyStore(this.clock);
    for (const account of options.accounts ?? []) this.createAccount(account);
  }

  /** `http://127.0.0.1:<port>`; the API is under `/v1`. Only known once started. */
  get url(): string {
    if (!this.listeningUrl) throw new Error('FlexSandbox: not started');
    return this.listeningUrl;
  }

  get publicUrl(): string {
    return this.options.publicUrl ?? this.url;
  }

  /** Every `/v1` request, oldest first (a live array; see `clearRecords`). */
  get requests(): RequestRecord[] {
    return this.requestLog;
  }

  /** One entry per (event, endpoint) delivery, oldest first, with its attempts. */
  get deliveries(): DeliveryRecord[] {
    return this.dispatcher.deliveries;
  }

  async start(): Promise<this> {
    if (this.server) throw new Error('FlexSandbox: already started');
    this.timers.resume();
    this.dispatcher.resume();
    const app = createApp({
      sandbox: this,
      core: this.core,
      faults: this.faultState,
      idempotency: this.idempotency,
      dispatcher: this.dispatcher,
      record: (request) => {
        this.requestLog.push(request);
        if (this.requestLog.length > this.options.recordLimit * 1.1) {
          this.requestLog.splice(0, this.requestLog.length - this.options.recordLimit);
        }
      },
    });
    const server = http.createServer(app);
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    const host = ['0.0.0.0', '::'].includes(this.options.host) ? '127.0.0.1' : this.options.host;
    this.listeningUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return this;
  }

  /** Clears every timer, aborts deliveries in flight and closes all sockets, hanging ones included. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.timers.stop();
    this.dispatcher.stop();
    await new Promise<void>((resolveClose) => {
      server.close(() => resolveClose());
      server.closeAllConnections();
    });
  }

  // ---- accounts and keys ----------------------------------------------------------------------

  createAccount(input: CreateAccountInput = {}): Account {
    return { ...this.state.createAccount(input) };
  }

  accounts(): Account[] {
    return [...this.state.accounts.values()].map((a) => ({ ...a }));
  }

  /** A new secret key of an existing account, for the same mode (key rotation); objects stay shared. */
  addKey(accountId: string, options: { testMode?: boolean } = {}): string {
    return this.state.addKey(accountId, options.testMode ?? false);
  }

  /** The key answers 401 from now on. */
  revokeKey(key: string): void {
    this.state.revokeKey(key);
  }

  // ---- the buyer ------------------------------------------------------------------------------

  /** What the buyer does on the hosted page. Throws `FlexSandboxError` if the session is not open. */
  pay(checkoutSessionId: string, outcome: PayOutcome | PayOutcomeType): PayResult {
    const session = this.core.sessionById(checkoutSessionId);
    return pay(this.core, session, typeof outcome === 'string' ? { type: outcome } : outcome);
  }

  /** Ends a `processing` payment: completes the session and sends its webhooks (or declines it). */
  completeProcessing(checkoutSessionId: string, options: CompleteProcessingOptions = {}): Wire {
    return completeProcessing(this.core, this.core.sessionById(checkoutSessionId), options);
  }

  /** Expires an open session now (a processing payment on it is canceled). */
  expireCheckoutSession(checkoutSessionId: string): Wire {
    return expireCheckoutSession(this.core, this.core.sessionById(checkoutSessionId));
  }

  // ---- refunds ----------------------------------------------------------------------------------

  settleRefund(refundId: string, status: RefundFinalStatus = 'succeeded'): Wire {
    const refund = this.state.refunds.get(refundId);
    if (!refund) throw new FlexSandboxError('not_found', `No refund ${refundId}`, 404);
    return settleRefund(this.core, refund, status);
  }

  /**
   * How refunds created from now on end: `auto_succeed` (default) and `auto_fail` settle after
   * `refundSettleDelayMs`; `manual` leaves them `pending` until `settleRefund`.
   */
  setRefundBehaviour(behaviour: RefundBehaviour): void {
    if (!['auto_succeed', 'auto_fail', 'manual'].includes(behaviour)) {
      throw new RangeError(`Unknown refund behaviour ${String(behaviour)}`);
    }
    this.core.refundBehaviour = behaviour;
  }

  // ---- the clock --------------------------------------------------------------------------------

  /** Moves the sandbox clock forward (making the payouts of each UTC midnight passed); returns the new `now()`. */
  advanceClock(seconds: number): number {
    this.clock.advance(seconds);
    this.core.ledger.catchUp();
    return this.now();
  }

  /** Sandbox time in epoch seconds (the unit of `created_at`/`expires_at`). */
  now(): number {
    return this.clock.nowSeconds();
  }

  // ---- the catalog --------------------------------------------------------------------------------

  /**
   * Decides the eligibility of products with this GTIN/UPC or name (of every account), as Flex's
   * own lists and reviews would; existing products are judged again. Returns those that changed.
   */
  setProductEligibility(match: EligibilityMatch, eligibility: Eligibility, rationale?: string): Wire[] {
    return this.core.eligibility.set(match, checkEligibility(eligibility), rationale).map(productWire);
  }

  /** Empties the registry of `setProductEligibility`; its products fall back to the keyword rules. */
  clearProductEligibility(): Wire[] {
    return this.core.eligibility.clear().map(productWire);
  }

  /** What `setProductEligibility` registered: `{ key (GTIN-14 or normalized name), by, eligibility, rationale }`. */
  productEligibility(): Array<{ key: string; by: 'gtin' | 'name'; eligibility: Eligibility; rationale: string | null }> {
    return this.core.eligibility.entries();
  }

  product(id: string): Wire {
    const product = this.core.state.products.get(id);
    if (!product) throw new FlexSandboxError('not_found', `No product ${id}`, 404);
    return productWire(product);
  }

  // ---- money after the buyer ----------------------------------------------------------------------

  get feeSchedule(): FeeSchedule {
    const fees = this.core.ledger.fees;
    return { ...fees, hsaFsa: { ...fees.hsaFsa } };
  }

  /** Changes the fees of charges made from now on (merged over the current schedule). */
  setFeeSchedule(fees: Partial<FeeSchedule>): FeeSchedule {
    this.core.ledger.fees = mergeFees(this.core.ledger.fees, fees);
    return this.feeSchedule;
  }

  get payoutSchedule(): PayoutSchedule {
    return { ...this.core.ledger.payoutSchedule };
  }

  /** Changes when charges made from now on become available, and when new payouts arrive. */
  setPayoutSchedule(schedule: Partial<PayoutSchedule>): PayoutSchedule {
    this.core.ledger.payoutSchedule = mergePayoutSchedule(this.core.ledger.payoutSchedule, schedule);
    return this.payoutSchedule;
  }

  /** Pays out now every available balance transaction not yet paid out; returns the new payouts. */
  runPayouts(filter: { accountId?: string; testMode?: boolean } = {}): Wire[] {
    return this.core.ledger.runPayouts(filter).map((id) => this.core.ledger.payoutWire(this.core.state.payouts.get(id)!));
  }

  /** An `adjustment` balance transaction (a correction, a dispute with `reportingCategory: 'dispute'`). */
  addAdjustment(input: Omit<AdjustmentInput, 'testMode'> & { testMode?: boolean }): Wire {
    if (!this.core.state.accounts.has(input.accountId)) throw new FlexSandboxError('not_found', `No account ${input.accountId}`, 404);
    return this.core.ledger.balanceTransactionWire(this.core.ledger.adjust({ ...input, testMode: input.testMode ?? true }));
  }

  /** Wire-shaped payouts, newest first. */
  payouts(filter: { accountId?: string; testMode?: boolean } = {}): Wire[] {
    this.core.ledger.catchUp();
    return this.state
      .list(this.state.payouts, undefined, (p) => matchesOwner(p, filter))
      .map((p) => this.core.ledger.payoutWire(p));
  }

  /** Wire-shaped balance transactions, newest first. */
  balanceTransactions(
    filter: { accountId?: string; testMode?: boolean; payoutId?: string; checkoutSessionId?: string; type?: string } = {},
  ): Wire[] {
    this.core.ledger.catchUp();
    return this.state
      .list(
        this.state.balanceTransactions,
        undefined,
        (bt) =>
          matchesOwner(bt, filter) &&
          (filter.payoutId === undefined || bt.payoutId === filter.payoutId) &&
          (filter.checkoutSessionId === undefined || bt.sessionId === filter.checkoutSessionId) &&
          (filter.type === undefined || bt.type === filter.type),
      )
      .map((bt) => this.core.ledger.balanceTransactionWire(bt));
  }

  // ---- inspection -------------------------------------------------------------------------------

  checkoutSession(id: string): Wire {
    return sessionWire(this.core, this.core.sessionById(id), { paymentIntents: true });
  }

  /** Wire-shaped sessions (payment intents expanded), newest first. */
  checkoutSessions(filter: { accountId?: string; clientReferenceId?: string; testMode?: boolean } = {}): Wire[] {
    return this.state
      .list(this.state.sessions, undefined, (s) => {
        this.core.refresh(s);
        return (
          (filter.accountId === undefined || s.accountId === filter.accountId) &&
          (filter.clientReferenceId === undefined || s.clientReferenceId === filter.clientReferenceId) &&
          (filter.testMode === undefined || s.testMode === filter.testMode)
        );
      })
      .map((s) => sessionWire(this.core, s, { paymentIntents: true }));
  }

  paymentIntents(filter: { checkoutSessionId?: string } = {}): Wire[] {
    return this.state
      .list(this.state.intents, undefined, (pi) => filter.checkoutSessionId === undefined || pi.sessionId === filter.checkoutSessionId)
      .map((pi) => {
        this.core.sessionById(pi.sessionId);
        return intentWire(this.core, pi);
      });
  }

  refunds(filter: { checkoutSessionId?: string; accountId?: string } = {}): Wire[] {
    return this.state
      .list(
        this.state.refunds,
        undefined,
        (r) =>
          (filter.checkoutSessionId === undefined || r.sessionId === filter.checkoutSessionId) &&
          (filter.accountId === undefined || r.accountId === filter.accountId),
      )
      .map(refundWire);
  }

  /** Registered endpoints with their signing secrets (wire shape plus `account_id`). */
  webhookEndpoints(filter: { accountId?: string; testMode?: boolean } = {}): Wire[] {
    return this.state
      .list(
        this.state.webhooks,
        undefined,
        (w) =>
          (filter.accountId === undefined || w.accountId === filter.accountId) &&
          (filter.testMode === undefined || w.testMode === filter.testMode),
      )
      .map((w) => ({ ...webhookWire(w), account_id: w.accountId }));
  }

  /** Every event sent, newest first, with the exact payload the deliveries carry. */
  events(filter: { type?: string; accountId?: string } = {}): Array<{ eventId: string; eventType: string; svixId: string; accountId: string; testMode: boolean; payload: Wire }> {
    return this.state
      .list(
        this.state.events,
        undefined,
        (e) => (filter.type === undefined || e.type === filter.type) && (filter.accountId === undefined || e.accountId === filter.accountId),
      )
      .map((e) => ({ eventId: e.id, eventType: e.type, svixId: e.svixId, accountId: e.accountId, testMode: e.testMode, payload: JSON.parse(e.body) as Wire }));
  }

  /** Sends an event again to its subscribers (or one endpoint), same `svix-id`, full retry schedule. */
  redeliver(eventId: string, options: { webhookId?: string } = {}): DeliveryRecord[] {
    return this.dispatcher.redeliver(eventId, options.webhookId);
  }

  /** Resolves when no webhook delivery is pending (scheduled retries included). */
  waitForDeliveries(options: { timeoutMs?: number } = {}): Promise<void> {
    return this.dispatcher.waitForIdle(options.timeoutMs ?? 10_000);
  }

  /** Empties `requests` and `deliveries` (pending deliveries carry on unrecorded). */
  clearRecords(): void {
    this.requestLog.length = 0;
    this.dispatcher.deliveries.length = 0;
  }

  /** What `GET /__sandbox/state` shows. */
  summary(): Wire {
    const count = <T extends Owned>(table: Table<T>, accountId: string, testMode: boolean): number => table.inScope({ accountId, testMode }).length;
    const perMode = (accountId: string, testMode: boolean): Wire => ({
      products: count(this.state.products, accountId, testMode),
      prices: count(this.state.prices, accountId, testMode),
      checkoutSessions: count(this.state.sessions, accountId, testMode),
      refunds: count(this.state.refunds, accountId, testMode),
      webhooks: count(this.state.webhooks, accountId, testMode),
      events: count(this.state.events, accountId, testMode),
      balanceTransactions: count(this.state.balanceTransactions, accountId, testMode),
      payouts: count(this.state.payouts, accountId, testMode),
    });
    const deliveries = this.dispatcher.deliveries;
    return {
      url: this.listeningUrl ?? null,
      publicUrl: this.listeningUrl || this.options.publicUrl ? this.publicUrl : null,
      now: this.now(),
      nowIso: this.clock.iso(),
      refundBehaviour: this.core.refundBehaviour,
      faults: this.faults.settings,
      fees: this.feeSchedule,
      payoutSchedule: this.payoutSchedule,
      accounts: this.accounts().map((a) => ({ ...a, test: perMode(a.accountId, true), live: perMode(a.accountId, false) })),
      requests: this.requestLog.length,
      deliveries: {
        total: deliveries.length,
        pending: deliveries.filter((d) => !d.done).length,
        delivered: deliveries.filter((d) => d.delivered).length,
        failed: deliveries.filter((d) => d.done && !d.delivered && !d.dropped).length,
        dropped: deliveries.filter((d) => d.dropped).length,
      },
    };
  }
}

function matchesOwner(item: Owned, filter: { accountId?: string; testMode?: boolean }): boolean {
  return (filter.accountId === undefined || item.accountId === filter.accountId) && (filter.testMode === undefined || item.testMode === filter.testMode);
}

/** `new FlexSandbox(options)`, started. */
export async function startFlexSandbox(options: FlexSandboxOptions = {}): Promise<FlexSandbox> {
  return new FlexSandbox(options).start();
}
