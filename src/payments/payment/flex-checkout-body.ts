import type { PaymentCartLineInput } from '../../db/repositories/payment-carts';
import type { PaymentSessionRecord } from '../../db/repositories/payment-sessions';
import type { CreateCheckoutSessionInput } from '../../flex/flex-client';
import { buyerDefaults, customerSchema } from './payment-session-request';

/** The cart part of a Flex checkout: the buyer's lines, or the catch-all line at the session's amount. */
export type CheckoutContent =
  | { kind: 'cart'; lines: PaymentCartLineInput[]; shippingMinor: number; taxMinor: number; discountMinor: number; adjustmentMinor: number }
  | { kind: 'catch_all'; priceId: string };

/**
 * The Flex checkout session for a payment. With the cart: one line per synced price, each line's
 * Shopify discount as a coupon on that price (so Flex splits an HSA/FSA cart on the right amounts),
 * the order's own discount as a coupon on the whole cart, shipping and tax as Flex takes them, and
 * the adjustment that makes Flex's `amount_total` Shopify's amount to the cent: a fee when Shopify's
 * total is higher, a coupon when it is lower (Flex's own plugin does the same for rounding).
 */
export function flexCheckoutBody(record: PaymentSessionRecord, shopDomain: string, appUrl: string, content: CheckoutContent): CreateCheckoutSessionInput {
  const customer = customerSchema.safeParse(record.customer);
  const body: CreateCheckoutSessionInput = {
    mode: 'payment',
    line_items: [],
    success_url: `${appUrl}/payments/return/${record.id}?checkout_session={CHECKOUT_SESSION_ID}`,
    cancel_url: `${appUrl}/payments/cancel/${record.id}`,
    client_reference_id: record.shopifyId,
    // Flex documents only "automatic"; "manual" for Shopify authorizations is our assumption (README).
    capture_method: record.kind === 'AUTHORIZATION' ? 'manual' : 'automatic',
    defaults: buyerDefaults(customer.success ? customer.data : null),
    metadata: {
      shopify_shop_domain: shopDomain,
      shopify_payment_session_gid: record.gid,
      shopify_payment_session_id: record.shopifyId,
      shopify_payment_group: record.groupId,
      app_payment_session_id: record.id,
      cart: content.kind,
    },
  };
  if (content.kind === 'catch_all') {
    body.line_items = [{ price: content.priceId, quantity: 1 }];
    return body;
  }
  body.line_items = content.lines.map((l) => ({ price: l.flexPriceId, quantity: l.quantity }));
  const discounts: NonNullable<CreateCheckoutSessionInput['discounts']> = content.lines
    .filter((l) => l.discountMinor > 0)
    .map((l) => ({ coupon_data: { name: `Discount on ${l.title}`.slice(0, 200), amount_off: l.discountMinor, applies_to: { prices: [l.flexPriceId] } } }));
  const lineDiscounts = content.lines.reduce((sum, l) => sum + l.discountMinor, 0);
  const orderDiscount = content.discountMinor - lineDiscounts;
  if (orderDiscount > 0) discounts.push({ coupon_data: { name: 'Order discount', amount_off: orderDiscount } });
  if (content.adjustmentMinor < 0) discounts.push({ coupon_data: { name: 'Rounding adjustment', amount_off: -content.adjustmentMinor } });
  if (discounts.length > 0) body.discounts = discounts;
  if (content.adjustmentMinor > 0) {
    body.fees = [{ amount: content.adjustmentMinor, fee_type: 'custom', name: 'Rounding adjustment', description: "Brings the total to the store's order total" }];
  }
  if (content.shippingMinor > 0) body.shipping_options = { shipping_rate_data: { display_name: 'Shipping', amount: content.shippingMinor } };
  if (content.taxMinor > 0) body.tax_rate = { amount: content.taxMinor };
  return body;
}

/** What Flex should compute as `amount_total` for this content (to check its answer). */
export function expectedAmountTotal(content: CheckoutContent, amountMinor: number): number {
  if (content.kind === 'catch_all') return amountMinor;
  const gross = content.lines.reduce((sum, l) => sum + l.unitAmountMinor * l.quantity, 0);
  return gross - content.discountMinor + content.shippingMinor + content.taxMinor + content.adjustmentMinor;
}
