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
  eligibility: Eligibility;
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
  eligibility: Eligibility;
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
  discounts: Array<{ coupon_id: string | null; name: string | null; amount_off: number }>;
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
