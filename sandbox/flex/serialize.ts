import type { FlexCore } from './core';
import type {
  CaptureRec,
  IntentRec,
  LineItemRec,
  PriceRec,
  ProductRec,
  RefundRec,
  SessionRec,
  WebhookRec,
  Wire,
} from './types';

// Wire shapes. Field names follow the Flex reference; checkout sessions use epoch-second integers
// for `created_at`/`expires_at`, every other object ISO-8601 strings. Each object carries `test_mode`.

const iso = (ms: number): string => new Date(ms).toISOString();

export function productWire(p: ProductRec): Wire {
  return {
    product_id: p.id,
    name: p.name,
    description: p.description,
    document_description: null,
    receipt_description: null,
    visit_type: p.visitType,
    active: p.active,
    upc_code: p.upcCode,
    gtin: p.gtin,
    reference_gtin: p.referenceGtin,
    hsa_fsa_eligibility: p.eligibility,
    eligibility_rationale: p.eligibilityRationale,
    url: p.url,
    client_reference_id: p.clientReferenceId,
    image_urls: [...p.imageUrls],
    categories: [...p.categories],
    metadata: { ...p.metadata },
    created_at: iso(p.createdAtMs),
    test_mode: p.testMode,
  };
}

export function priceWire(core: FlexCore, p: PriceRec, expandProduct = false): Wire {
  const product = core.state.products.get(p.productId);
  return {
    price_id: p.id,
    unit_amount: p.unitAmount,
    type: p.recurring ? 'recurring' : 'one_time',
    recurring: p.recurring ? { ...p.recurring } : null,
    trial_period_days: p.recurring?.trial_period_days ?? null,
    description: p.description,
    active: p.active,
    product: expandProduct && product ? productWire(product) : p.productId,
    hsa_fsa_eligibility: product?.eligibility ?? 'not_eligible',
    metadata: { ...p.metadata },
    created_at: iso(p.createdAtMs),
    test_mode: p.testMode,
  };
}

function amountRefunded(core: FlexCore, refundIds: string[], intentId?: string): number {
  let total = 0;
  for (const id of refundIds) {
    const refund = core.state.refunds.get(id);
    // A failed or canceled refund gives the money back to "refundable".
    if (!refund || refund.status === 'failed' || refund.status === 'canceled') continue;
    for (const item of refund.items) if (intentId === undefined || item.intentId === intentId) total += item.amount;
  }
  return total;
}

/** Money still refundable per intent (received minus pending or succeeded refunds). */
export function refundableByIntent(core: FlexCore, session: SessionRec): Map<IntentRec, number> {
  const out = new Map<IntentRec, number>();
  for (const intent of core.intentsOf(session)) {
    out.set(intent, intent.amountReceived - amountRefunded(core, session.refundIds, intent.id));
  }
  return out;
}

export function intentWire(core: FlexCore, pi: IntentRec): Wire {
  const session = core.state.sessions.get(pi.sessionId);
  return {
    payment_intent_id: pi.id,
    checkout_session_id: pi.sessionId,
    amount: pi.amount,
    amount_capturable: pi.amountCapturable,
    amount_received: pi.amountReceived,
    amount_refunded: session ? amountRefunded(core, session.refundIds, pi.id) : 0,
    // Fees appear with the intent's first charge (ledger.ts); before that they are unknown.
    application_fee_amount: pi.fees ? pi.fees.transaction + pi.fees.interchange + pi.fees.letter : null,
    status: pi.status,
    capture_method: pi.captureMethod,
    payment_card_type: pi.cardType,
    payment_method: pi.paymentMethodId,
    latest_charge: pi.status === 'canceled' && pi.amountReceived === 0 ? null : pi.chargeId,
    customer: pi.customerId,
    authorization_expires_at: pi.authorizationExpiresAtMs === null ? null : iso(pi.authorizationExpiresAtMs),
    cancellation_reason: pi.cancellationReason,
    last_payment_error: pi.lastPaymentError ? { ...pi.lastPaymentError } : null,
    letter_fee_amount: pi.fees?.letter ?? 0,
    transaction_fee: pi.fees ? pi.fees.transaction + pi.fees.interchange : null,
    invoice: null,
    client_secret: null,
    transfer_data: null,
    transfer_group: null,
    metadata: {},
    created_at: iso(pi.createdAtMs),
    test_mode: pi.testMode,
  };
}

export function captureWire(c: CaptureRec): Wire {
  return {
    capture_id: c.id,
    checkout_session_id: c.sessionId,
    amount_captured: c.amount,
    amount_tax_captured: c.amountTax,
    amount_shipping_captured: c.amountShipping,
    amount_discount_captured: c.amountDiscount,
    final_capture: c.finalCapture,
    metadata: { ...c.metadata },
    items: c.items.map((item) => ({
      capture_item_id: item.id,
      amount_captured: item.amount,
      price: null,
      payment_intent: item.intentId,
      created_at: iso(c.createdAtMs),
      test_mode: c.testMode,
    })),
    created_at: iso(c.createdAtMs),
    test_mode: c.testMode,
  };
}

