import { z } from 'zod';
import type { Repositories } from '../../db/repositories';
import type { OrderRefundRecord } from '../../db/repositories/order-refunds';
import type { PaymentCartLineInput, StoredPaymentCart } from '../../db/repositories/payment-carts';
import type { RefundSessionRecord } from '../../db/repositories/refund-sessions';
import { formatMoney } from '../../lib/money';

/**
 * Refunds by line (README "Refunds by line"). Shopify's refund session carries a payment id and an
 * amount, nothing about lines; the order's refund (`refunds/create`) has the lines. Nothing
 * documented joins them, so a refund session takes the oldest order refund of its payment with its
 * amount that no other session took. The refund then goes to Flex by line: the amount (less the
 * shipping it gives back) spread over the lines Shopify refunded, in proportion to what Shopify gave
 * back for each, whole cents, the leftover cents one by one round the lines (as Flex's own plugin
 * does), so the HSA/FSA substantiation record stays right. Each line gives back at most what was
 * paid for it, less what refunds by line already took from it; checked with the payment's row locked.
 */

export const refundLineBreakdownSchema = z.object({
  lines: z.array(z.object({ flexPriceId: z.string(), shopifyVariantId: z.string(), amountMinor: z.number().int().min(0) })).min(1),
  shippingMinor: z.number().int().min(0),
});
export type RefundLineBreakdown = z.infer<typeof refundLineBreakdownSchema>;

export type RefundLinesReason =
  | 'payment_went_to_flex_as_one_line'
  | 'order_refund_not_found'
  | 'refund_lines_not_in_flex_checkout'
  | 'refund_gives_back_no_line';

export const REFUND_LINES_EXPLANATIONS: Record<RefundLinesReason, string> = {
  payment_went_to_flex_as_one_line: 'the payment reached Flex as one line for the order total',
  order_refund_not_found: "Shopify's refund of the order (which says which lines) did not arrive in time",
  refund_lines_not_in_flex_checkout: 'a refunded line is not one of the lines Flex was sent',
  refund_gives_back_no_line: 'the refund gives back shipping only',
};

export type RefundLinesDecision =
  | { kind: 'by_line'; breakdown: RefundLineBreakdown }
  | { kind: 'by_amount'; reason: RefundLinesReason }
  /** The order's refund may still be on its way: ask again shortly. */
  | { kind: 'wait' }
  /** More than a line has left to give back: the refund is refused. */
  | { kind: 'refuse'; message: string };

/** `amount` over `weights` in whole units: proportional shares rounded down, then the leftover one by one round the lines in order. */
export function spreadRoundRobin(amount: number, weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (weights.length === 0) return [];
  const shares = total > 0 ? weights.map((w) => Math.floor((amount * w) / total)) : weights.map(() => Math.floor(amount / weights.length));
  let left = amount - shares.reduce((a, b) => a + b, 0);
  for (let i = 0; left > 0; i = (i + 1) % shares.length, left--) shares[i]!++;
  return shares;
}

/** Proportional shares, largest remainder first (how a cart-wide amount such as tax belongs to its lines). */
function spreadLargestRemainder(amount: number, weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return weights.map(() => 0);
  const exact = weights.map((w) => (amount * w) / total);
  const shares = exact.map(Math.floor);
  let left = amount - shares.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, frac: x - Math.floor(x) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (left-- <= 0) break;
    shares[i]!++;
  }
  return shares;
}

/** What each line of the Flex checkout can give back at most: its price less its discount, plus its share of the tax. */
export function lineRefundLimits(cart: Extract<StoredPaymentCart, { source: 'CART' }>): Map<string, number> {
  const nets = cart.lines.map((l) => l.unitAmountMinor * l.quantity - l.discountMinor);
  const tax = spreadLargestRemainder(cart.taxMinor, nets);
  return new Map(cart.lines.map((l, i) => [l.flexPriceId, nets[i]! + tax[i]!]));
}

/**
 * The breakdown of one refund over its order refund's lines, or why it cannot go by line. Pure:
 * `refundedBefore` is what earlier refunds by line of the payment took from each Flex price.
 */
