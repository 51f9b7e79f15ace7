// Orders Shopify creates once a payment session is resolved, their transactions (the payment session
// id is the transaction's payment id), refunds by line as the admin computes them, the merchant's
// note and tags, and the REST payloads of orders/create, orders/paid and refunds/create.
import { randomBytes } from 'node:crypto';
import type { CheckoutRecord } from './checkouts';
import { allocate, restMoney } from './money';
import type { PaymentSessionRecord } from './payments-state';

export const ORDER_GID = 'gid://shopify/Order/';
export const LINE_ITEM_GID = 'gid://shopify/LineItem/';
export const TRANSACTION_GID = 'gid://shopify/OrderTransaction/';
export const REFUND_GID = 'gid://shopify/Refund/';
export const REFUND_LINE_ITEM_GID = 'gid://shopify/RefundLineItem/';
export const SHIPPING_LINE_GID = 'gid://shopify/ShippingLine/';

export type TransactionKind = 'sale' | 'authorization' | 'capture' | 'void' | 'refund';
export type TransactionStatus = 'success' | 'pending' | 'failure';

export interface OrderLineRecord {
  id: number;
  variantId: number | null;
  productId: number | null;
  title: string;
  variantTitle: string | null;
  sku: string | null;
  vendor: string | null;
  quantity: number;
  unitPriceCents: number;
  /** Discount allocated to the whole line. */
  discountCents: number;
  taxCents: number;
  taxRate: number;
  refundedQuantity: number;
}

export interface OrderTransactionRecord {
  id: number;
  kind: TransactionKind;
  status: TransactionStatus;
  gateway: string;
  /** REST `payment_id`, GraphQL `paymentId`: the payment session id (reference §6). */
  paymentId: string;
  amountCents: number;
  parentId: number | null;
  test: boolean;
  createdAt: string;
  processedAt: string;
  authorizationExpiresAt: string | null;
  /** The refund/capture/void session behind this transaction, if any. */
  sessionId: string | null;
}

export interface RefundLineRecord {
  id: number;
  lineItemId: number;
  quantity: number;
  subtotalCents: number;
  taxCents: number;
  restockType: 'NO_RESTOCK' | 'RETURN' | 'CANCEL';
}

export interface RefundRecord {
  id: number;
  orderId: number;
  createdAt: string;
  note: string | null;
  lines: RefundLineRecord[];
  shippingCents: number;
  transactionIds: number[];
  /** The refund session sent to the app for this refund (null until sent). */
  refundSessionId: string | null;
}

export interface OrderRecord {
  shop: string;
  id: number;
  number: number;
  name: string;
  /** The order's own token (REST `token`). */
  token: string;
  checkoutToken: string | null;
  cartToken: string | null;
  checkoutId: number | null;
  paymentSessionId: string;
  kind: 'sale' | 'authorization';
  gateway: string;
  email: string | null;
  note: string | null;
  tags: string[];
  currency: string;
  test: boolean;
  createdAt: string;
  updatedAt: string;
  processedAt: string;
  lines: OrderLineRecord[];
  shipping: { id: number; title: string; code: string; priceCents: number } | null;
  discountCodes: Array<{ code: string; amountCents: number }>;
  lineItemsSubtotalCents: number;
  totalDiscountsCents: number;
  subtotalCents: number;
  totalTaxCents: number;
  totalShippingCents: number;
  totalCents: number;
  transactions: OrderTransactionRecord[];
  refunds: RefundRecord[];
}

export interface RefundLinesInput {
  /** Lines to refund: a line item id (numeric or gid) and how many. */
  lines: Array<{ lineItemId: number | string; quantity: number; restockType?: RefundLineRecord['restockType'] }>;
  /** Refund the whole shipping (true) or this many cents of it. */
  shipping?: boolean | number;
  note?: string | null;
}

