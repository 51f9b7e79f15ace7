import type { FeeSchedule, PayoutSchedule } from './assumptions';
import { EligibilityClassifier } from './eligibility';
import { FlexSandboxError, notFound } from './errors';
import type { Clock } from './clock';
import { Ledger } from './ledger';
import type { FlexState } from './state';
import type { Timers } from './timers';
import type { IntentRec, Scope, SessionRec, Wire } from './types';

export interface CoreConfig {
  /** Read lazily: with `port: 0` the public URL is known only once the server listens. */
  publicUrl(): string;
  checkoutSessionLifetimeSeconds: number;
  authorizationLifetimeSeconds: number;
  refundSettleDelayMs: number;
  checkoutSessionCompletedEventName: string;
  minimumAmountTotal: number;
  fees: FeeSchedule;
  payoutSchedule: PayoutSchedule;
}

export type RefundBehaviour = 'auto_succeed' | 'auto_fail' | 'manual';

export type EventSink = (scope: Scope, type: string, object: Wire) => void;

/**
 * What the business operations share: the store, the clock, the configuration, timers, the
 * eligibility classifier, the ledger (fees, balance transactions, payouts), and the outlet for
 * events. Time-driven transitions (expiry of sessions and authorizations, funds becoming
 * available, payouts) are applied lazily when objects are read, so advancing the clock needs no timers.
 */
export class FlexCore {
  refundBehaviour: RefundBehaviour = 'auto_succeed';
  readonly eligibility = new EligibilityClassifier();
  readonly ledger: Ledger;

  constructor(
    readonly state: FlexState,
    readonly clock: Clock,
    readonly config: CoreConfig,
    readonly timers: Timers,
    private readonly sink: EventSink,
  ) {
    this.ledger = new Ledger(state, clock, config.fees, config.payoutSchedule);
  }

  emit(scope: Scope, type: string, object: Wire): void {
    this.sink(scope, type, object);
  }

  session(scope: Scope, id: string): SessionRec {
    const session = this.state.find(this.state.sessions, scope, id);
    this.refresh(session);
    return session;
  }

  /** For the hosted page and the control API, which act for the buyer or the test, not an API key. */
  sessionById(id: string): SessionRec {
    const session = this.state.sessions.get(id);
    if (!session) throw new FlexSandboxError('not_found', `No checkout session ${id}`, 404);
    this.refresh(session);
    return session;
  }

  /** The session's payment intents, HSA/FSA card first (the order captures and refunds use). */
  intentsOf(session: SessionRec): IntentRec[] {
    const intents = session.paymentIntentIds.map((id) => {
      const intent = this.state.intents.get(id);
      if (!intent) throw notFound();
      return intent;
    });
    return intents.sort((a, b) => (a.cardType === b.cardType ? a.seq - b.seq : a.cardType === 'hsa_fsa' ? -1 : 1));
  }

  refresh(session: SessionRec): void {
    const now = this.clock.nowMs();
    if (session.status === 'open' && !session.processing && now >= session.expiresAt * 1000) {
      session.status = 'expired';
    }
    if (session.status !== 'complete' || session.captureMethod !== 'manual') return;
    for (const intent of this.intentsOf(session)) {
      if (intent.status !== 'requires_capture' || intent.authorizationExpiresAtMs === null) continue;
      if (now < intent.authorizationExpiresAtMs) continue;
      // Like Stripe: an authorization that is not captured in time is released.
      intent.amountCapturable = 0;
      intent.status = intent.amountReceived > 0 ? 'succeeded' : 'canceled';
      if (intent.status === 'canceled') intent.cancellationReason = 'automatic';
      session.authorizationExpired = true;
    }
  }
}
