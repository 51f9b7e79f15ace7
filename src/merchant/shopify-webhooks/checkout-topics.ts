import type { z } from 'zod';
import { toSnapshotInput } from '../../cart/cart-snapshot';
import { checkoutWebhookSchema, snapshotOfCheckoutWebhook } from '../../cart/checkout-webhook';
import type { TopicHandler } from './topics';

/** Keys of other topics' bodies that a checkout never has: a signed body re-sent under this topic fails. */
const NOT_A_CHECKOUT = ['order_number', 'financial_status', 'body_html', 'variants', 'myshopify_domain', 'shop_domain', 'data_request', 'orders_to_redact'];

/**
 * checkouts/create and checkouts/update: the server-trusted cart snapshot, joined to the payment
 * session on the pay page (cart/). Only the body is signed, so a body re-sent under another shop's
 * header would be kept for that shop; it could only ever match that shop's checkout tokens, which
 * it does not have, so it is never used.
 */
export function checkoutSnapshotTopic(): TopicHandler<z.infer<typeof checkoutWebhookSchema>> {
  return {
    sqlOnly: true,
    parse(body) {
      if (body && typeof body === 'object') {
        const present = NOT_A_CHECKOUT.filter((key) => key in (body as Record<string, unknown>));
        if (present.length > 0) return { ok: false, problem: `the body has ${present.join(', ')}, which a checkout does not have` };
      }
      const parsed = checkoutWebhookSchema.safeParse(body);
      if (!parsed.success) return { ok: false, problem: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') };
      const value = parsed.data;
      // The checkout holds the buyer's email and addresses: the delivery row keeps only what identifies the cart.
      return { ok: true, value, stored: { token: value.token, cart_token: value.cart_token ?? null, updated_at: value.updated_at ?? null, lines: value.line_items.length } };
    },
    // Every exact cart is stored here, in the statement that records its delivery.
    async applyRecordingDelivery(value, { repos, shopDomain, delivery, now }) {
      const snapshot = snapshotOfCheckoutWebhook(value);
      if (!snapshot.ok) return { recorded: 'not_here' };
      const outcomes = { stored: 'cart_snapshot_stored', olderThanStored: 'cart_snapshot_older_than_stored', notInstalled: 'ignored_shop_not_installed' };
      const recorded = await repos.cartSnapshots.saveRecordingDelivery(shopDomain, toSnapshotInput(snapshot.draft, now), delivery, outcomes);
      if (!recorded) return { recorded: 'duplicate' };
      const outcome = recorded.saved === 'shop_not_installed' ? outcomes.notInstalled : recorded.saved === 'stored' ? outcomes.stored : outcomes.olderThanStored;
      // A description of the same checkout committed between the statement's read and its write (two
      // webhooks of one checkout at once): the record is corrected to what the write found.
      if (!recorded.outcomeAgrees) await repos.shopifyWebhookDeliveries.finish(recorded.deliveryId, outcome, now);
      return { recorded: 'applied', outcome: { outcome } };
    },
    // A body without an exact cart: nothing is stored but the delivery and why.
    async apply(value, { repos, shopDomain }) {
      const snapshot = snapshotOfCheckoutWebhook(value);
      if (snapshot.ok) throw new Error('an exact cart is stored by applyRecordingDelivery, in the statement that records its delivery');
      const shop = await repos.shops.findByDomain(shopDomain);
      if (!shop || shop.status !== 'ACTIVE') return { outcome: 'ignored_shop_not_installed' };
      return { outcome: 'ignored_no_exact_cart', payload: { result: { reason: snapshot.reason } } };
    },
  };
}
