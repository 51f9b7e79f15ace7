import { z } from 'zod';
import type { OrderRefundLine } from '../db/repositories/order-refunds';
import { shopifySessionId } from '../lib/ids';
import { parseDecimalAmount } from '../lib/money';
import { parseTopicBody, type TopicHandler } from '../shopify/webhook-topic';

/**
 * refunds/create (scope read_orders): a refund made in Shopify's admin, with the lines it gives back.
 * Shopify's refund session request to the app carries only an amount, so this is how a refund can
 * go to Flex by line (payments/refund/refund-lines.ts). Kept as it came; the join to the refund
 * session happens when the refund goes to Flex.
 */
const money = z.union([z.string().max(32), z.number()]);
const moneySet = z.looseObject({ shop_money: z.looseObject({ amount: money, currency_code: z.string().max(8) }) }).nullish();

const refundSchema = z.looseObject({
  id: z.number().int().positive(),
  order_id: z.number().int().positive(),
  refund_line_items: z
    .array(
      z.looseObject({
        quantity: z.number().int().min(0).max(1_000_000),
        subtotal: money.nullish(),
        subtotal_set: moneySet,
        total_tax: money.nullish(),
        total_tax_set: moneySet,
        line_item: z.looseObject({ variant_id: z.number().int().nullish() }).nullish(),
      }),
    )
    .max(1000),
  transactions: z.array(z.looseObject({ kind: z.string().max(32), status: z.string().max(32).nullish(), amount: money, currency: z.string().max(8).nullish(), payment_id: z.string().max(255).nullish() })).max(100),
  order_adjustments: z.array(z.looseObject({ kind: z.string().max(64).nullish(), amount: money, amount_set: moneySet })).max(100).nullish(),
});
type RefundPayload = z.infer<typeof refundSchema>;

/** Minor units of Shopify's REST money (a decimal string, or a number, or its `_set`), sign dropped. */
function minor(value: string | number | null | undefined, set: z.infer<typeof moneySet>, currency: string): number | null {
  const raw = set?.shop_money.amount ?? value;
  if (raw === null || raw === undefined) return null;
  const parsed = parseDecimalAmount(String(raw).replace(/^-/, ''), currency);
  return parsed.ok ? parsed.minor : null;
}

export function refundWebhook(): TopicHandler<RefundPayload> {
  return {
    parse(body) {
      const parsed = parseTopicBody(refundSchema, body, ['shop_domain', 'myshopify_domain', 'line_items', 'financial_status', 'data_request']);
      if (!parsed.ok) return parsed;
      const refund = parsed.value;
      return { ok: true, value: refund, stored: { id: refund.id, order_id: refund.order_id, lines: refund.refund_line_items.length } };
    },
    async apply(refund, { repos, shopDomain, now }) {
      const shop = await repos.shops.findByDomain(shopDomain);
      if (!shop || shop.status !== 'ACTIVE') return { outcome: 'ignored_shop_not_installed' };
      const refunds = refund.transactions.filter((t) => t.kind === 'refund' && t.status !== 'failure' && t.status !== 'error');
      const currency = refunds[0]?.currency ?? 'USD';
      let amountMinor = 0;
      for (const t of refunds) {
        const amount = minor(t.amount, null, currency);
        if (amount === null) return { outcome: 'ignored_amount_not_exact' };
        amountMinor += amount;
      }
      // The refund's transaction names the payment session (its payment id, reference §6); the
      // order the payment became is the other way to it.
      const named = refunds.find((t) => t.payment_id)?.payment_id;
      const byTransaction = named ? await repos.payments.findByShopifyId(shop.id, shopifySessionId(named)) : null;
      const byOrder = byTransaction ? null : await repos.shopifyOrders.findByShopifyOrderId(shop.id, String(refund.order_id));
      const lines: OrderRefundLine[] = [];
      for (const line of refund.refund_line_items) {
        const subtotal = minor(line.subtotal, line.subtotal_set, currency);
        const tax = minor(line.total_tax, line.total_tax_set, currency);
        if (subtotal === null || tax === null) return { outcome: 'ignored_amount_not_exact' };
        lines.push({ variantId: line.line_item?.variant_id ? String(line.line_item.variant_id) : null, quantity: line.quantity, subtotalMinor: subtotal, taxMinor: tax });
      }
      let shippingMinor = 0;
      for (const adjustment of refund.order_adjustments ?? []) {
        if (adjustment.kind !== 'shipping_refund') continue;
        shippingMinor += minor(adjustment.amount, adjustment.amount_set, currency) ?? 0;
      }
      const stored = await repos.orderRefunds.record({
        shopId: shop.id,
        shopifyRefundId: String(refund.id),
        shopifyOrderId: String(refund.order_id),
        paymentSessionId: byTransaction?.id ?? byOrder?.paymentSessionId ?? null,
        amountMinor,
        currency,
        lines,
        shippingMinor,
        receivedAt: now,
      });
      return { outcome: stored ? 'order_refund_recorded' : 'order_refund_already_recorded' };
    },
  };
}
