import { allocateCart, defaultHsaFsaShare } from './cart';
import { readPage, type Query } from './catalog';
import type { FlexCore } from './core';
import { FlexSandboxError, invalid } from './errors';
import { newId } from './ids';
import { intentWire, lineItemWire, sessionWire, type SessionExpand } from './serialize';
import { pageNewestFirst } from './table';
import type { CardType, DiscountRec, FeeRec, IntentRec, LineItemRec, PriceRec, Scope, SessionRec, Wire } from './types';
import { Input, envelope, type Rec, type StringMap } from './validate';

export const PAY_OUTCOMES = ['hsa_fsa', 'split', 'card', 'decline', 'abandon', 'processing'] as const;
export type PayOutcomeType = (typeof PAY_OUTCOMES)[number];

export interface PayOutcome {
  type: PayOutcomeType;
  /** `split` only: the HSA/FSA card's share, in cents. */
  hsaFsaAmount?: number;
  /** `decline` only; default `insufficient_funds`. */
  declineCode?: string;
}

export interface PayResult {
  /** Where the buyer's browser goes next (`success_url` with the id, or `cancel_url`); null if nowhere. */
  redirectTo: string | null;
  checkoutSession: Wire;
}

export interface CompleteProcessingOptions {
  /** `declined` ends the processing payment with a card decline instead. Default `succeeded`. */
  result?: 'succeeded' | 'declined';
  declineCode?: string;
}

const CARD_LAST4: Record<CardType, string> = { hsa_fsa: '0072', primary: '4242' };
const SESSION_STATUSES = ['open', 'paid', 'complete', 'canceled', 'expired'] as const;

export function readExpand(query: Query): SessionExpand {
  const list = (query.expand ?? '').split(',').map((s) => s.trim());
  return {
    paymentIntents:
      query.expand_payment_intent === 'true' || list.includes('payment_intent') || list.includes('payment_intents'),
    customer: query.expand_customer === 'true' || list.includes('customer'),
  };
}

/**
 * Line items of a new session. Inline `price_data` prices are returned in `newPrices` rather than
 * stored, so a refused request leaves the catalog as it was.
 */
function readLineItems(
  core: FlexCore,
  scope: Scope,
  v: Input,
  items: unknown[],
  loc: (string | number)[],
): { lineItems: LineItemRec[]; newPrices: PriceRec[] } {
  const out: LineItemRec[] = [];
  const newPrices: PriceRec[] = [];
  let unknownPrice = false;
  for (const { item, loc: itemLoc } of v.records(items, loc)) {
    const quantity = v.int(item, 'quantity', itemLoc, { min: 1 }) ?? 1;
    let price: PriceRec | undefined;
    const priceData = v.object(item, 'price_data', itemLoc);
    if (priceData) {
      // Inline prices become one-off, inactive price objects so line items can point at them.
      const dataLoc = [...itemLoc, 'price_data'];
      const productId = v.string(priceData, 'product', dataLoc, { required: true });
      const unitAmount = v.int(priceData, 'unit_amount', dataLoc, { required: true, min: 0 });
      const product = productId === undefined ? undefined : core.state.products.get(productId);
      // A deactivated product is sold no more: like one that does not exist.
      if (productId !== undefined && (!product || product.accountId !== scope.accountId || product.testMode !== scope.testMode || !product.active)) {
        v.add([...dataLoc, 'product'], 'product_not_found: The product does not exist', 'product_not_found');
      } else if (product && unitAmount !== undefined) {
        price = {
          ...core.state.owned(scope, 'fprice_', core.clock.nowMs()),
          productId: product.id,
          unitAmount,
          description: null,
          active: false,
          recurring: null,
          metadata: {},
        };
        newPrices.push(price);
      }
    } else {
      const priceId = v.string(item, 'price', itemLoc, { required: true });
      if (priceId === undefined) continue;
      const found = core.state.prices.get(priceId);
      // Flex refuses prices it no longer knows; the plugin deactivates a price when it replaces it,
      // so an inactive price (or a price of a deactivated product) is treated the same way.
      const product = found && core.state.products.get(found.productId);
      if (!found || found.accountId !== scope.accountId || found.testMode !== scope.testMode || !found.active || !product?.active) {
        unknownPrice = true;
        continue;
      }
      price = found;
    }
    if (!price) continue;
    const product = core.state.products.get(price.productId);
    out.push({
      id: newId('fli_'),
      priceId: price.id,
      productId: price.productId,
      description: product?.name ?? 'Item',
      quantity,
      unitAmount: price.unitAmount,
      eligibility: product?.eligibility ?? 'not_eligible',
      amountDiscount: 0,
      amountTax: 0,
    });
  }
  if (unknownPrice) {
    // The exact shape production Flex answers with (seen by the official WooCommerce plugin).
    v.add(['price'], 'price_not_found: One or more prices are not valid', 'price_not_found');
  }
  return { lineItems: out, newPrices };
}

