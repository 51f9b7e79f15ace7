import { lineRefundableAmount } from './assumptions';
import { readPage, type Query } from './catalog';
import type { FlexCore } from './core';
import { FlexSandboxError, refused } from './errors';
import { newId } from './ids';
import { captureWire, intentWire, refundableByIntent, refundWire, sessionWire } from './serialize';
import { pageNewestFirst } from './table';
import type { CaptureRec, IntentRec, LineItemRec, RefundFinalStatus, RefundRec, Scope, SessionRec, Wire } from './types';
import { Input, envelope, type Rec } from './validate';

// Money after checkout: capture and void of manual-capture sessions, and refunds. Both captures
// and refunds are spread over the session's payment intents HSA/FSA card first, as Flex does.

interface AmountRequest {
  /** Undefined: "everything there is" (full capture, full refund). */
  amount: number | undefined;
  tax: number;
  shipping: number;
  discount: number;
  /** The lines named (refunds by line item), with the amount asked for each. */
  lines: Array<{ line: LineItemRec; amount: number }>;
}

function readAmount(v: Input, input: Rec | undefined, session: SessionRec, perItemKey: string): AmountRequest {
  const loc = ['checkout_session'];
  const amount = v.int(input, 'amount', loc, { min: 1 });
  const tax = v.int(input, 'amount_tax', loc, { min: 0 }) ?? 0;
  const shipping = v.int(input, 'amount_shipping', loc, { min: 0 }) ?? 0;
  const discount = v.int(input, 'amount_discount', loc, { min: 0 }) ?? 0;
  const items = v.list(input, 'line_items', loc);
  if (amount !== undefined || !items) return { amount, tax, shipping, discount, lines: [] };

  let sum = 0;
  const lines: AmountRequest['lines'] = [];
  for (const { item, loc: itemLoc } of v.records(items, [...loc, 'line_items'])) {
    const price = v.string(item, 'price', itemLoc);
    const product = v.string(item, 'product', itemLoc);
    if (price === undefined && product === undefined) {
      v.add(itemLoc, 'Either price or product is required', 'missing');
      continue;
    }
    const line = session.lineItems.find((li) => (price !== undefined ? li.priceId === price : li.productId === product));
    if (!line) {
      v.add([...itemLoc, price !== undefined ? 'price' : 'product'], 'line_item_not_found: not a line item of this checkout session', 'line_item_not_found');
      continue;
    }
    // Leaving out the per-item amount means the whole line.
    const lineAmount = v.int(item, perItemKey, itemLoc, { min: 0 }) ?? line.unitAmount * line.quantity;
    sum += lineAmount;
    lines.push({ line, amount: lineAmount });
  }
  const total = sum + tax + shipping - discount;
  if (v.issues.length === 0 && total < 1) v.add(loc, 'The line items add up to nothing', 'greater_than_equal');
  return { amount: total, tax, shipping, discount, lines };
}

/** Splits `amount` over the intents in order (HSA/FSA first), each up to its own limit. */
function allocate(limits: Array<[IntentRec, number]>, amount: number): Array<[IntentRec, number]> {
  let left = amount;
  return limits.map(([intent, limit]) => {
    const take = Math.min(left, limit);
    left -= take;
    return [intent, take];
  });
}

const allocationsWire = (shares: Array<[IntentRec, number]>): Wire => ({
  allocations: shares.map(([intent, amount]) => ({ payment_method_id: intent.paymentMethodId, last4: intent.last4, amount })),
});

// ---- capture ----------------------------------------------------------------------------------

