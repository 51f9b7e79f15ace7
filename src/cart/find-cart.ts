import type { Repositories } from '../db/repositories';
import type { CartRead, CartSnapshotRecord } from '../db/repositories/cart-snapshots';
import type { Clock } from '../lib/clock';
import type { ShopId } from '../lib/ids';
import { sleep } from '../lib/sleep';
import { checkoutTokenOf } from './checkout-tokens';
import { priceCart, type CartFallbackReason, type PricedCart } from './price-cart';

export type CartDecision =
  | { source: 'CART'; snapshotId: string; snapshotSource: CartSnapshotRecord['source']; cart: PricedCart }
  | { source: 'CATCH_ALL'; reason: CartFallbackReason; detail: string };

export interface PaymentToJoin {
  shopId: ShopId;
  test: boolean;
  cancelUrl: string;
  /** The checkout token in `cancelUrl`, as kept when the session was stored (null on rows stored before it was). */
  checkoutToken: string | null;
  amountMinor: number;
  currency: string;
}

/** Reasons that waiting cannot change: a newer description of the same cart would fail the same way. */
const FINAL: ReadonlySet<CartFallbackReason> = new Set(['currency_differs', 'line_without_product']);

/**
 * The join (README "How the cart reaches Flex"): the payment session carries no cart, only the
 * buyer's checkout URL in `cancel_url`. The cart is the newest snapshot holding that URL's token
 * (under any of its tokens), server-trusted webhook snapshots first, that re-prices from our synced
 * catalog to exactly the session's amount. The pixel's post and the webhook may still be on their
 * way when the buyer lands on the pay page (their order is not documented), so this waits up to
 * `waitMs` for one that fits before falling back to the catch-all line, with the reason.
 */
export class FindCart {
  constructor(private readonly deps: { repos: Repositories; clock: Clock; waitMs: number; pollMs?: number }) {}

  /** `firstRead`: the cart as read under the payment's kept checkout token with its claim (the first attempt's read, then not made again). */
  async forPayment(payment: PaymentToJoin, firstRead?: CartRead): Promise<CartDecision> {
    // The token kept with the session is the one the claim read under; a row stored before it was kept has it taken from cancel_url now.
    const token = payment.checkoutToken ?? checkoutTokenOf(payment.cancelUrl);
    if (!token) return { source: 'CATCH_ALL', reason: 'no_checkout_token', detail: 'no checkout token in cancel_url' };
    const deadline = Date.now() + this.deps.waitMs;
    for (let read = firstRead; ; read = undefined) {
      const attempt = await this.tryOnce(payment, token, read);
      if (attempt.source === 'CART') return attempt;
      if (FINAL.has(attempt.reason) || Date.now() >= deadline) return attempt;
      await sleep(Math.min(this.deps.pollMs ?? 150, Math.max(0, deadline - Date.now())));
    }
  }

  private async tryOnce(payment: PaymentToJoin, token: string, read: CartRead | undefined): Promise<CartDecision> {
    // The snapshots, and the synced catalog's variants of their lines, in one read.
    const { snapshots, catalog } = read ?? (await this.deps.repos.cartSnapshots.findByTokenWithCatalog(payment.shopId, token, this.deps.clock.now(), payment.test ? 'TEST' : 'LIVE'));
    if (snapshots.length === 0) return { source: 'CATCH_ALL', reason: 'no_cart_captured', detail: `no cart captured for checkout token ${token}` };
    let firstFailure: CartDecision | undefined;
    for (const snapshot of snapshots) {
      const priced = priceCart(snapshot, payment, catalog);
      if (priced.ok) return { source: 'CART', snapshotId: snapshot.id, snapshotSource: snapshot.source, cart: priced.cart };
      firstFailure ??= { source: 'CATCH_ALL', reason: priced.reason, detail: `${snapshot.source.toLowerCase()} snapshot: ${priced.detail}` };
    }
    return firstFailure!;
  }
}