export class Orders {
  private readonly orders = new Map<number, OrderRecord>();
  private nextOrderId = 6_100_000_000_000;
  private nextChildId = 15_000_000_000_000;
  private readonly numbers = new Map<string, number>();

  constructor(private readonly now: () => Date) {}

  private childId(): number {
    return this.nextChildId++;
  }

  list(shop?: string): OrderRecord[] {
    return [...this.orders.values()].filter((o) => !shop || o.shop === shop);
  }

  get(shop: string | undefined, id: number | string): OrderRecord | undefined {
    const numeric = typeof id === 'number' ? id : Number(String(id).replace(ORDER_GID, ''));
    const order = this.orders.get(numeric);
    return order && (!shop || order.shop === shop) ? order : undefined;
  }

  byPaymentSession(sessionId: string): OrderRecord | undefined {
    return this.list().find((o) => o.paymentSessionId === sessionId);
  }

  /** Shopify's order after a resolved payment: the checkout's cart, or one custom line for a session without one. */
  createFromPayment(session: PaymentSessionRecord, checkout: CheckoutRecord | undefined, gateway: string): OrderRecord {
    const at = this.now().toISOString();
    const number = (this.numbers.get(session.shop) ?? 1000) + 1;
    this.numbers.set(session.shop, number);
    const amountCents = Math.round(Number(session.amount) * 100);
    const lines: OrderLineRecord[] = checkout
      ? checkout.lines.map((l) => ({
          id: this.childId(),
          variantId: l.variantId,
          productId: l.productId,
          title: l.productTitle,
          variantTitle: l.variantTitle,
          sku: l.sku,
          vendor: l.vendor,
          quantity: l.quantity,
          unitPriceCents: l.unitPriceCents,
          discountCents: l.discountCents,
          taxCents: l.taxCents,
          taxRate: l.taxRate,
          refundedQuantity: 0,
        }))
      : [
          {
            id: this.childId(),
            variantId: null,
            productId: null,
            title: 'Custom sale',
            variantTitle: null,
            sku: null,
            vendor: null,
            quantity: 1,
            unitPriceCents: amountCents,
            discountCents: 0,
            taxCents: 0,
            taxRate: 0,
            refundedQuantity: 0,
          },
        ];
    const order: OrderRecord = {
      shop: session.shop,
      id: this.nextOrderId++,
      number,
      name: `#${number}`,
      token: randomBytes(16).toString('hex'),
      checkoutToken: checkout?.token ?? null,
      cartToken: checkout?.cartToken ?? null,
      checkoutId: checkout?.id ?? null,
      paymentSessionId: session.id,
      kind: session.kind,
      gateway,
      email: checkout?.email ?? session.customerEmail,
      note: null,
      tags: [],
      currency: session.currency,
      test: session.test,
      createdAt: at,
      updatedAt: at,
      processedAt: at,
      lines,
      shipping: checkout?.shipping ? { id: this.childId(), ...checkout.shipping } : null,
      discountCodes: checkout?.discount ? [{ code: checkout.discount.code, amountCents: checkout.discount.amountCents }] : [],
      lineItemsSubtotalCents: checkout?.lineItemsSubtotalCents ?? amountCents,
      totalDiscountsCents: checkout?.totalDiscountsCents ?? 0,
      subtotalCents: checkout?.subtotalCents ?? amountCents,
      totalTaxCents: checkout?.totalTaxCents ?? 0,
      totalShippingCents: checkout?.shippingCents ?? 0,
      // The order records what was paid: the session amount.
      totalCents: amountCents,
      transactions: [],
      refunds: [],
    };
    if (session.orderEdit) {
      // The merchant edited the order as soon as it existed (an added item): the order now asks for
      // more than the payment brought in, as Shopify shows an order edited after payment.
      const extra = session.orderEdit.amountCents;
      order.lines.push({
        id: this.childId(),
        variantId: null,
        productId: null,
        title: session.orderEdit.title,
        variantTitle: null,
        sku: null,
        vendor: null,
        quantity: 1,
        unitPriceCents: extra,
        discountCents: 0,
        taxCents: 0,
        taxRate: 0,
        refundedQuantity: 0,
      });
      order.lineItemsSubtotalCents += extra;
      order.subtotalCents += extra;
      order.totalCents += extra;
    }
    order.transactions.push({
      id: this.childId(),
      kind: session.kind,
      status: 'success',
      gateway,
      paymentId: session.id,
      amountCents,
      parentId: null,
      test: session.test,
      createdAt: at,
      processedAt: at,
      authorizationExpiresAt: session.authorizationExpiresAt,
      sessionId: session.id,
    });
    this.orders.set(order.id, order);
    return order;
  }