export function capture(core: FlexCore, scope: Scope, id: string, body: unknown, preview = false): Wire {
  const session = core.session(scope, id);
  const v = new Input();
  const input = envelope(v, body, 'checkout_session', false);
  const loc = ['checkout_session'];
  const request = readAmount(v, input, session, 'amount_to_capture');
  // Like Stripe, a capture releases what it leaves uncaptured unless told it is not the last.
  const finalCapture = v.bool(input, 'final_capture', loc) ?? true;
  const metadata = v.stringMap(input, 'capture_metadata', loc) ?? v.stringMap(input, 'metadata', loc) ?? {};
  v.done();

  if (session.status !== 'complete') {
    throw refused('checkout_session_not_complete', `Checkout session ${session.id} is ${session.status}`);
  }
  if (session.captureMethod !== 'manual') {
    throw refused('checkout_session_not_capturable', 'capture_method is automatic: the payment was captured at checkout');
  }
  if (session.authorizationExpired) {
    throw refused('authorization_expired', 'The authorization expired before it was captured; the hold was released');
  }
  const intents = core.intentsOf(session);
  const capturable = intents.reduce((sum, pi) => sum + pi.amountCapturable, 0);
  if (capturable === 0) {
    const received = intents.reduce((sum, pi) => sum + pi.amountReceived, 0);
    throw received > 0
      ? refused('already_captured', 'Nothing left to capture: the authorization was already captured')
      : refused('checkout_session_not_capturable', 'Nothing to capture: the authorization was canceled');
  }
  const amount = request.amount ?? capturable;
  if (amount > capturable) {
    throw refused('amount_exceeds_capturable', `amount ${amount} exceeds the capturable ${capturable}`, [...loc, 'amount']);
  }
  const shares = allocate(
    intents.map((pi) => [pi, pi.amountCapturable]),
    amount,
  );
  if (preview) return allocationsWire(shares.filter(([pi]) => pi.amountCapturable > 0));

  for (const [intent, take] of shares) {
    intent.amountCapturable -= take;
    intent.amountReceived += take;
    if (finalCapture) intent.amountCapturable = 0;
    if (take > 0) core.ledger.charge(session, intent, take);
  }
  const record: CaptureRec = {
    ...core.state.owned(session, 'fcap_', core.clock.nowMs()),
    sessionId: session.id,
    amount,
    amountTax: request.tax,
    amountShipping: request.shipping,
    amountDiscount: request.discount,
    finalCapture,
    metadata,
    items: shares.filter(([, take]) => take > 0).map(([intent, take]) => ({ id: newId('fcapi_'), intentId: intent.id, amount: take })),
  };
  core.state.captures.set(record.id, record);
  session.captureIds.push(record.id);
  for (const intent of intents) {
    if (intent.status !== 'requires_capture' || intent.amountCapturable > 0) continue;
    if (intent.amountReceived > 0) {
      intent.status = 'succeeded';
      core.emit(session, 'payment_intent.succeeded', { payment_intent: intentWire(core, intent) });
    } else {
      intent.status = 'canceled';
      intent.cancellationReason = 'released';
    }
  }
  return { checkout_session: sessionWire(core, session) };
}

export function getCapture(core: FlexCore, scope: Scope, id: string): Wire {
  return { capture: captureWire(core.state.find(core.state.captures, scope, id)) };
}

export function listCaptures(core: FlexCore, scope: Scope, query: Query): Wire {
  const v = new Input();
  const page = readPage(v, query);
  v.done();
  const { captures } = core.state;
  const candidates = core.state.ofSession(scope, captures, query.checkout_session, (s) => s.captureIds);
  return { captures: pageNewestFirst(candidates, page, (id) => captures.get(id)).map(captureWire) };
}

// ---- cancel (void) ----------------------------------------------------------------------------

export function cancel(core: FlexCore, scope: Scope, id: string): Wire {
  const session = core.session(scope, id);
  if (session.status === 'canceled') return { checkout_session: sessionWire(core, session) };
  if (session.status === 'expired') {
    throw refused('checkout_session_expired', `Checkout session ${session.id} expired; there is nothing to cancel`);
  }
  const intents = core.intentsOf(session);
  if (intents.some((pi) => pi.amountReceived > 0)) {
    throw refused('already_captured', 'Money was already captured; refund it instead');
  }
  for (const intent of intents) {
    if (intent.status === 'requires_capture' || intent.status === 'processing') {
      intent.status = 'canceled';
      intent.amountCapturable = 0;
      intent.cancellationReason = 'requested_by_customer';
    }
  }
  session.status = 'canceled';
  session.processing = false;
  return { checkout_session: sessionWire(core, session) };
}

// ---- refunds ----------------------------------------------------------------------------------