export function createCheckoutSession(core: FlexCore, scope: Scope, body: unknown): Wire {
  const v = new Input();
  const input = envelope(v, body, 'checkout_session', true);
  const loc = ['checkout_session'];
  const mode = v.string(input, 'mode', loc);
  if (mode !== undefined && mode !== 'payment') {
    v.add([...loc, 'mode'], `mode_not_supported: the Flex sandbox supports mode "payment" only, not "${mode}"`, 'mode_not_supported');
  }
  const itemsIn = v.list(input, 'line_items', loc, { required: true, minItems: 1 });
  const { lineItems, newPrices } = itemsIn
    ? readLineItems(core, scope, v, itemsIn, [...loc, 'line_items'])
    : { lineItems: [], newPrices: [] };
  const successUrl = v.url(input, 'success_url', loc, { required: true });
  const cancelUrl = v.url(input, 'cancel_url', loc) ?? null;
  const captureMethod = v.oneOf(input, 'capture_method', loc, ['automatic', 'manual'] as const) ?? 'automatic';
  const clientReferenceId = v.string(input, 'client_reference_id', loc, { maxLength: 500 }) ?? null;
  const metadata = v.stringMap(input, 'metadata', loc) ?? {};
  const defaults = readDefaults(v, input, loc);
  const amountTax = v.int(v.object(input, 'tax_rate', loc), 'amount', [...loc, 'tax_rate'], { min: 0 }) ?? 0;
  const shipping = readShipping(v, input, loc);
  const fees = readFees(v, input, loc);
  const discounts = readDiscounts(v, input, loc);
  const allowPromotionCodes = v.bool(input, 'allow_promotion_codes', loc) ?? false;
  const shippingAddressCollection = v.bool(input, 'shipping_address_collection', loc) ?? false;
  v.done();

  const amountSubtotal = lineItems.reduce((sum, li) => sum + li.unitAmount * li.quantity, 0);
  const amountFees = fees.reduce((sum, f) => sum + f.amount, 0);
  const amountDiscount = discounts.reduce((sum, d) => sum + d.amount_off, 0);
  const amountTotal = amountSubtotal + amountTax + shipping.amount + amountFees - amountDiscount;
  allocateCart(lineItems, discounts, amountTax);
  if (amountTotal < core.config.minimumAmountTotal) {
    throw invalid([
      {
        loc,
        msg: `checkout_amount_too_low: amount_total ${amountTotal} is below the minimum of ${core.config.minimumAmountTotal}`,
        type: 'checkout_amount_too_low',
      },
    ]);
  }
  for (const price of newPrices) core.state.prices.set(price.id, price);
  const now = core.clock.nowMs();
  const createdAt = Math.floor(now / 1000);
  const session: SessionRec = {
    ...core.state.owned(scope, 'fcs_', now),
    clientReferenceId,
    successUrl: successUrl as string,
    cancelUrl,
    captureMethod,
    lineItems,
    amountSubtotal,
    amountTax,
    amountShipping: shipping.amount,
    shippingDisplayName: shipping.displayName,
    amountFees,
    fees,
    amountDiscount,
    discounts,
    amountTotal,
    status: 'open',
    createdAt,
    expiresAt: createdAt + core.config.checkoutSessionLifetimeSeconds,
    metadata,
    defaults,
    allowPromotionCodes,
    shippingAddressCollection,
    customerId: null,
    paymentIntentIds: [],
    captureIds: [],
    refundIds: [],
    processing: false,
    authorizationExpired: false,
  };
  core.state.sessions.set(session.id, session);
  if (clientReferenceId !== null) core.state.sessionsByReference.add(core.state.byReference(scope, clientReferenceId), session);
  return { checkout_session: sessionWire(core, session) };
}

