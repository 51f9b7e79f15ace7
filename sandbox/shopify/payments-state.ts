// Shopify's side of the payment, refund, capture and void sessions, and the rules its mutations
// enforce. Kept free of HTTP and GraphQL so the rules read in one place.

export type PaymentKind = 'sale' | 'authorization';
export type PaymentSessionStatus = 'redirecting' | 'pending' | 'resolved' | 'rejected';
export type FollowUpKind = 'refund' | 'capture' | 'void';
export type FollowUpStatus = 'requested' | 'resolved' | 'rejected';

/** What the app answered to one delivery of a session request. */
export interface AppAnswer {
  at: string;
  requestId: string;
  status: number;
  body: unknown;
  error?: string;
}

export interface PaymentSessionRecord {
  shop: string;
  id: string;
  gid: string;
  group: string;
  sessionId: string;
  kind: PaymentKind;
  amount: string;
  currency: string;
  test: boolean;
  customerEmail: string | null;
  /** The checkout whose cart this payment is for (`runCheckout`); null for a bare `sendPaymentSession`. */
  checkoutToken: string | null;
  /** An edit the merchant makes to the order right after Shopify creates it (`orderEdit` of the input). */
  orderEdit: { title: string; amountCents: number } | null;
  /** Exactly what was sent last (after the test's overrides). */
  requestBody: unknown;
  createdAt: string;
  status: PaymentSessionStatus;
  rejection: { code: string; merchantMessage: string | null; source: string | null } | null;
  pending: { reason: string; expiresAt: string } | null;
  authorizationExpiresAt: string | null;
  networkTransactionId: string | null;
  finalizedAt: string | null;
  /** `redirect_url` from the app's last successful answer. */
  redirectUrl: string | null;
  answers: AppAnswer[];
}

export interface FollowUpSessionRecord {
  kind: FollowUpKind;
  shop: string;
  id: string;
  gid: string;
  paymentId: string;
  amount: string | null;
  currency: string;
  test: boolean;
  requestBody: unknown;
  createdAt: string;
  status: FollowUpStatus;
  rejection: { code: string; merchantMessage: string | null } | null;
  finalizedAt: string | null;
  answers: AppAnswer[];
}

export type RuleViolation =
  | 'not_found'
  | 'invalid_state'
  | 'expired_pending_expires_at'
  | 'out_of_range_pending_expires_at';

export interface MutationOutcome<T> {
  /** The session as it stands after the call (null when it does not exist for this shop). */
  session: T | null;
  violation?: { kind: RuleViolation; message: string; field: string[] };
}

export const PENDING_LIMIT_MS = 3 * 24 * 60 * 60 * 1000;

export const GID_PREFIX: Record<'payment' | FollowUpKind, string> = {
  payment: 'gid://shopify/PaymentSession/',
  refund: 'gid://shopify/RefundSession/',
  capture: 'gid://shopify/CaptureSession/',
  void: 'gid://shopify/VoidSession/',
};

type Listener = () => void;

/** A session reached a final state for the first time (repeats of the same mutation do not count). */
export type Transition =
  | { kind: 'payment'; session: PaymentSessionRecord; status: 'resolved' | 'rejected' }
  | { kind: FollowUpKind; session: FollowUpSessionRecord; status: 'resolved' | 'rejected' };

export class PaymentsState {
  private readonly payments = new Map<string, PaymentSessionRecord>();
  private readonly followUps = new Map<string, FollowUpSessionRecord>();
  private readonly listeners = new Set<Listener>();
  private readonly transitionListeners = new Set<(transition: Transition) => void>();

  constructor(private readonly now: () => Date) {}

  // Keyed by shop as well: a gid of another shop must read as "not found".
  private static key(shop: string, gid: string): string {
    return `${shop.toLowerCase()} ${gid}`;
  }

  /** Called after every state change; used by the `waitFor…` helpers. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called once per session when it becomes resolved or rejected (Shopify then creates the order, records the refund…). */
  onTransition(listener: (transition: Transition) => void): () => void {
    this.transitionListeners.add(listener);
    return () => this.transitionListeners.delete(listener);
  }