  /** A capture or void of an authorization, once its session is resolved. */
  addFollowUpTransaction(order: OrderRecord, kind: 'capture' | 'void', sessionId: string, amountCents: number): OrderTransactionRecord {
    const at = this.now().toISOString();
    const parent = order.transactions.find((t) => t.kind === 'authorization');
    const transaction: OrderTransactionRecord = {
      id: this.childId(),
      kind,
      status: 'success',
      gateway: order.gateway,
      paymentId: order.paymentSessionId,
      amountCents: kind === 'void' ? 0 : amountCents,
      parentId: parent?.id ?? null,
      test: order.test,
      createdAt: at,
      processedAt: at,
      authorizationExpiresAt: null,
      sessionId,
    };
    order.transactions.push(transaction);
    order.updatedAt = at;
    return transaction;
  }

  /**
   * A refund of chosen lines the way Shopify's admin computes it: per line, the discounted line total
   * and the line's tax in proportion to the quantity refunded, plus shipping if asked.
   */
  refundLines(order: OrderRecord, input: RefundLinesInput, pending: boolean): { refund: RefundRecord; transaction: OrderTransactionRecord; amountCents: number } {
    if (!input.lines?.length && !input.shipping) throw new Error('refund at least one line or the shipping');
    const at = this.now().toISOString();
    const refundLines: RefundLineRecord[] = (input.lines ?? []).map((wanted) => {
      const lineId = typeof wanted.lineItemId === 'number' ? wanted.lineItemId : Number(String(wanted.lineItemId).replace(LINE_ITEM_GID, ''));
      const line = order.lines.find((l) => l.id === lineId);
      if (!line) throw Object.assign(new Error(`No line item ${wanted.lineItemId} on order ${order.name}`), { status: 404 });
      const refundable = line.quantity - line.refundedQuantity;
      if (!Number.isInteger(wanted.quantity) || wanted.quantity < 1 || wanted.quantity > refundable) {
        throw Object.assign(new Error(`Line ${line.id} has ${refundable} refundable, asked ${wanted.quantity}`), { status: 409 });
      }
      // Whole-line amounts split by quantity so that refunding every unit in several steps adds up
      // to the line exactly.
      const net = line.unitPriceCents * line.quantity - line.discountCents;
      const subtotal = proportionalPart(net, line.quantity, line.refundedQuantity, wanted.quantity);
      const tax = proportionalPart(line.taxCents, line.quantity, line.refundedQuantity, wanted.quantity);
      return { id: this.childId(), lineItemId: line.id, quantity: wanted.quantity, subtotalCents: subtotal, taxCents: tax, restockType: wanted.restockType ?? 'NO_RESTOCK' };
    });
    const shippingLeft = order.totalShippingCents - order.refunds.reduce((s, r) => s + r.shippingCents, 0);
    const shippingCents = input.shipping === true ? shippingLeft : typeof input.shipping === 'number' ? input.shipping : 0;
    if (shippingCents < 0 || shippingCents > shippingLeft) throw Object.assign(new Error(`Only ${shippingLeft} cents of shipping are refundable`), { status: 409 });
    const amountCents = refundLines.reduce((s, l) => s + l.subtotalCents + l.taxCents, 0) + shippingCents;
    const refundable = order.totalCents - refundedCents(order);
    if (amountCents > refundable) throw Object.assign(new Error(`Refund of ${amountCents} cents exceeds the ${refundable} refundable`), { status: 409 });
    for (const line of refundLines) order.lines.find((l) => l.id === line.lineItemId)!.refundedQuantity += line.quantity;
    const parent = order.transactions.find((t) => (t.kind === 'sale' || t.kind === 'capture') && t.status === 'success');
    const transaction: OrderTransactionRecord = {
      id: this.childId(),
      kind: 'refund',
      status: pending ? 'pending' : 'success',
      gateway: order.gateway,
      paymentId: order.paymentSessionId,
      amountCents,
      parentId: parent?.id ?? null,
      test: order.test,
      createdAt: at,
      processedAt: at,
      authorizationExpiresAt: null,
      sessionId: null,
    };
    const refund: RefundRecord = {
      id: this.childId(),
      orderId: order.id,
      createdAt: at,
      note: input.note ?? null,
      lines: refundLines,
      shippingCents,
      transactionIds: [transaction.id],
      refundSessionId: null,
    };
    order.transactions.push(transaction);
    order.refunds.push(refund);
    order.updatedAt = at;
    return { refund, transaction, amountCents };
  }
}

