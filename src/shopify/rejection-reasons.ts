/**
 * PaymentSessionStateRejectedReason values differ by API version; sending one the version does
 * not know fails the whole mutation. These are the codes we may send, per version.
 */
const BASE_CODES = [
  'AUTHENTICATION_FAILED', 'CARD_DECLINED', 'CONFIRMATION_REJECTED', 'EXPIRED_CARD', 'INCORRECT_ADDRESS',
  'INCORRECT_CVC', 'INCORRECT_NUMBER', 'INCORRECT_PIN', 'INCORRECT_ZIP', 'INVALID_CVC', 'INVALID_EXPIRY_DATE',
  'INVALID_NUMBER', 'PROCESSING_ERROR',
] as const;

const CODES_2026_07 = [
  'AMOUNT_TOO_LARGE', 'AMOUNT_TOO_SMALL', 'AUTHENTICATION_REQUIRED', 'CALL_ISSUER', 'CANCELLED_PAYMENT',
  'CARD_TESTING', 'DO_NOT_HONOR', 'FRAUD_SUSPECTED', 'HIGH_RISK_FRAUD_SUSPECTED', 'INSTRUMENT_DECLINED',
  'INSUFFICIENT_FUNDS', 'INVALID_AMOUNT', 'INVALID_CURRENCY', 'INVALID_PAYMENT_METHOD', 'INVALID_PURCHASE_TYPE',
  'INVALID_REQUEST', 'MERCHANT_ACCOUNT_ERROR', 'MERCHANT_RULE', 'PAYMENT_METHOD_UNSUPPORTED', 'PICK_UP_CARD',
  'RETRY_DECLINED', 'TRANSACTION_LIMIT_EXCEEDED',
] as const;

export type RejectionCode = (typeof BASE_CODES)[number] | (typeof CODES_2026_07)[number];

export function rejectionCodesFor(apiVersion: string): ReadonlySet<RejectionCode> {
  const codes: RejectionCode[] = [...BASE_CODES];
  if (apiVersion >= '2026-07') codes.push(...CODES_2026_07);
  return new Set(codes);
}

/** Card-network decline codes (Stripe's vocabulary, which Flex's payment errors use) to Shopify's. */
const DECLINE_CODE_MAP: Record<string, RejectionCode[]> = {
  insufficient_funds: ['INSUFFICIENT_FUNDS', 'CARD_DECLINED'],
  do_not_honor: ['DO_NOT_HONOR', 'CARD_DECLINED'],
  expired_card: ['EXPIRED_CARD'],
  incorrect_cvc: ['INCORRECT_CVC'],
  invalid_cvc: ['INVALID_CVC'],
  incorrect_number: ['INCORRECT_NUMBER'],
  invalid_number: ['INVALID_NUMBER'],
  incorrect_zip: ['INCORRECT_ZIP'],
  incorrect_pin: ['INCORRECT_PIN'],
  invalid_expiry_month: ['INVALID_EXPIRY_DATE'],
  invalid_expiry_year: ['INVALID_EXPIRY_DATE'],
  fraudulent: ['FRAUD_SUSPECTED', 'CARD_DECLINED'],
  stolen_card: ['PICK_UP_CARD', 'CARD_DECLINED'],
  lost_card: ['PICK_UP_CARD', 'CARD_DECLINED'],
  pickup_card: ['PICK_UP_CARD', 'CARD_DECLINED'],
  call_issuer: ['CALL_ISSUER', 'CARD_DECLINED'],
  card_velocity_exceeded: ['TRANSACTION_LIMIT_EXCEEDED', 'CARD_DECLINED'],
  withdrawal_count_limit_exceeded: ['TRANSACTION_LIMIT_EXCEEDED', 'CARD_DECLINED'],
  try_again_later: ['RETRY_DECLINED', 'CARD_DECLINED'],
  authentication_required: ['AUTHENTICATION_REQUIRED', 'AUTHENTICATION_FAILED'],
  card_not_supported: ['PAYMENT_METHOD_UNSUPPORTED', 'CARD_DECLINED'],
  generic_decline: ['CARD_DECLINED'],
};

/** The most precise rejection code the API version accepts for a card decline. */
export function rejectionCodeForDecline(declineCode: string | undefined, apiVersion: string): RejectionCode {
  const allowed = rejectionCodesFor(apiVersion);
  const candidates = (declineCode && DECLINE_CODE_MAP[declineCode]) || ['CARD_DECLINED'];
  return candidates.find((c) => allowed.has(c)) ?? 'CARD_DECLINED';
}
