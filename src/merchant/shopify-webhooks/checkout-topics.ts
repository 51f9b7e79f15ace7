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
    async applyRecordingDelivery(value, { repos, shopDomain, delivery, now }) {
      const snapshot = snapshotOfCheckoutWebhook(value);
      if (!snapshot.ok) return undefined;
      const recorded = await repos.cartSnapshots.saveForInstalledShopRecordingDelivery(shopDomain, toSnapshotInput(snapshot.draft, now), delivery, {
        stored: 'cart_snapshot_stored',
        notInstalled: 'ignored_shop_not_installed',
      });
      if (!recorded) return null;
      if (recorded.saved === 'shop_not_installed') return { outcome: 'ignored_shop_not_installed' };
      if (recorded.saved === 'stored') return { outcome: 'cart_snapshot_stored' };
      // Out of order (a newer description was stored first): rare, and only the delivery's record is
      // corrected; a crash before this leaves it saying stored, which its snapshot row contradicts.
      await repos.shopifyWebhookDeliveries.finish(recorded.deliveryId, 'cart_snapshot_older_than_stored', now);
      return { outcome: 'cart_snapshot_older_than_stored' };
    },
    async apply(value, { repos, shopDomain, now }) {
      const snapshot = snapshotOfCheckoutWebhook(value);
      if (!snapshot.ok) {
        const shop = await repos.shops.findByDomain(shopDomain);
        if (!shop || shop.status !== 'ACTIVE') return { outcome: 'ignored_shop_not_installed' };
        return { outcome: 'ignored_no_exact_cart', payload: { result: { reason: snapshot.reason } } };
      }
      // The shop is found in the statement that stores the snapshot: one round trip on every checkout.
      const saved = await repos.cartSnapshots.saveForInstalledShop(shopDomain, toSnapshotInput(snapshot.draft, now));
      if (saved === 'shop_not_installed') return { outcome: 'ignored_shop_not_installed' };
      return { outcome: saved === 'stored' ? 'cart_snapshot_stored' : 'cart_snapshot_older_than_stored' };
    },
  };
}