/** The part of `total` that units [done, done + count) of `quantity` carry, exact over all units. */
function proportionalPart(total: number, quantity: number, done: number, count: number): number {
  const parts = allocate(total, Array.from({ length: quantity }, () => 1));
  return parts.slice(done, done + count).reduce((a, b) => a + b, 0);
}

export function refundedCents(order: OrderRecord): number {
  return order.transactions.filter((t) => t.kind === 'refund' && t.status !== 'failure').reduce((s, t) => s + t.amountCents, 0);
}

export function paidCents(order: OrderRecord): number {
  return order.transactions
    .filter((t) => (t.kind === 'sale' || t.kind === 'capture') && t.status === 'success')
    .reduce((s, t) => s + t.amountCents, 0);
}

/** REST `financial_status`; GraphQL `displayFinancialStatus` is its upper case. */
export function financialStatus(order: OrderRecord): string {
  const has = (kind: TransactionKind) => order.transactions.some((t) => t.kind === kind && t.status === 'success');
  if (has('void')) return 'voided';
  const paid = paidCents(order);
  const refunded = order.transactions.filter((t) => t.kind === 'refund' && t.status === 'success').reduce((s, t) => s + t.amountCents, 0);
  if (refunded > 0) return refunded >= paid ? 'refunded' : 'partially_refunded';
  if (paid > 0) return paid >= order.totalCents ? 'paid' : 'partially_paid';
  if (has('authorization')) return 'authorized';
  return 'pending';
}

function moneySet(cents: number, currency: string) {
  const amount = restMoney(cents);
  return { shop_money: { amount, currency_code: currency }, presentment_money: { amount, currency_code: currency } };
}

/** REST transaction (refunds/create `transactions[]`; the Transaction resource). */
export function transactionPayload(order: OrderRecord, t: OrderTransactionRecord, paymentId: string): Record<string, unknown> {
  return {
    id: t.id,
    order_id: order.id,
    kind: t.kind,
    gateway: t.gateway,
    status: t.status,
    message: null,
    created_at: t.createdAt,
    test: t.test,
    authorization: null,
    location_id: null,
    user_id: null,
    parent_id: t.parentId,
    processed_at: t.processedAt,
    device_id: null,
    error_code: null,
    source_name: 'web',
    receipt: {},
    amount: restMoney(t.amountCents),
    currency: order.currency,
    payment_id: paymentId,
    total_unsettled_set: moneySet(0, order.currency),
    manual_payment_gateway: false,
    admin_graphql_api_id: TRANSACTION_GID + t.id,
  };
}

