import { z } from 'zod';

/**
 * The parts of Flex's objects the app relies on. Flex adds fields at any time, so every schema is
 * loose: unknown keys pass through and only what we read is checked.
 */

const epochOrIso = z.union([z.number(), z.string()]).nullish();

export const flexPaymentIntentSchema = z.looseObject({
  payment_intent_id: z.string(),
  status: z.string().nullish(),
  amount: z.number().int().nullish(),
  amount_capturable: z.number().int().nullish(),
  amount_received: z.number().int().nullish(),
  capture_method: z.string().nullish(),
  payment_card_type: z.string().nullish(),
  // Not in Flex's public docs: when it is absent we assume a 7-day card authorization (README).
  authorization_expires_at: epochOrIso,
  last_payment_error: z
    .looseObject({
      type: z.string().nullish(),
      code: z.string().nullish(),
      decline_code: z.string().nullish(),
      message: z.string().nullish(),
    })
    .nullish(),
});
export type FlexPaymentIntent = z.infer<typeof flexPaymentIntentSchema>;

export const flexRefundSchema = z.looseObject({
  refund_id: z.string(),
  amount: z.number().int().nullish(),
  status: z.string(),
  checkout_session_id: z.string().nullish(),
  payment_intent_id: z.string().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  test_mode: z.boolean().nullish(),
});
export type FlexRefund = z.infer<typeof flexRefundSchema>;

export const flexCheckoutSessionSchema = z.looseObject({
  checkout_session_id: z.string(),
  status: z.string(),
  redirect_url: z.string().nullish(),
  client_reference_id: z.string().nullish(),
  amount_total: z.number().int().nullish(),
  amount_received: z.number().int().nullish(),
  amount_refunded: z.number().int().nullish(),
  capture_method: z.string().nullish(),
  expires_at: epochOrIso,
  created_at: epochOrIso,
  test_mode: z.boolean().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  payment_intent: z.union([z.string(), flexPaymentIntentSchema]).nullish(),
  payment_intents: z.array(z.union([z.string(), flexPaymentIntentSchema])).nullish(),
  refunds: z.array(z.unknown()).nullish(),
  captures: z.array(z.unknown()).nullish(),
  hsa_fsa_eligible: z.boolean().nullish(),
  letter_of_medical_necessity_required: z.boolean().nullish(),
});
export type FlexCheckoutSession = z.infer<typeof flexCheckoutSessionSchema>;

/** A line of a checkout session (`GET /v1/checkout/sessions/{id}/line_items`), with Flex's eligibility. */
export const flexLineItemSchema = z.looseObject({
  line_item_id: z.string().nullish(),
  description: z.string().nullish(),
  quantity: z.number().int().nullish(),
  amount_total: z.number().int().nullish(),
  eligibility: z.string().nullish(),
  price: z
    .looseObject({
      price_id: z.string().nullish(),
      product: z.union([z.string(), z.looseObject({ product_id: z.string() })]).nullish(),
    })
    .nullish(),
});
export type FlexLineItem = z.infer<typeof flexLineItemSchema>;

/** The product a line was sold as, whether Flex expanded it or not. */
export function lineItemProductId(line: FlexLineItem): string | undefined {
  const product = line.price?.product;
  return typeof product === 'string' ? product : (product?.product_id ?? undefined);
}

export const flexPayoutSchema = z.looseObject({
  payout_id: z.string(),
  status: z.string(),
  amount: z.number().int(),
  arrival_date: z.string(),
  created_at: z.string(),
  currency: z.string().nullish(),
  test_mode: z.boolean().nullish(),
});
export type FlexPayout = z.infer<typeof flexPayoutSchema>;

/** A movement of the merchant's Flex balance (§9): a charge, a refund, an adjustment or the payout itself. */
export const flexBalanceTransactionSchema = z.looseObject({
  balance_transaction_id: z.string(),
  type: z.string(),
  reporting_category: z.string().nullish(),
  amount: z.number().int(),
  fee: z.number().int().nullish(),
  net: z.number().int().nullish(),
  transaction_fee_amount: z.number().int().nullish(),
  interchange_fee_amount: z.number().int().nullish(),
  lmn_fee_amount: z.number().int().nullish(),
  dispute_fee_amount: z.number().int().nullish(),
  card_type: z.string().nullish(),
  checkout_session_id: z.string().nullish(),
  client_reference_id: z.string().nullish(),
  flex_payment_intent_id: z.string().nullish(),
  source_id: z.string().nullish(),
  payout_id: z.string().nullish(),
  currency: z.string().nullish(),
  created_at: z.string(),
});
export type FlexBalanceTransaction = z.infer<typeof flexBalanceTransactionSchema>;

export const flexProductSchema = z.looseObject({
  product_id: z.string(),
  active: z.boolean().nullish(),
  client_reference_id: z.string().nullish(),
  // Flex's judgement of the product (flex-api.md §7): an enum value, and its reason in words.
  hsa_fsa_eligibility: z.string().nullish(),
  eligibility_rationale: z.string().nullish(),
});
export type FlexProduct = z.infer<typeof flexProductSchema>;
export const flexPriceSchema = z.looseObject({
  price_id: z.string(),
  unit_amount: z.number().int().nullish(),
  active: z.boolean().nullish(),
  product: z.union([z.string(), z.looseObject({ product_id: z.string() })]).nullish(),
});
export type FlexPrice = z.infer<typeof flexPriceSchema>;
export const flexWebhookEndpointSchema = z.looseObject({
  webhook_id: z.string(),
  url: z.string().nullish(),
  signing_secret: z.string().nullish(),
});

/** Epoch seconds (Flex's checkout sessions) or ISO-8601 (most other objects) to a Date. */
export function flexTime(value: number | string | null | undefined): Date | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return new Date(value * 1000);
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

/** Expanded payment intents of a session (ids alone carry nothing we can use). */
export function expandedPaymentIntents(session: FlexCheckoutSession): FlexPaymentIntent[] {
  const all = [...(session.payment_intents ?? []), ...(session.payment_intent ? [session.payment_intent] : [])];
  const seen = new Set<string>();
  return all.filter((pi): pi is FlexPaymentIntent => {
    if (typeof pi === 'string' || seen.has(pi.payment_intent_id)) return false;
    seen.add(pi.payment_intent_id);
    return true;
  });
}