export function refundWire(r: RefundRec): Wire {
  return {
    refund_id: r.id,
    amount: r.amount,
    status: r.status,
    checkout_session_id: r.sessionId,
    payment_intent_id: r.items[0]?.intentId ?? null,
    items: r.items.map((item) => ({
      payment_intent: item.intentId,
      payment_method_id: item.paymentMethodId,
      amount_refunded: item.amount,
    })),
    // Not in Flex's docs: which lines a refund by line item took from (assumptions.ts).
    line_items: r.lines.map((line) => ({ line_item_id: line.lineItemId, price: line.priceId, amount_refunded: line.amount })),
    reason: r.reason,
    reference_id: null,
    reference_type: null,
    reference_status: r.status === 'succeeded' ? 'available' : r.status === 'pending' ? 'pending' : 'unavailable',
    metadata: { ...r.metadata },
    created_at: iso(r.createdAtMs),
    test_mode: r.testMode,
  };
}

/** Shipping and `fees[]` belong to the session, not to a line: lines carry 0 for them. */
export function lineItemWire(core: FlexCore, li: LineItemRec, testMode: boolean): Wire {
  const price = core.state.prices.get(li.priceId);
  const subtotal = li.unitAmount * li.quantity;
  return {
    line_item_id: li.id,
    description: li.description,
    quantity: li.quantity,
    amount_subtotal: subtotal,
    amount_discount: li.amountDiscount,
    amount_tax: li.amountTax,
    amount_shipping: 0,
    amount_fee: 0,
    amount_total: subtotal - li.amountDiscount + li.amountTax,
    fees: [],
    price: price ? priceWire(core, price, true) : li.priceId,
    eligibility: li.eligibility,
    shipping_rate: null,
    test_mode: testMode,
  };
}

export interface SessionExpand {
  paymentIntents?: boolean;
  customer?: boolean;
}

export function sessionWire(core: FlexCore, s: SessionRec, expand: SessionExpand = {}): Wire {
  const intents = core.intentsOf(s);
  const first = intents[0];
  const customer =
    expand.customer && s.customerId
      ? {
          customer_id: s.customerId,
          email: s.defaults?.email ?? null,
          first_name: s.defaults?.first_name ?? null,
          last_name: s.defaults?.last_name ?? null,
          phone: s.defaults?.phone ?? null,
          test_mode: s.testMode,
        }
      : s.customerId;
  const eligible = s.lineItems.some((li) => li.eligibility !== 'not_eligible');
  return {
    checkout_session_id: s.id,
    client_reference_id: s.clientReferenceId,
    mode: 'payment',
    status: s.status,
    origin: null,
    test_mode: s.testMode,
    created_at: s.createdAt,
    expires_at: s.expiresAt,
    metadata: { ...s.metadata },
    redirect_url: `${core.config.publicUrl()}/pay/c/${s.id}`,
    success_url: s.successUrl,
    cancel_url: s.cancelUrl,
    amount_subtotal: s.amountSubtotal,
    amount_total: s.amountTotal,
    amount_received: intents.reduce((sum, pi) => sum + pi.amountReceived, 0),
    amount_refunded: amountRefunded(core, s.refundIds),
    amount_disputed: 0,
    total_details: { amount_discount: s.amountDiscount, amount_tax: s.amountTax, amount_shipping: s.amountShipping },
    currency: 'usd',
    capture_method: s.captureMethod,
    payment_intent: first ? (expand.paymentIntents ? intentWire(core, first) : first.id) : null,
    payment_intents: intents.map((pi) => (expand.paymentIntents ? intentWire(core, pi) : pi.id)),
    latest_charge: first && first.amountReceived > 0 ? first.chargeId : null,
    captures: s.captureIds.flatMap((id) => {
      const capture = core.state.captures.get(id);
      return capture ? [captureWire(capture)] : [];
    }),
    refunds: s.refundIds.flatMap((id) => {
      const refund = core.state.refunds.get(id);
      return refund ? [refundWire(refund)] : [];
    }),
    disputes: [],
    customer,
    defaults: s.defaults ? { ...s.defaults } : null,
    hsa_fsa_eligible: eligible,
    letter_of_medical_necessity_required: s.lineItems.some((li) => li.eligibility === 'letter_of_medical_necessity'),
    split_cart: null,
    visit_type: null,
    fees: s.fees.map((f) => ({
      fee_id: f.id,
      amount: f.amount,
      name: f.name,
      description: f.description,
      fee_type: f.feeType,
      applied: true,
    })),
    discounts: s.discounts.map((d) => ({
      coupon_id: d.coupon_id,
      name: d.name,
      amount_off: d.amount_off,
      applies_to: d.appliesTo ? { prices: [...d.appliesTo.prices], products: [...d.appliesTo.products] } : null,
    })),
    shipping_address_collection: s.shippingAddressCollection,
    shipping_options:
      s.shippingDisplayName !== null || s.amountShipping > 0
        ? { shipping_rate_id: null, shipping_amount: s.amountShipping, display_name: s.shippingDisplayName }
        : null,
    shipping_details: null,
    tax_rate: { amount: s.amountTax },
    tax_calculation_mode: 'exclusive',
    allow_promotion_codes: s.allowPromotionCodes,
    custom_text: null,
    subscription_data: null,
    payment_method_options: null,
    setup_intent: null,
    invoice: null,
    subscription: null,
  };
}

export function webhookWire(w: WebhookRec): Wire {
  return {
    webhook_id: w.id,
    url: w.url,
    events: [...w.events],
    signing_secret: w.secret,
    created_at: iso(w.createdAtMs),
    test_mode: w.testMode,
  };
}