function lineItemPayload(order: OrderRecord, line: OrderLineRecord): Record<string, unknown> {
  return {
    id: line.id,
    admin_graphql_api_id: LINE_ITEM_GID + line.id,
    current_quantity: line.quantity - line.refundedQuantity,
    fulfillable_quantity: line.quantity - line.refundedQuantity,
    fulfillment_service: 'manual',
    fulfillment_status: null,
    gift_card: false,
    grams: 0,
    name: line.variantTitle && line.variantTitle !== 'Default Title' ? `${line.title} - ${line.variantTitle}` : line.title,
    price: restMoney(line.unitPriceCents),
    price_set: moneySet(line.unitPriceCents, order.currency),
    product_exists: line.productId !== null,
    product_id: line.productId,
    properties: [],
    quantity: line.quantity,
    requires_shipping: line.productId !== null,
    sku: line.sku,
    taxable: line.taxCents > 0,
    title: line.title,
    total_discount: '0.00',
    total_discount_set: moneySet(0, order.currency),
    variant_id: line.variantId,
    variant_inventory_management: null,
    variant_title: line.variantTitle,
    vendor: line.vendor,
    tax_lines: line.taxCents
      ? [{ channel_liable: false, price: restMoney(line.taxCents), price_set: moneySet(line.taxCents, order.currency), rate: line.taxRate, title: 'Sales Tax' }]
      : [],
    duties: [],
    discount_allocations: line.discountCents
      ? [{ amount: restMoney(line.discountCents), amount_set: moneySet(line.discountCents, order.currency), discount_application_index: 0 }]
      : [],
  };
}

/**
 * REST order of orders/create and orders/paid (shopify.dev webhook topic reference; the REST Order
 * resource). There is no `transactions` key in the REST order: the payment session id is reached
 * through Admin `order.transactions { paymentId }`, or `checkout_token` for a cart the app knows.
 */
export function orderWebhookPayload(order: OrderRecord): Record<string, unknown> {
  const money = restMoney;
  const currentTotal = order.totalCents - refundedCents(order);
  return {
    id: order.id,
    admin_graphql_api_id: ORDER_GID + order.id,
    app_id: 580111,
    browser_ip: null,
    buyer_accepts_marketing: false,
    cancel_reason: null,
    cancelled_at: null,
    cart_token: order.cartToken,
    checkout_id: order.checkoutId,
    checkout_token: order.checkoutToken,
    client_details: null,
    closed_at: null,
    confirmation_number: order.token.slice(0, 9).toUpperCase(),
    confirmed: true,
    contact_email: order.email,
    created_at: order.createdAt,
    currency: order.currency,
    current_subtotal_price: money(order.subtotalCents),
    current_total_discounts: money(order.totalDiscountsCents),
    current_total_price: money(currentTotal),
    current_total_price_set: moneySet(currentTotal, order.currency),
    current_total_tax: money(order.totalTaxCents),
    customer_locale: 'en-US',
    discount_codes: order.discountCodes.map((d) => ({ code: d.code, amount: money(d.amountCents), type: 'fixed_amount' })),
    email: order.email,
    estimated_taxes: false,
    financial_status: financialStatus(order),
    fulfillment_status: null,
    landing_site: null,
    name: order.name,
    note: order.note,
    note_attributes: [],
    number: order.number - 1000,
    order_number: order.number,
    payment_gateway_names: [order.gateway],
    phone: null,
    presentment_currency: order.currency,
    processed_at: order.processedAt,
    reference: null,
    source_identifier: null,
    source_name: 'web',
    subtotal_price: money(order.subtotalCents),
    subtotal_price_set: moneySet(order.subtotalCents, order.currency),
    tags: order.tags.join(', '),
    tax_lines: order.totalTaxCents ? [{ price: money(order.totalTaxCents), rate: order.lines[0]?.taxRate ?? 0, title: 'Sales Tax', channel_liable: false }] : [],
    taxes_included: false,
    test: order.test,
    token: order.token,
    total_discounts: money(order.totalDiscountsCents),
    total_discounts_set: moneySet(order.totalDiscountsCents, order.currency),
    total_line_items_price: money(order.lineItemsSubtotalCents),
    total_line_items_price_set: moneySet(order.lineItemsSubtotalCents, order.currency),
    total_outstanding: money(Math.max(0, order.totalCents - paidCents(order))),
    total_price: money(order.totalCents),
    total_price_set: moneySet(order.totalCents, order.currency),
    total_shipping_price_set: moneySet(order.totalShippingCents, order.currency),
    total_tax: money(order.totalTaxCents),
    total_tax_set: moneySet(order.totalTaxCents, order.currency),
    total_weight: 0,
    updated_at: order.updatedAt,
    user_id: null,
    billing_address: null,
    customer: null,
    discount_applications: order.discountCodes.map((d) => ({
      target_type: 'line_item',
      type: 'discount_code',
      value: money(d.amountCents),
      value_type: 'fixed_amount',
      allocation_method: 'across',
      target_selection: 'all',
      code: d.code,
    })),
    fulfillments: [],
    line_items: order.lines.map((l) => lineItemPayload(order, l)),
    payment_terms: null,
    refunds: [],
    shipping_address: null,
    shipping_lines: order.shipping
      ? [
          {
            id: order.shipping.id,
            code: order.shipping.code,
            discounted_price: money(order.shipping.priceCents),
            price: money(order.shipping.priceCents),
            source: 'shopify',
            title: order.shipping.title,
            tax_lines: [],
            discount_allocations: [],
          },
        ]
      : [],
  };
}

