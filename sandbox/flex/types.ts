import type { StringMap } from './validate';

/** A JSON object as it goes over the wire. */
export type Wire = Record<string, unknown>;

/** Every Flex object belongs to one account and one mode; the API key decides both. */
export interface Scope {
  accountId: string;
  testMode: boolean;
}

export interface Owned extends Scope {
  id: string;
  /** Creation order, for newest-first lists and cursors. */
  seq: number;
  createdAtMs: number;
}

export interface Account {
  accountId: string;
  name: string;
  liveKey: string;
  testKey: string;
}

export const ELIGIBILITIES = [
  'not_eligible',
  'auto_substantiation',
  'private_label',
  'vision',
  'prescription',
  'letter_of_medical_necessity',
] as const;
export type Eligibility = (typeof ELIGIBILITIES)[number];

export interface ProductRec extends Owned {
  name: string;
  description: string | null;
  url: string | null;
  upcCode: string | null;
  gtin: string | null;
  referenceGtin: string | null;
  visitType: string | null;
  /** What the classifier decided (see eligibility.ts); re-judged when the product's data changes. */
  eligibility: Eligibility;
  eligibilityRationale: string;
  /** An `hsa_fsa_eligibility` the client sent; it overrides the classifier. */
  requestedEligibility: Eligibility | null;
  clientReferenceId: string | null;
  metadata: StringMap;
  imageUrls: string[];
  categories: string[];
  active: boolean;
}

export interface PriceRec extends Owned {
  productId: string;
  unitAmount: number;
  description: string | null;
  active: boolean;
  recurring: { interval: string; interval_count: number; trial_period_days: number | null } | null;
  metadata: StringMap;
}

export interface LineItemRec {
  id: string;
  priceId: string;
  productId: string;
  description: string;
  quantity: number;
  unitAmount: number;
  /** The product's eligibility when the session was created. */
  eligibility: Eligibility;
  /** This line's part of the session's discounts and tax (see cart.ts). */
  amountDiscount: number;
  amountTax: number;
}

export interface DiscountRec {
  coupon_id: string | null;
  name: string | null;
  amount_off: number;
  /** `coupon_data.applies_to`: the discount counts against these lines only; null = the whole cart. */
  appliesTo: { prices: string[]; products: string[] } | null;
}

export interface FeeRec {
  id: string;
  amount: number;
  name: string | null;
  description: string | null;
  feeType: string;
}

export type SessionStatus = 'open' | 'complete' | 'canceled' | 'expired';
export type CaptureMethod = 'automatic' | 'manual';

export interface SessionRec extends Owned {
  clientReferenceId: string | null;
  successUrl: string;
  cancelUrl: string | null;
  captureMethod: CaptureMethod;
  lineItems: LineItemRec[];
  amountSubtotal: number;
  amountTax: number;
  amountShipping: number;
  shippingDisplayName: string | null;
  amountFees: number;
  fees: FeeRec[];
  amountDiscount: number;
  discounts: DiscountRec[];
  amountTotal: number;
  status: SessionStatus;
  /** Epoch seconds. */
  createdAt: number;
  expiresAt: number;
  metadata: StringMap;
  defaults: StringMap | null;
  allowPromotionCodes: boolean;
  shippingAddressCollection: boolean;
  customerId: string | null;
  paymentIntentIds: string[];
  captureIds: string[];
  refundIds: string[];
  /** The buyer chose "processing": the session stays `open` until `completeProcessing`. */
  processing: boolean;
  /** Set when an uncaptured authorization ran out and its money was released. */
  authorizationExpired: boolean;
}

export type IntentStatus = 'processing' | 'requires_capture' | 'succeeded' | 'canceled';
export type CardType = 'hsa_fsa' | 'primary';

/** Fees Flex kept on an intent's charges so far (see ledger.ts). */
export interface IntentFees {
  transaction: number;
  interchange: number;
  letter: number;
}

export interface IntentRec extends Owned {
  sessionId: string;
  amount: number;
  amountCapturable: number;
  amountReceived: number;
  status: IntentStatus;
  captureMethod: CaptureMethod;
  cardType: CardType;
  paymentMethodId: string;
  last4: string;
  chargeId: string;
  customerId: string | null;
  lastPaymentError: { type: string; code: string; decline_code: string; message: string; payment_method: string } | null;
  authorizationExpiresAtMs: number | null;
  cancellationReason: string | null;
  /** Null until the intent's first charge (automatic capture at checkout, or a capture). */
  fees: IntentFees | null;
}

export interface CaptureRec extends Owned {
  sessionId: string;
  amount: number;
  amountTax: number;
  amountShipping: number;
  amountDiscount: number;
  finalCapture: boolean;
  metadata: StringMap;
  items: Array<{ id: string; intentId: string; amount: number }>;
}

export const REFUND_FINAL_STATUSES = ['succeeded', 'failed', 'canceled'] as const;
export type RefundFinalStatus = (typeof REFUND_FINAL_STATUSES)[number];
export type RefundStatus = 'pending' | RefundFinalStatus;

export interface RefundRec extends Owned {
  sessionId: string;
  amount: number;
  status: RefundStatus;
  items: Array<{ intentId: string; paymentMethodId: string; amount: number }>;
  metadata: StringMap;
  reason: string | null;
  /** A refund by line item: what it took from each line (empty for a refund by amount). */
  lines: Array<{ lineItemId: string; priceId: string; amount: number }>;
}

export interface WebhookRec extends Owned {
  url: string;
  events: string[];
  secret: string;
}

export interface EventRec extends Owned {
  type: string;
  /** The exact JSON body every delivery of this event sends (Svix re-sends the same payload). */
  body: string;
  svixId: string;
}

export type BalanceTransactionType = 'payment' | 'payment_refund' | 'adjustment' | 'payout';

export interface BalanceTransactionRec extends Owned {
  type: BalanceTransactionType;
  reportingCategory: string;
  amount: number;
  transactionFee: number;
  interchangeFee: number;
  lmnFee: number;
  disputeFee: number;
  /** When the net can be paid out (sandbox clock). */
  availableOnMs: number;
  /** The payout that took it (for `type: payout`, its own payout). */
  payoutId: string | null;
  sessionId: string | null;
  clientReferenceId: string | null;
  intentId: string | null;
  sourceId: string;
  cardType: CardType | null;
  description: string | null;
  metadata: StringMap;
}

export interface PayoutRec extends Owned {
  amount: number;
  arrivalDateMs: number;
  balanceTransactionIds: string[];
}