  private transitioned(transition: Transition): void {
    for (const listener of [...this.transitionListeners]) listener(transition);
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  addPayment(record: PaymentSessionRecord): PaymentSessionRecord {
    this.payments.set(PaymentsState.key(record.shop, record.gid), record);
    this.changed();
    return record;
  }

  addFollowUp(record: FollowUpSessionRecord): FollowUpSessionRecord {
    this.followUps.set(PaymentsState.key(record.shop, record.gid), record);
    this.changed();
    return record;
  }

  recordAnswer(session: PaymentSessionRecord | FollowUpSessionRecord, answer: AppAnswer): void {
    session.answers.push(answer);
    if ('redirectUrl' in session && answer.status >= 200 && answer.status < 300) {
      const url = (answer.body as { redirect_url?: unknown } | null)?.redirect_url;
      if (typeof url === 'string') session.redirectUrl = url;
    }
    this.changed();
  }

  payment(shop: string, gid: string): PaymentSessionRecord | undefined {
    return this.payments.get(PaymentsState.key(shop, gid));
  }

  followUp(kind: FollowUpKind, shop: string, gid: string): FollowUpSessionRecord | undefined {
    const found = this.followUps.get(PaymentsState.key(shop, gid));
    return found?.kind === kind ? found : undefined;
  }

  /** Finds a payment session by its `id` or `gid`, in any shop unless one is given. */
  findPayment(idOrGid: string, shop?: string): PaymentSessionRecord | undefined {
    return this.listPayments(shop).find((p) => p.id === idOrGid || p.gid === idOrGid);
  }

  findFollowUp(idOrGid: string, shop?: string): FollowUpSessionRecord | undefined {
    return this.listFollowUps(undefined, shop).find((s) => s.id === idOrGid || s.gid === idOrGid);
  }

  listPayments(shop?: string): PaymentSessionRecord[] {
    const all = [...this.payments.values()];
    return shop ? all.filter((p) => p.shop === shop.toLowerCase()) : all;
  }

  listFollowUps(kind?: FollowUpKind, shop?: string): FollowUpSessionRecord[] {
    return [...this.followUps.values()].filter(
      (s) => (!kind || s.kind === kind) && (!shop || s.shop === shop.toLowerCase()),
    );
  }

  resolvePayment(
    shop: string,
    gid: string,
    args: { authorizationExpiresAt?: string | null; networkTransactionId?: string | null },
  ): MutationOutcome<PaymentSessionRecord> {
    const session = this.payment(shop, gid);
    if (!session) return notFound('payment');
    if (session.status === 'resolved') return { session };
    if (session.status === 'rejected') {
      return conflict(session, 'The payment session has already been rejected');
    }
    session.status = 'resolved';
    session.pending = null;
    session.authorizationExpiresAt = args.authorizationExpiresAt ?? null;
    session.networkTransactionId = args.networkTransactionId ?? null;
    session.finalizedAt = this.now().toISOString();
    this.transitioned({ kind: 'payment', session, status: 'resolved' });
    this.changed();
    return { session };
  }

  rejectPayment(
    shop: string,
    gid: string,
    reason: { code: string; merchantMessage?: string | null; source?: string | null },
  ): MutationOutcome<PaymentSessionRecord> {
    const session = this.payment(shop, gid);
    if (!session) return notFound('payment');
    if (session.status === 'resolved') {
      return conflict(session, 'The payment session has already been resolved');
    }
    // Shopify: "Subsequent paymentSessionReject mutation attempts will succeed, but the
    // RejectionReasonInput argument will be ignored" — unlike refund/capture/void rejects below.
    if (session.status === 'rejected') return { session };
    session.status = 'rejected';
    session.pending = null;
    session.rejection = {
      code: reason.code,
      merchantMessage: reason.merchantMessage ?? null,
      source: reason.source ?? null,
    };
    session.finalizedAt = this.now().toISOString();
    this.transitioned({ kind: 'payment', session, status: 'rejected' });
    this.changed();
    return { session };
  }

  pendPayment(
    shop: string,
    gid: string,
    args: { pendingExpiresAt: string; reason: string },
  ): MutationOutcome<PaymentSessionRecord> {
    const session = this.payment(shop, gid);
    if (!session) return notFound('payment');
    if (session.status === 'resolved' || session.status === 'rejected') {
      return conflict(session, `The payment session has already been ${session.status}`);
    }
    const expiresAt = Date.parse(args.pendingExpiresAt);
    const now = this.now().getTime();
    if (expiresAt <= now) {
      return {
        session,
        violation: {
          kind: 'expired_pending_expires_at',
          message: 'pendingExpiresAt must be in the future',
          field: ['pendingExpiresAt'],
        },
      };
    }
    if (expiresAt > now + PENDING_LIMIT_MS) {
      return {
        session,
        violation: {
          kind: 'out_of_range_pending_expires_at',
          message: 'pendingExpiresAt must be at most 3 days from now',
          field: ['pendingExpiresAt'],
        },
      };
    }
    session.status = 'pending';
    session.pending = { reason: args.reason, expiresAt: args.pendingExpiresAt };
    this.changed();
    return { session };
  }

  resolveFollowUp(kind: FollowUpKind, shop: string, gid: string): MutationOutcome<FollowUpSessionRecord> {
    const session = this.followUp(kind, shop, gid);
    if (!session) return notFound(kind);
    if (session.status === 'resolved') return { session };
    if (session.status === 'rejected') return conflict(session, `The ${kind} session has already been rejected`);
    session.status = 'resolved';
    session.finalizedAt = this.now().toISOString();
    this.transitioned({ kind, session, status: 'resolved' });
    this.changed();
    return { session };
  }

  rejectFollowUp(
    kind: FollowUpKind,
    shop: string,
    gid: string,
    reason: { code: string; merchantMessage?: string | null },
  ): MutationOutcome<FollowUpSessionRecord> {
    const session = this.followUp(kind, shop, gid);
    if (!session) return notFound(kind);
    if (session.status === 'resolved') return conflict(session, `The ${kind} session has already been resolved`);
    if (session.status === 'rejected') {
      if (session.rejection?.code === reason.code) return { session };
      return conflict(session, `The ${kind} session has already been rejected with a different reason`);
    }
    session.status = 'rejected';
    session.rejection = { code: reason.code, merchantMessage: reason.merchantMessage ?? null };
    session.finalizedAt = this.now().toISOString();
    this.transitioned({ kind, session, status: 'rejected' });
    this.changed();
    return { session };
  }
}

function notFound<T>(kind: 'payment' | FollowUpKind): MutationOutcome<T> {
  return {
    session: null,
    violation: { kind: 'not_found', message: `The ${kind} session could not be found`, field: ['id'] },
  };
}

function conflict<T>(session: T, message: string): MutationOutcome<T> {
  return { session, violation: { kind: 'invalid_state', message, field: ['id'] } };
}