function readDefaults(v: Input, input: Rec | undefined, loc: string[]): StringMap | null {
  const defaults = v.object(input, 'defaults', loc);
  if (!defaults) return null;
  const out: StringMap = {};
  for (const key of ['customer_id', 'email', 'first_name', 'last_name', 'phone']) {
    const value = v.string(defaults, key, [...loc, 'defaults']);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function readShipping(v: Input, input: Rec | undefined, loc: string[]): { amount: number; displayName: string | null } {
  const options = v.object(input, 'shipping_options', loc);
  if (!options) return { amount: 0, displayName: null };
  const optLoc = [...loc, 'shipping_options'];
  if (options.shipping_rate_id !== undefined && options.shipping_rate_id !== null) {
    v.add([...optLoc, 'shipping_rate_id'], 'shipping_rate_not_found: the sandbox has no shipping rates; use shipping_rate_data', 'shipping_rate_not_found');
    return { amount: 0, displayName: null };
  }
  const data = v.object(options, 'shipping_rate_data', optLoc, true);
  const dataLoc = [...optLoc, 'shipping_rate_data'];
  const displayName = v.string(data, 'display_name', dataLoc) ?? null;
  const amount = v.int(data, 'amount', dataLoc, { required: true, min: 0 }) ?? 0;
  return { amount, displayName };
}

function readFees(v: Input, input: Rec | undefined, loc: string[]): FeeRec[] {
  const list = v.list(input, 'fees', loc);
  if (!list) return [];
  return v.records(list, [...loc, 'fees']).map(({ item, loc: feeLoc }) => ({
    id: newId('ffee_'),
    amount: v.int(item, 'amount', feeLoc, { required: true, min: 0 }) ?? 0,
    name: v.string(item, 'name', feeLoc) ?? null,
    description: v.string(item, 'description', feeLoc) ?? null,
    feeType: v.string(item, 'fee_type', feeLoc) ?? 'custom',
  }));
}

function readDiscounts(v: Input, input: Rec | undefined, loc: string[]): DiscountRec[] {
  const list = v.list(input, 'discounts', loc);
  if (!list) return [];
  const out: DiscountRec[] = [];
  for (const { item, loc: dLoc } of v.records(list, [...loc, 'discounts'])) {
    if (item.coupon_id !== undefined && item.coupon_id !== null) {
      v.add([...dLoc, 'coupon_id'], 'coupon_not_found: the sandbox has no coupons; use coupon_data', 'coupon_not_found');
      continue;
    }
    const data = v.object(item, 'coupon_data', dLoc, true);
    if (!data) continue;
    const dataLoc = [...dLoc, 'coupon_data'];
    const amountOff = v.int(data, 'amount_off', dataLoc, { required: true });
    if (amountOff !== undefined && amountOff <= 0) {
      v.add([...dataLoc, 'amount_off'], 'coupon_amount_must_be_positive: Coupon amount must be positive', 'coupon_amount_must_be_positive');
      continue;
    }
    // `applies_to` (the plugin sends prices; coupons document products): which lines it reduces.
    const scopeIn = v.object(data, 'applies_to', dataLoc);
    const appliesTo = scopeIn
      ? {
          prices: v.stringList(scopeIn, 'prices', [...dataLoc, 'applies_to']) ?? [],
          products: v.stringList(scopeIn, 'products', [...dataLoc, 'applies_to']) ?? [],
        }
      : null;
    const name = v.string(data, 'name', dataLoc) ?? null;
    if (amountOff !== undefined) out.push({ coupon_id: null, name, amount_off: amountOff, appliesTo });
  }
  return out;
}

export function getCheckoutSession(core: FlexCore, scope: Scope, id: string, query: Query): Wire {
  return { checkout_session: sessionWire(core, core.session(scope, id), readExpand(query)) };
}

export function listCheckoutSessions(core: FlexCore, scope: Scope, query: Query): Wire {
  const v = new Input();
  const page = readPage(v, query);
  if (query.status !== undefined) v.oneOf(query, 'status', ['query'], SESSION_STATUSES);
  v.done();
  const { state } = core;
  const ref = query.client_reference_id;
  const candidates = ref === undefined ? state.sessions.inScope(scope) : state.sessionsByReference.get(state.byReference(scope, ref));
  const sessions = pageNewestFirst(
    candidates,
    page,
    (id) => state.sessions.get(id),
    (s) => {
      core.refresh(s);
      return (
        (query.status === undefined || s.status === query.status) &&
        (query.payment_intent === undefined || s.paymentIntentIds.includes(query.payment_intent)) &&
        (query.customer === undefined || s.customerId === query.customer)
      );
    },
  );
  const expand = readExpand(query);
  return { checkout_sessions: sessions.map((s) => sessionWire(core, s, expand)) };
}

export function getLineItems(core: FlexCore, scope: Scope, id: string): Wire {
  const session = core.session(scope, id);
  return { line_items: session.lineItems.map((li) => lineItemWire(core, li, session.testMode)) };
}

export function getPaymentIntent(core: FlexCore, scope: Scope, id: string): Wire {
  const intent = core.state.find(core.state.intents, scope, id);
  core.sessionById(intent.sessionId);
  return { payment_intent: intentWire(core, intent) };
}

export function listPaymentIntents(core: FlexCore, scope: Scope, query: Query): Wire {
  const v = new Input();
  const page = readPage(v, query);
  v.done();
  const { intents } = core.state;
  const candidates = core.state.ofSession(scope, intents, query.checkout_session, (s) => s.paymentIntentIds);
  const found = pageNewestFirst(candidates, page, (id) => intents.get(id), (pi) => {
    // Reading a session applies what time did to its intents (released authorizations).
    core.sessionById(pi.sessionId);
    return query.customer === undefined || pi.customerId === query.customer;
  });
  return { payment_intents: found.map((pi) => intentWire(core, pi)) };
}

// ---- the buyer's side ---------------------------------------------------------------------------

export function successRedirect(session: SessionRec): string {
  return session.successUrl.split('{CHECKOUT_SESSION_ID}').join(session.id);
}

function newIntent(core: FlexCore, session: SessionRec, cardType: CardType, amount: number): IntentRec {
  const intent: IntentRec = {
    ...core.state.owned(session, 'fpi_', core.clock.nowMs()),
    sessionId: session.id,
    amount,
    amountCapturable: 0,
    amountReceived: 0,
    status: 'processing',
    captureMethod: session.captureMethod,
    cardType,
    paymentMethodId: newId('fpm_'),
    last4: CARD_LAST4[cardType],
    chargeId: newId('fch_'),
    customerId: session.customerId,
    lastPaymentError: null,
    authorizationExpiresAtMs: null,
    cancellationReason: null,
    fees: null,
  };
  core.state.intents.set(intent.id, intent);
  session.paymentIntentIds.push(intent.id);
  return intent;
}

function decline(session: SessionRec, intent: IntentRec, declineCode: string): void {
  intent.status = 'canceled';
  intent.cancellationReason = 'failed_payment';
  intent.lastPaymentError = {
    type: 'card_error',
    code: 'card_declined',
    decline_code: declineCode,
    message: 'Your card was declined.',
    payment_method: intent.paymentMethodId,
  };
  session.status = 'canceled';
  session.processing = false;
}

/** All intents went through: money taken (automatic) or held (manual); the session completes. */
function complete(core: FlexCore, session: SessionRec, intents: IntentRec[]): void {
  const now = core.clock.nowMs();
  for (const intent of intents) {
    if (session.captureMethod === 'automatic') {
      intent.status = 'succeeded';
      intent.amountReceived = intent.amount;
      core.ledger.charge(session, intent, intent.amount);
    } else {
      intent.status = 'requires_capture';
      intent.amountCapturable = intent.amount;
      intent.authorizationExpiresAtMs = now + core.config.authorizationLifetimeSeconds * 1000;
    }
  }
  session.status = 'complete';
  session.processing = false;
  // `payment_intent.succeeded` means money moved: for manual capture it is sent on capture.
  for (const intent of intents) {
    if (intent.status === 'succeeded') core.emit(session, 'payment_intent.succeeded', { payment_intent: intentWire(core, intent) });
  }
  core.emit(session, core.config.checkoutSessionCompletedEventName, { checkout_session: sessionWire(core, session) });
}

export function pay(core: FlexCore, session: SessionRec, outcome: PayOutcome): PayResult {
  if (!(PAY_OUTCOMES as readonly string[]).includes(outcome.type)) {
    throw new FlexSandboxError('invalid_outcome', `Unknown outcome ${String(outcome.type)}; use one of ${PAY_OUTCOMES.join(', ')}`, 400);
  }
  if (session.status !== 'open' || session.processing) {
    const state = session.processing ? 'processing a payment' : session.status;
    throw new FlexSandboxError('checkout_session_not_open', `Checkout session ${session.id} is ${state}`, 409);
  }
  const result = (redirectTo: string | null): PayResult => ({ redirectTo, checkoutSession: sessionWire(core, session) });
  if (outcome.type === 'abandon') return result(session.cancelUrl);

  // The first intent's amount: the whole total, or the HSA/FSA card's part of a split.
  let firstAmount = session.amountTotal;
  if (outcome.type === 'split') {
    firstAmount = outcome.hsaFsaAmount ?? defaultHsaFsaShare(session);
    if (!Number.isSafeInteger(firstAmount) || firstAmount < 1 || firstAmount >= session.amountTotal) {
      throw new FlexSandboxError(
        'invalid_split',
        `hsaFsaAmount must be an integer between 1 and ${session.amountTotal - 1} cents, got ${firstAmount}`,
        400,
      );
    }
  }
  session.customerId ??= newId('fcus_');
  // `card`: a cart with nothing eligible (or a buyer without their HSA card) pays by regular card.
  const intents = [newIntent(core, session, outcome.type === 'card' ? 'primary' : 'hsa_fsa', firstAmount)];
  if (outcome.type === 'split') intents.push(newIntent(core, session, 'primary', session.amountTotal - firstAmount));

  switch (outcome.type) {
    case 'decline':
      decline(session, intents[0], outcome.declineCode ?? 'insufficient_funds');
      return result(session.cancelUrl);
    case 'processing':
      session.processing = true;
      return result(successRedirect(session));
    default:
      complete(core, session, intents);
      return result(successRedirect(session));
  }
}

export function completeProcessing(core: FlexCore, session: SessionRec, options: CompleteProcessingOptions = {}): Wire {
  if (session.status !== 'open' || !session.processing) {
    throw new FlexSandboxError('not_processing', `Checkout session ${session.id} has no processing payment (status ${session.status})`, 409);
  }
  const intents = core.intentsOf(session).filter((pi) => pi.status === 'processing');
  if (options.result === 'declined') decline(session, intents[0], options.declineCode ?? 'insufficient_funds');
  else complete(core, session, intents);
  return sessionWire(core, session);
}

export function expireCheckoutSession(core: FlexCore, session: SessionRec): Wire {
  if (session.status !== 'open') {
    throw new FlexSandboxError('checkout_session_not_open', `Checkout session ${session.id} is ${session.status}`, 409);
  }
  for (const intent of core.intentsOf(session)) {
    if (intent.status === 'processing') {
      intent.status = 'canceled';
      intent.cancellationReason = 'abandoned';
    }
  }
  session.processing = false;
  session.status = 'expired';
  session.expiresAt = Math.min(session.expiresAt, core.clock.nowSeconds());
  return sessionWire(core, session);
}