export function refund(core: FlexCore, scope: Scope, id: string, body: unknown, preview = false): Wire {
  const session = core.session(scope, id);
  const v = new Input();
  const input = envelope(v, body, 'checkout_session', false);
  const loc = ['checkout_session'];
  const request = readAmount(v, input, session, 'amount_to_refund');
  const metadata = v.stringMap(input, 'refund_metadata', loc) ?? {};
  const reason = v.oneOf(input, 'reason', loc, ['duplicate', 'fraudulent', 'requested_by_customer'] as const) ?? null;
  v.done();

  if (session.status !== 'complete') {
    throw refused('checkout_session_not_complete', `Checkout session ${session.id} is ${session.status}, not complete`);
  }
  const refundable = [...refundableByIntent(core, session)];
  const total = refundable.reduce((sum, [, left]) => sum + left, 0);
  const amount = request.amount ?? total;
  if (total === 0) throw refused('amount_exceeds_refundable', 'Nothing left to refund', [...loc, 'amount']);
  if (amount > total) {
    throw refused('amount_exceeds_refundable', `amount ${amount} exceeds the refundable ${total}`, [...loc, 'amount']);
  }
  // A line gives back at most what was paid for it (its price less its discount, plus its tax),
  // less what refunds still standing already took from it (assumptions.ts).
  for (const { line, amount: asked } of request.lines) {
    const left = lineRefundableAmount(line) - refundedFromLine(core, session, line.id);
    if (asked > left) {
      throw refused('amount_exceeds_refundable', `line ${line.id} (${line.description}): ${asked} asked, ${Math.max(0, left)} left to refund`, [...loc, 'line_items']);
    }
  }
  const shares = allocate(refundable, amount);
  if (preview) return allocationsWire(shares.filter(([pi]) => pi.amountReceived > 0));

  const record: RefundRec = {
    ...core.state.owned(session, 'fre_', core.clock.nowMs()),
    sessionId: session.id,
    amount,
    status: 'pending',
    items: shares
      .filter(([, take]) => take > 0)
      .map(([intent, take]) => ({ intentId: intent.id, paymentMethodId: intent.paymentMethodId, amount: take })),
    metadata,
    reason,
    lines: request.lines.map(({ line, amount: lineAmount }) => ({ lineItemId: line.id, priceId: line.priceId, amount: lineAmount })),
  };
  core.state.refunds.set(record.id, record);
  session.refundIds.push(record.id);
  core.emit(session, 'refund.created', { refund: refundWire(record) });

  // The behaviour in force when the refund is created decides how it ends.
  const behaviour = core.refundBehaviour;
  if (behaviour !== 'manual') {
    core.timers.after(core.config.refundSettleDelayMs, () => {
      if (record.status === 'pending') settleRefund(core, record, behaviour === 'auto_fail' ? 'failed' : 'succeeded');
    });
  }
  return { refunds: [refundWire(record)] };
}

function refundedFromLine(core: FlexCore, session: SessionRec, lineItemId: string): number {
  let taken = 0;
  for (const id of session.refundIds) {
    const refund = core.state.refunds.get(id);
    if (!refund || refund.status === 'failed' || refund.status === 'canceled') continue;
    for (const line of refund.lines) if (line.lineItemId === lineItemId) taken += line.amount;
  }
  return taken;
}

export function settleRefund(core: FlexCore, record: RefundRec, status: RefundFinalStatus): Wire {
  if (record.status !== 'pending') {
    if (record.status === status) return refundWire(record);
    throw new FlexSandboxError('refund_already_final', `Refund ${record.id} is already ${record.status}`, 409);
  }
  record.status = status;
  if (status === 'succeeded') core.ledger.refunded(record);
  const object = { refund: refundWire(record) };
  core.emit(record, 'refund.updated', object);
  core.emit(record, 'charge.refund.updated', object);
  return refundWire(record);
}

export function getRefund(core: FlexCore, scope: Scope, id: string): Wire {
  return { refund: refundWire(core.state.find(core.state.refunds, scope, id)) };
}

export function listRefunds(core: FlexCore, scope: Scope, query: Query): Wire {
  const v = new Input();
  const page = readPage(v, query);
  if (query.status !== undefined) v.oneOf(query, 'status', ['query'], ['pending', 'requires_action', 'succeeded', 'failed', 'canceled']);
  v.done();
  const { refunds } = core.state;
  const candidates = core.state.ofSession(scope, refunds, query.checkout_session, (s) => s.refundIds);
  const items = pageNewestFirst(
    candidates,
    page,
    (id) => refunds.get(id),
    (r) =>
      (query.payment_intent === undefined || r.items.some((i) => i.intentId === query.payment_intent)) &&
      (query.status === undefined || r.status === query.status),
  );
  return { refunds: items.map(refundWire) };
}
