import type { CartSnapshotInput } from '../db/repositories/cart-snapshots';
import { parseDecimalAmount } from '../lib/money';

/**
 * How long a captured cart stays joinable. A buyer who leaves checkout for longer starts a new
 * payment session anyway, and the snapshot holds no buyer data, but nothing needs it after a day.
 */
export const CART_SNAPSHOT_LIFETIME_MS = 24 * 60 * 60 * 1000;

/** What a source (pixel post, checkout webhook) says about a checkout, before it is tied to a shop. */
export type CartSnapshotDraft = Omit<CartSnapshotInput, 'shopId' | 'receivedAt' | 'expiresAt'>;

export function toSnapshotInput(draft: CartSnapshotDraft, now: Date): Omit<CartSnapshotInput, 'shopId'> {
  return {
    ...draft,
    // A description from the future (a wrong clock, a forged post) must not stop newer ones from replacing it.
    observedAt: draft.observedAt.getTime() > now.getTime() ? now : draft.observedAt,
    receivedAt: now,
    expiresAt: new Date(now.getTime() + CART_SNAPSHOT_LIFETIME_MS),
  };
}

/** Minor units of a money value given as a decimal string or a JSON number; null if it is not an exact amount of `currency`. */
export function minorOf(amount: string | number | null | undefined, currency: string): number | null {
  if (amount === null || amount === undefined) return null;
  if (typeof amount === 'number' && !Number.isFinite(amount)) return null;
  // A JSON number prints as its shortest decimal form ("35.08"), which parses exactly; one with
  // float noise ("0.30000000000000004") or an exponent is refused rather than rounded.
  const parsed = parseDecimalAmount(String(amount), currency);
  return parsed.ok ? parsed.minor : null;
}
