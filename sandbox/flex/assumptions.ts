import type { Eligibility } from './types';

// What the sandbox does where Flex's documentation (and `shared/reference/flex-api.md`) is silent.
// Each choice lives here, in one place, so it can change when Flex tells us otherwise; the README's
// "Assumptions" list points here. Nothing in this file is known to match production Flex.

// ---- product eligibility -------------------------------------------------------------------------

/**
 * GTIN/UPC codes compare as GTIN-14: digits only (spaces and hyphens dropped), left-padded with
 * zeros. So UPC-A `012345678905` (12 digits), EAN-13 `0012345678905` and GTIN-14
 * `00012345678905` are one product, as GS1 defines. Codes of another length (UPC-E, codes without
 * their check digit) are not matched; check digits are not verified.
 */
export function normalizeGtin(code: string | null | undefined): string | null {
  if (!code) return null;
  const digits = code.replace(/[\s-]/g, '');
  if (!/^\d+$/.test(digits) || ![8, 12, 13, 14].includes(digits.length)) return null;
  return digits.padStart(14, '0');
}

/** Names compare case-insensitively with runs of whitespace collapsed. */
export function normalizeName(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

export interface KeywordRule {
  eligibility: Eligibility;
  /** Why such products qualify, for `eligibility_rationale`. */
  reason: string;
  /** Phrases matched as whole words, case-insensitive; a space also matches a hyphen; plurals match. */
  keywords: string[];
}

/**
 * The default classifier when no GTIN/UPC or name is in the test-controlled registry: the first
 * rule with a keyword in the product's name, description, categories or URL path wins (checked in
 * that order of fields), else `not_eligible`. Loosely modelled on the SIGIS list (auto
 * substantiation) and the dual-use items Flex sells with a letter of medical necessity.
 */
export const ELIGIBILITY_KEYWORD_RULES: KeywordRule[] = [
  {
    eligibility: 'auto_substantiation',
    reason: 'a medical item of a kind on the SIGIS eligible product list',
    keywords: [
      'first aid', 'bandage', 'band aid', 'gauze', 'thermometer', 'sunscreen', 'sunblock',
      'blood pressure monitor', 'pulse oximeter', 'glucose meter', 'glucose monitor', 'test strip',
      'pregnancy test', 'ovulation test', 'covid test', 'contact lens solution', 'reading glasses',
      'eye drop', 'pain relief', 'pain reliever', 'allergy relief', 'cold and flu', 'cough syrup',
      'antacid', 'antibiotic ointment', 'hydrocortisone', 'acne treatment', 'heating pad', 'cold pack',
      'knee brace', 'wrist brace', 'back brace', 'hearing aid', 'breast pump', 'condom', 'tampon',
      'menstrual pad', 'menstrual cup',
    ],
  },
  {
    eligibility: 'vision',
    reason: 'prescription eyewear',
    keywords: ['prescription glasses', 'prescription eyeglasses', 'prescription sunglasses', 'prescription lens', 'contact lens'],
  },
  {
    eligibility: 'prescription',
    reason: 'a prescription item',
    keywords: ['prescription', 'rx only'],
  },
  {
    eligibility: 'letter_of_medical_necessity',
    reason: 'a dual-use item, eligible with a letter of medical necessity',
    keywords: [
      'massage', 'massager', 'fitness', 'gym', 'exercise', 'treadmill', 'yoga', 'pilates', 'sleep',
      'mattress', 'pillow', 'weighted blanket', 'vitamin', 'multivitamin', 'supplement', 'protein',
      'collagen', 'probiotic', 'magnesium', 'fish oil', 'omega 3', 'weight loss', 'air purifier',
      'sauna', 'red light therapy', 'standing desk', 'ergonomic chair', 'cold plunge',
    ],
  },
];

// ---- carts ---------------------------------------------------------------------------------------

/**
 * A split cart puts on the HSA/FSA card the eligible lines' amount after their discounts plus
 * their proportional share of the tax (`tax × eligible ÷ all lines`, after discounts), rounded
 * down; the regular card pays the rest: ineligible lines, their tax, shipping, `fees[]`, and any
 * discount that applies to no line of the cart. Flex does not document its arithmetic.
 */
export function eligibleTaxShare(tax: number, eligibleNet: number, allNet: number): number {
  if (allNet <= 0 || eligibleNet <= 0) return 0;
  return Math.floor((tax * eligibleNet) / allNet);
}

// ---- fees ----------------------------------------------------------------------------------------

export interface CardRates {
  /** Percent of each charge, e.g. 2.9. */
  transactionPercent: number;
  /** Cents per payment intent, taken on its first charge (a later partial capture pays none). */
  transactionFixed: number;
  /** Percent of each charge reported as `interchange_fee_amount`, on top of the transaction fee. */
  interchangePercent: number;
}

export interface FeeSchedule extends CardRates {
  /** Cents per payment that needed a letter of medical necessity, on the HSA/FSA intent's first charge. */
  letterFee: number;
  /** Overrides for charges on an HSA/FSA card (default: the same rates). */
  hsaFsa: Partial<CardRates>;
}

/** Made-up defaults (Stripe's US card price, a $5 letter fee); Flex's real prices are per contract. */
export const DEFAULT_FEE_SCHEDULE: FeeSchedule = {
  transactionPercent: 2.9,
  transactionFixed: 30,
  interchangePercent: 0,
  letterFee: 500,
  hsaFsa: {},
};

/** Percent fees round half up to whole cents. */
export function percentOf(amount: number, percent: number): number {
  return Math.round((amount * Math.round(percent * 10_000)) / 1_000_000);
}

/** Refunds do not give fees back (as on Stripe): a `payment_refund` has `fee: 0`. */
export const REFUNDS_RETURN_FEES = false;

/** Both sandbox test cards (`4242…` and the HSA/FSA `…0072`) are Visa. */
export const CARD_NETWORK = 'visa';

// ---- money movement ------------------------------------------------------------------------------

export interface PayoutSchedule {
  /** A charge's net becomes available at UTC midnight this many days after the charge's day. */
  availableAfterDays: number;
  /** A payout arrives (`in_transit` → `paid`) at UTC midnight this many days after its day. */
  arrivalAfterDays: number;
  /** Pay out every account and mode at each UTC midnight the sandbox clock passes. */
  automatic: boolean;
}

/** "Settles to the bank in 24–72 h" (flex-api.md §9): two days to available, one more to arrive. */
export const DEFAULT_PAYOUT_SCHEDULE: PayoutSchedule = { availableAfterDays: 2, arrivalAfterDays: 1, automatic: true };

export const DAY_MS = 86_400_000;

export function startOfUtcDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/**
 * A payout takes every available balance transaction not yet paid out. When they add up to zero or
 * less (refunds larger than new sales), no payout is made and they wait for the next one.
 */
export function shouldPayOut(net: number): boolean {
  return net > 0;
}

// ---- rate limits ---------------------------------------------------------------------------------

/**
 * Flex documents only "429; the headers say when to retry". The sandbox sends `Retry-After` in
 * whole seconds (at least 1): the time until the bucket holds a token again.
 */
export function retryAfterSeconds(msUntilToken: number): number {
  return Math.max(1, Math.ceil(msUntilToken / 1000));
}

// ---- lists ---------------------------------------------------------------------------------------

/**
 * `GET /v1/products?client_reference_id=&active=` are not in Flex's docs; the sandbox offers them
 * so a client whose create answer was lost can find the product it made (as for checkout sessions).
 */
export const PRODUCT_LIST_FILTERS = ['client_reference_id', 'active'] as const;

// ---- refunds by line item --------------------------------------------------------------------------

/**
 * Flex documents refunds by line item (`line_items[] {price | product, amount_to_refund}`) but not
 * their limits nor how a refund reports them. The sandbox assumes a line gives back at most what was
 * paid for it (its price times quantity, less its discount, plus its tax) less what standing refunds
 * took from it, refusing more with 422 `amount_exceeds_refundable`; and that the refund object lists
 * them as `line_items[] {line_item_id, price, amount_refunded}` (empty for a refund by amount).
 */
export function lineRefundableAmount(line: { unitAmount: number; quantity: number; amountDiscount: number; amountTax: number }): number {
  return line.unitAmount * line.quantity - line.amountDiscount + line.amountTax;
}