/** REST refund of refunds/create (shopify.dev webhook topic reference; the REST Refund resource). */
export function refundWebhookPayload(order: OrderRecord, refund: RefundRecord, paymentIdOf: (t: OrderTransactionRecord) => string): Record<string, unknown> {
  return {
    id: refund.id,
    order_id: order.id,
    created_at: refund.createdAt,
    note: refund.note,
    user_id: null,
    processed_at: refund.createdAt,
    duties: [],
    total_duties_set: moneySet(0, order.currency),
    return: null,
    restock: refund.lines.some((l) => l.restockType !== 'NO_RESTOCK'),
    admin_graphql_api_id: REFUND_GID + refund.id,
    refund_line_items: refund.lines.map((rl) => {
      const line = order.lines.find((l) => l.id === rl.lineItemId)!;
      return {
        id: rl.id,
        quantity: rl.quantity,
        line_item_id: rl.lineItemId,
        location_id: null,
        restock_type: rl.restockType.toLowerCase(),
        subtotal: Number(restMoney(rl.subtotalCents)),
        total_tax: Number(restMoney(rl.taxCents)),
        subtotal_set: moneySet(rl.subtotalCents, order.currency),
        total_tax_set: moneySet(rl.taxCents, order.currency),
        line_item: lineItemPayload(order, line),
      };
    }),
    transactions: refund.transactionIds.map((id) => {
      const t = order.transactions.find((x) => x.id === id)!;
      return transactionPayload(order, t, paymentIdOf(t));
    }),
    // A shipping refund appears as an order adjustment on REST refunds.
    order_adjustments: refund.shippingCents
      ? [
          {
            id: refund.id + 1,
            order_id: order.id,
            refund_id: refund.id,
            amount: restMoney(-refund.shippingCents),
            tax_amount: '0.00',
            kind: 'shipping_refund',
            reason: 'Shipping refund',
            amount_set: moneySet(-refund.shippingCents, order.currency),
            tax_amount_set: moneySet(0, order.currency),
          },
        ]
      : [],
    refund_shipping_lines: [],
  };
}
