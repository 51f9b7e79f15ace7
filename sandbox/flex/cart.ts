import { eligibleTaxShare } from './assumptions';
import type { DiscountRec, LineItemRec, SessionRec } from './types';

// How a cart's money divides between its lines and between the buyer's two cards. Session totals
// are exact sums of what the client sent; the per-line split of discounts and tax is the sandbox's
// (the rule is in assumptions.ts), and always adds up to the session's amounts.

export type CartKind = 'all_eligible' | 'mixed' | 'none_eligible';

export const isEligible = (li: LineItemRec): boolean => li.eligibility !== 'not_eligible';

const net = (li: LineItemRec): number => li.unitAmount * li.quantity - li.amountDiscount;

/**
 * `amount` spread over `weights` in proportion, whole cents, exact sum (largest remainder, earlier
 * lines first on ties). All-zero weights take nothing.
 */
export function spread(amount: number, weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0 || amount <= 0) return weights.map(() => 0);
  const exact = weights.map((w) => (amount * w) / total);
  const out = exact.map(Math.floor);
  let left = amount - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, frac: x - Math.floor(x) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    out[i]++;
    left--;
  }
  return out;
}

function appliesTo(discount: DiscountRec, li: LineItemRec): boolean {
  if (!discount.appliesTo) return true;
  return discount.appliesTo.prices.includes(li.priceId) || discount.appliesTo.products.includes(li.productId);
}

/**
 * Fills each line's `amountDiscount` and `amountTax`. A discount goes to the lines it applies to
 * (all lines without `applies_to`), in proportion to what is left of them, never below zero; a
 * discount that applies to no line of the cart stays on the session. The tax goes first to the
 * eligible and ineligible lines as groups (the eligible group's share rounded down), then within
 * each group in proportion to the lines' amounts after discounts.
 */
export function allocateCart(lines: LineItemRec[], discounts: DiscountRec[], tax: number): void {
  for (const li of lines) {
    li.amountDiscount = 0;
    li.amountTax = 0;
  }
  for (const discount of discounts) {
    const targets = lines.filter((li) => appliesTo(discount, li));
    const room = targets.reduce((sum, li) => sum + net(li), 0);
    const shares = spread(Math.min(discount.amount_off, room), targets.map(net));
    targets.forEach((li, i) => (li.amountDiscount += shares[i]));
  }
  const eligible = lines.filter(isEligible);
  const ineligible = lines.filter((li) => !isEligible(li));
  const eligibleNet = eligible.reduce((sum, li) => sum + net(li), 0);
  const allNet = eligibleNet + ineligible.reduce((sum, li) => sum + net(li), 0);
  const eligibleTax = ineligible.length === 0 ? tax : eligibleTaxShare(tax, eligibleNet, allNet);
  for (const [group, amount] of [
    [eligible, eligibleTax],
    [ineligible, tax - eligibleTax],
  ] as const) {
    const shares = spread(amount, group.map(net));
    group.forEach((li, i) => (li.amountTax = shares[i]));
  }
}

export function cartKind(session: SessionRec): CartKind {
  const eligible = session.lineItems.filter(isEligible).length;
  if (eligible === 0) return 'none_eligible';
  return eligible === session.lineItems.length ? 'all_eligible' : 'mixed';
}

/** The HSA/FSA card's part of a split cart: eligible lines after their discounts, plus their tax. */
export function eligibleShare(session: SessionRec): number {
  return session.lineItems.filter(isEligible).reduce((sum, li) => sum + net(li) + li.amountTax, 0);
}

/** The outcome the hosted page offers first for this cart. */
export function recommendedOutcome(session: SessionRec): 'hsa_fsa' | 'split' | 'card' {
  const kind = cartKind(session);
  if (kind === 'none_eligible') return 'card';
  if (kind === 'all_eligible') return 'hsa_fsa';
  const share = eligibleShare(session);
  if (share <= 0) return 'card';
  return share >= session.amountTotal ? 'hsa_fsa' : 'split';
}

/**
 * The HSA/FSA card's amount in a `split` without an explicit amount: the eligible share, when it
 * leaves something for the regular card; otherwise (no eligible line, or nothing else to pay) half
 * of the total, rounded down, so a test can still split any cart.
 */
export function defaultHsaFsaShare(session: SessionRec): number {
  const share = eligibleShare(session);
  return share > 0 && share < session.amountTotal ? share : Math.floor(session.amountTotal / 2);
}
