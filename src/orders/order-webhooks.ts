import { z } from 'zod';
import { enqueueJob } from '../outbox/job-type';
import { parseTopicBody, type TopicHandler } from '../shopify/webhook-topic';
import { LINK_ORDER, linkOrderDedupeKey } from './link-order';
import { refundWebhook } from './refund-webhook';

/** The order topics the app subscribes to (shopify.app.toml; scope read_orders). */
export const ORDER_WEBHOOK_TOPICS = ['orders/create', 'orders/paid', 'refunds/create'] as const;
export type OrderWebhookTopic = Exclude<(typeof ORDER_WEBHOOK_TOPICS)[number], 'refunds/create'>;

/**
 * The REST order of orders/create and orders/paid: only what finds the order and its payment. It has
 * no `transactions` (the payment id is read from the Admin API), but `checkout_token` and
 * `cart_token`, the second way to the payment (reference §6).
 */
const orderSchema = z.looseObject({
  id: z.number().int().positive(),
  admin_graphql_api_id: z.string().regex(/^gid:\/\/shopify\/Order\/\d+$/),
  name: z.string().nullish(),
  checkout_token: z.string().nullish(),
  cart_token: z.string().nullish(),
  financial_status: z.string().nullish(),
  payment_gateway_names: z.array(z.string()).nullish(),
});
type OrderPayload = z.infer<typeof orderSchema>;

/**
 * orders/create and orders/paid: the signed body is checked to be an order, and a durable job to
 * link it is queued in the transaction that records the delivery (a redelivery queues nothing); the
 * Admin API and Flex are called by the job, after Shopify has its answer. An order of a shop that is
 * not installed here is acknowledged and left alone. Only the body is signed and an order carries no
 * shop domain: the job reads the order through the shop's own token, so an order of another shop is
 * simply not found.
 */
export function orderWebhook(topic: OrderWebhookTopic): TopicHandler<OrderPayload> {
  return {
    parse(body) {
      const parsed = parseTopicBody(orderSchema, body, ['shop_domain', 'myshopify_domain', 'orders_to_redact', 'orders_requested', 'data_request']);
      if (!parsed.ok) return parsed;
      const order = parsed.value;
      if (order.admin_graphql_api_id !== `gid://shopify/Order/${order.id}`) return { ok: false, problem: 'admin_graphql_api_id is not the gid of id' };
      // What identifies the order and joins it to a payment; nothing about the buyer.
      const stored = {
        id: order.id,
        admin_graphql_api_id: order.admin_graphql_api_id,
        name: order.name ?? null,
        checkout_token: order.checkout_token ?? null,
        cart_token: order.cart_token ?? null,
        financial_status: order.financial_status ?? null,
        payment_gateway_names: order.payment_gateway_names ?? [],
      };
      return { ok: true, value: order, stored };
    },
    async apply(order, { repos, shopDomain, now }) {
      const shop = await repos.shops.findByDomain(shopDomain);
      if (!shop || shop.status !== 'ACTIVE') return { outcome: 'ignored_shop_not_installed' };
      await enqueueJob(
        repos.jobs,
        LINK_ORDER,
        { shopId: shop.id, orderGid: order.admin_graphql_api_id, source: topic, checkoutToken: order.checkout_token ?? null, cartToken: order.cart_token ?? null },
        { dedupeKey: linkOrderDedupeKey(shop.id, String(order.id), topic), shopId: shop.id, subject: { type: 'shopify_order', id: String(order.id) }, runAt: now },
      );
      return { outcome: 'order_sync_queued' };
    },
  };
}

export function orderWebhookTopics(): Record<(typeof ORDER_WEBHOOK_TOPICS)[number], TopicHandler<any>> {
  return { 'orders/create': orderWebhook('orders/create'), 'orders/paid': orderWebhook('orders/paid'), 'refunds/create': refundWebhook() };
}