export function breakDownRefund(
  refund: Pick<RefundSessionRecord, 'amountMinor' | 'currency'>,
  orderRefund: Pick<OrderRefundRecord, 'lines' | 'shippingMinor'>,
  cart: Extract<StoredPaymentCart, { source: 'CART' }>,
  refundedBefore: ReadonlyMap<string, number>,
): RefundLinesDecision {
  const byVariant = new Map<string, PaymentCartLineInput>(cart.lines.map((l) => [l.shopifyVariantId, l]));
  const chosen = new Map<string, { line: PaymentCartLineInput; weight: number }>();
  for (const refunded of orderRefund.lines) {
    if (refunded.quantity === 0) continue;
    const line = refunded.variantId ? byVariant.get(refunded.variantId) : undefined;
    if (!line) return { kind: 'by_amount', reason: 'refund_lines_not_in_flex_checkout' };
    const entry = chosen.get(line.flexPriceId) ?? { line, weight: 0 };
    entry.weight += refunded.subtotalMinor + refunded.taxMinor;
    chosen.set(line.flexPriceId, entry);
  }
  if (chosen.size === 0) return { kind: 'by_amount', reason: 'refund_gives_back_no_line' };
  const shippingMinor = Math.min(orderRefund.shippingMinor, cart.shippingMinor, refund.amountMinor);
  const entries = [...chosen.values()];
  const amounts = spreadRoundRobin(refund.amountMinor - shippingMinor, entries.map((e) => e.weight));
  const limits = lineRefundLimits(cart);
  for (const [i, { line }] of entries.entries()) {
    const left = (limits.get(line.flexPriceId) ?? 0) - (refundedBefore.get(line.flexPriceId) ?? 0);
    if (amounts[i]! > left) {
      return {
        kind: 'refuse',
        message: `The refund would give back ${formatMoney(amounts[i]!, refund.currency)} for "${line.title}", which has ${formatMoney(Math.max(0, left), refund.currency)} left to refund. No money was returned to the buyer.`,
      };
    }
  }
  return {
    kind: 'by_line',
    breakdown: { lines: entries.map(({ line }, i) => ({ flexPriceId: line.flexPriceId, shopifyVariantId: line.shopifyVariantId, amountMinor: amounts[i]! })), shippingMinor },
  };
}

/**
 * Decides how a refund goes to Flex, in the transaction `tx` with the payment's row locked (so two
 * refunds of one line at once are checked one after the other), and records it on the refund
 * session. `waitMs`: how long after the refund session arrived its order refund may still come.
 */
export async function decideRefundLines(tx: Repositories, refund: RefundSessionRecord, now: Date, waitMs: number): Promise<RefundLinesDecision> {
  await tx.ledger.lock(refund.paymentSessionId);
  const cart = await tx.paymentCarts.find(refund.paymentSessionId);
  if (cart?.source !== 'CART') return { kind: 'by_amount', reason: 'payment_went_to_flex_as_one_line' };
  const orderRefund = (await tx.orderRefunds.findForRefundSession(refund.id)) ?? (await tx.orderRefunds.claim(refund.paymentSessionId, refund.id, refund.amountMinor));
  if (!orderRefund) return now.getTime() - refund.createdAt.getTime() < waitMs ? { kind: 'wait' } : { kind: 'by_amount', reason: 'order_refund_not_found' };
  const refundedBefore = new Map<string, number>();
  for (const other of await tx.refunds.listForPayment(refund.paymentSessionId)) {
    if (other.id === refund.id || other.status === 'REJECTED' || other.status === 'FAILED') continue;
    const parsed = refundLineBreakdownSchema.safeParse(other.lineBreakdown);
    if (!parsed.success) continue;
    for (const line of parsed.data.lines) refundedBefore.set(line.flexPriceId, (refundedBefore.get(line.flexPriceId) ?? 0) + line.amountMinor);
  }
  return breakDownRefund(refund, orderRefund, cart, refundedBefore);
}
