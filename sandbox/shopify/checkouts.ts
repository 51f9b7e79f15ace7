// Buyer checkouts built from a cart of the shop's catalog: totals computed the way Shopify does
// (discount allocated to lines, tax per line on the discounted price, shipping on top), the tokens a
// payments app can see (checkout token, cart token, the checkout URL's path token), and the two
// shapes the cart leaves Shopify in: the REST checkout of checkouts/create|update webhooks and the
// `Checkout` of pixel events.
import { randomBytes, randomInt } from 'node:crypto';
import type { Assumptions, CancelUrlForm } from './assumptions';
import type { Catalog } from './catalog';
import { allocate, pixelAmount, restMoney, toCents } from './money';

export interface CartLineInput {
  /** Numeric id or gid of a variant of this shop's catalog. */
  variantId: number | string;
  quantity?: number;
}

export interface CheckoutInput {
  lines: CartLineInput[];
  /** A discount code worth `amount` in total, allocated to the lines in proportion to their prices. */
  discount?: { code: string; amount: string | number } | null;
  /** Shipping rate; null/undefined = none. */
  shipping?: { title?: string; price: string | number; code?: string } | null;
  /** Tax: a rate applied per line to the discounted price (0.08), or a fixed amount allocated to lines. */
  tax?: { rate: number } | { amount: string | number } | null;
  currency?: string;
  /** Overrides the `cancelUrlForm` assumption for this checkout. */
  cancelUrlForm?: CancelUrlForm;
  /** Overrides the `checkoutUrlLocale` assumption (null = no locale segment). */
  locale?: string | null;
  email?: string | null;
  /** Visitor consent the pixel runtime checks against the extension's `[customer_privacy]`. Default: all allowed. */
  consent?: Partial<VisitorConsent>;
}

export interface VisitorConsent {
  analytics: boolean;
  marketing: boolean;
  preferences: boolean;
  saleOfData: boolean;
}

export interface CheckoutLineRecord {
  /** The line's key, as checkout line items carry (hex). */
  key: string;
  variantId: number;
  productId: number;
  productTitle: string;
  variantTitle: string;
  sku: string | null;
  vendor: string;
  quantity: number;
  unitPriceCents: number;
  /** unit × quantity, before discounts. */
  linePriceCents: number;
  discountCents: number;
  taxCents: number;
  taxRate: number;
  taxable: boolean;
}

export interface CheckoutRecord {
  shop: string;
  /** Numeric REST id of the checkout (webhooks). */
  id: number;
  /** The checkout token (32 hex): webhooks' `token`, the pixel's `checkout.token`. */
  token: string;
  /** The cart token: webhooks' `cart_token`. */
  cartToken: string;
  /** The token in today's `/checkouts/cn/{…}` URLs that is neither of the above (`cn_opaque`). */
  opaqueToken: string;
  cancelUrlForm: CancelUrlForm;
  locale: string | null;
  /** The page the buyer is on (the pixel's `context.document.location.href`). */
  checkoutUrl: string;
  /** What the payment session's `payment_method.data.cancel_url` carries. */
  cancelUrl: string;
  currency: string;
  email: string | null;
  consent: VisitorConsent;
  lines: CheckoutLineRecord[];
  discount: { code: string; amountCents: number } | null;
  shipping: { title: string; code: string; priceCents: number } | null;
  lineItemsSubtotalCents: number;
  totalDiscountsCents: number;
  /** After discounts, before shipping and tax (REST `subtotal_price`, pixel `subtotalPrice`). */
  subtotalCents: number;
  totalTaxCents: number;
  shippingCents: number;
  totalCents: number;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  paymentSessionId: string | null;
  orderId: number | null;
}

export const CHECKOUT_STAGES = [
  'checkout_started',
  'checkout_contact_info_submitted',
  'checkout_address_info_submitted',
  'checkout_shipping_info_submitted',
  'payment_info_submitted',
  'checkout_completed',
] as const;
export type CheckoutEventName = (typeof CHECKOUT_STAGES)[number];

/** What a buyer changes of their cart after the checkout started (the `changeCart` checkout step). */
export type CartChange = Partial<Pick<CheckoutInput, 'lines' | 'discount' | 'shipping' | 'tax'>>;

type PricedCheckout = Pick<
  CheckoutRecord,
  'lines' | 'discount' | 'shipping' | 'lineItemsSubtotalCents' | 'totalDiscountsCents' | 'subtotalCents' | 'totalTaxCents' | 'shippingCents' | 'totalCents'
>;

export class Checkouts {
  private readonly byToken = new Map<string, CheckoutRecord>();
  /** What each checkout was priced from, so that a change re-prices it with the rest kept. */
  private readonly pricing = new Map<string, CartChange & Pick<CheckoutInput, 'lines'>>();

  constructor(
    private readonly catalog: Catalog,
    private readonly assumptions: Assumptions,
    private readonly publicUrl: () => string,
    private readonly now: () => Date,
  ) {}

  create(shop: { domain: string; shopId: number }, input: CheckoutInput): CheckoutRecord {
    const priced = this.price(shop.domain, input);
    const at = this.now().toISOString();
    const record: CheckoutRecord = {
      shop: shop.domain,
      id: randomInt(10_000_000_000_000, 99_999_999_999_999),
      token: randomBytes(16).toString('hex'),
      // Cart tokens seen in 2023 webhooks start with "c1-"; today's URL tokens are base64 of a region
      // and a ULID-like id ("Z2NwLXVzLWVhc3Qx…").
      cartToken: `c1-${randomBytes(16).toString('hex')}`,
      opaqueToken: Buffer.from(`gcp-us-east1:01${randomBytes(12).toString('hex').toUpperCase()}`).toString('base64url'),
      cancelUrlForm: input.cancelUrlForm ?? this.assumptions.cancelUrlForm,
      locale: input.locale === undefined ? this.assumptions.checkoutUrlLocale : input.locale,
      checkoutUrl: '',
      cancelUrl: '',
      currency: input.currency ?? 'USD',
      email: input.email === undefined ? 'buyer@example.com' : input.email,
      consent: { analytics: true, marketing: true, preferences: true, saleOfData: true, ...input.consent },
      ...priced,
      createdAt: at,
      updatedAt: at,
      completedAt: null,
      paymentSessionId: null,
      orderId: null,
    };
    const urls = checkoutUrls(this.publicUrl(), shop.shopId, record);
    record.checkoutUrl = urls.page;
    record.cancelUrl = urls.cancel;
    this.byToken.set(record.token, record);
    this.pricing.set(record.token, { lines: input.lines, discount: input.discount, shipping: input.shipping, tax: input.tax });
    return record;
  }

  /**
   * The buyer changes their cart on the same checkout (same tokens and URLs): it is priced again from
   * the catalog, and no event or webhook is sent for the change by itself.
   */
  change(token: string, change: CartChange): CheckoutRecord {
    const checkout = this.byToken.get(token);
    if (!checkout) throw Object.assign(new Error(`No checkout ${token}`), { status: 404 });
    if (checkout.completedAt) throw Object.assign(new Error(`Checkout ${token} is completed`), { status: 409 });
    const pricing = { ...this.pricing.get(token)!, ...change };
    Object.assign(checkout, this.price(checkout.shop, pricing), { updatedAt: this.now().toISOString() });
    this.pricing.set(token, pricing);
    return checkout;
  }

  /** Lines and totals the way Shopify computes them (module comment). */
  private price(shopDomain: string, input: CartChange & Pick<CheckoutInput, 'lines'>): PricedCheckout {
    if (!input.lines?.length) throw new Error('a checkout needs at least one line');
    const lines = input.lines.map((line) => {
      const variant = this.catalog.variant(shopDomain, line.variantId);
      if (!variant) throw Object.assign(new Error(`No variant ${line.variantId} in ${shopDomain}`), { status: 404 });
      const product = this.catalog.product(shopDomain, variant.productId)!;
      const quantity = line.quantity ?? 1;
      if (!Number.isInteger(quantity) || quantity < 1) throw new Error(`quantity must be a positive integer, got ${quantity}`);
      return {
        key: randomBytes(16).toString('hex'),
        variantId: variant.id,
        productId: product.id,
        productTitle: product.title,
        variantTitle: variant.title,
        sku: variant.sku,
        vendor: product.vendor,
        quantity,
        unitPriceCents: variant.priceCents,
        linePriceCents: variant.priceCents * quantity,
        discountCents: 0,
        taxCents: 0,
        taxRate: 0,
        taxable: variant.taxable,
      } satisfies CheckoutLineRecord;
    });

    const lineItemsSubtotalCents = lines.reduce((sum, l) => sum + l.linePriceCents, 0);
    const discountCents = input.discount ? Math.min(toCents(input.discount.amount), lineItemsSubtotalCents) : 0;
    allocate(discountCents, lines.map((l) => l.linePriceCents)).forEach((cents, i) => (lines[i]!.discountCents = cents));
    if (input.tax && 'rate' in input.tax) {
      const rate = input.tax.rate;
      for (const line of lines) {
        line.taxRate = line.taxable ? rate : 0;
        line.taxCents = line.taxable ? Math.round((line.linePriceCents - line.discountCents) * rate) : 0;
      }
    } else if (input.tax && 'amount' in input.tax) {
      const taxable = lines.map((l) => (l.taxable ? l.linePriceCents - l.discountCents : 0));
      allocate(toCents(input.tax.amount), taxable).forEach((cents, i) => {
        const line = lines[i]!;
        line.taxCents = cents;
        const base = line.linePriceCents - line.discountCents;
        line.taxRate = base > 0 ? Math.round((cents / base) * 10_000) / 10_000 : 0;
      });
    }
    const shippingCents = input.shipping ? toCents(input.shipping.price) : 0;
    const subtotalCents = lineItemsSubtotalCents - discountCents;
    const totalTaxCents = lines.reduce((sum, l) => sum + l.taxCents, 0);
    return {
      lines,
      discount: input.discount ? { code: input.discount.code, amountCents: discountCents } : null,
      shipping: input.shipping ? { title: input.shipping.title ?? 'Standard', code: input.shipping.code ?? 'STANDARD', priceCents: shippingCents } : null,
      lineItemsSubtotalCents,
      totalDiscountsCents: discountCents,
      subtotalCents,
      totalTaxCents,
      shippingCents,
      totalCents: subtotalCents + shippingCents + totalTaxCents,
    };
  }

  /** By checkout token, cart token or URL token. */
  get(token: string): CheckoutRecord | undefined {
    const direct = this.byToken.get(token);
    if (direct) return direct;
    for (const checkout of this.byToken.values()) {
      if (checkout.cartToken === token || checkout.opaqueToken === token) return checkout;
    }
    return undefined;
  }

  list(shop?: string): CheckoutRecord[] {
    return [...this.byToken.values()].filter((c) => !shop || c.shop === shop);
  }
}

/** The token the checkout URL's path carries for each form. */
export function urlToken(checkout: Pick<CheckoutRecord, 'cancelUrlForm' | 'token' | 'cartToken' | 'opaqueToken'>): string {
  switch (checkout.cancelUrlForm) {
    case 'legacy':
    case 'cn_checkout_token':
      return checkout.token;
    case 'cn_cart_token':
      return checkout.cartToken;
    case 'cn_opaque':
      return checkout.opaqueToken;
  }
}

/**
 * The buyer's checkout page and the `cancel_url` (reference §2). The host is the simulator's
 * `publicUrl` like every URL it hands out (on Shopify: the shop's domain).
 */
export function checkoutUrls(
  base: string,
  shopId: number,
  checkout: Pick<CheckoutRecord, 'cancelUrlForm' | 'token' | 'cartToken' | 'opaqueToken' | 'locale'>,
): { page: string; cancel: string } {
  const token = urlToken(checkout);
  if (checkout.cancelUrlForm === 'legacy') {
    const url = `${base}/${shopId}/checkouts/${token}`;
    return { page: url, cancel: url };
  }
  const locale = checkout.locale ? `/${checkout.locale}` : '';
  const page = `${base}/checkouts/cn/${token}${locale}`;
  // Today's cancel URLs carry the return-to-checkout flags seen on shops' checkout links.
  return { page, cancel: `${page}?auto_redirect=false&edge_redirect=true&skip_shop_pay=true` };
}

/**
 * REST checkout payload of checkouts/create and checkouts/update (shopify.dev webhook topic
 * reference; captured 2023 payloads in reference §3). Buyer details are limited to the email and
 * a shipping address, which need protected customer data approval on Shopify.
 */
export function checkoutWebhookPayload(checkout: CheckoutRecord, stage: 'create' | 'update'): Record<string, unknown> {
  const money = restMoney;
  return {
    id: checkout.id,
    token: checkout.token,
    cart_token: checkout.cartToken,
    email: checkout.email,
    gateway: null,
    buyer_accepts_marketing: false,
    buyer_accepts_sms_marketing: false,
    created_at: checkout.createdAt,
    updated_at: checkout.updatedAt,
    landing_site: '/',
    note: null,
    note_attributes: [],
    referring_site: '',
    shipping_lines:
      stage === 'update' && checkout.shipping
        ? [
            {
              code: checkout.shipping.code,
              price: money(checkout.shipping.priceCents),
              original_shop_price: money(checkout.shipping.priceCents),
              source: 'shopify',
              title: checkout.shipping.title,
              tax_lines: [],
              applied_discounts: [],
            },
          ]
        : [],
    taxes_included: false,
    total_weight: 0,
    currency: checkout.currency,
    presentment_currency: checkout.currency,
    completed_at: checkout.completedAt,
    closed_at: null,
    user_id: null,
    location_id: null,
    source_identifier: null,
    source_url: null,
    device_id: null,
    phone: null,
    customer_locale: 'en-US',
    name: `#${checkout.id}`,
    source: null,
    source_name: 'web',
    abandoned_checkout_url: checkout.checkoutUrl,
    line_items: checkout.lines.map((line) => ({
      key: line.key,
      applied_discounts: [],
      discount_allocations: line.discountCents
        ? [{ id: null, amount: money(line.discountCents), description: checkout.discount!.code, created_at: null, application_type: 'discount_code' }]
        : [],
      destination_location_id: null,
      fulfillment_service: 'manual',
      gift_card: false,
      grams: 0,
      origin_location_id: null,
      presentment_title: line.productTitle,
      presentment_variant_title: line.variantTitle,
      product_id: line.productId,
      properties: null,
      quantity: line.quantity,
      requires_shipping: true,
      sku: line.sku,
      tax_lines: line.taxCents ? [{ price: money(line.taxCents), rate: line.taxRate, title: 'Sales Tax', channel_liable: false }] : [],
      taxable: line.taxable,
      title: line.productTitle,
      variant_id: line.variantId,
      variant_title: line.variantTitle,
      variant_price: money(line.unitPriceCents),
      vendor: line.vendor,
      compare_at_price: null,
      line_price: money(line.linePriceCents),
      price: money(line.unitPriceCents),
    })),
    discount_codes: checkout.discount ? [{ code: checkout.discount.code, amount: money(checkout.discount.amountCents), type: 'fixed_amount' }] : [],
    tax_lines: checkout.totalTaxCents ? [{ price: money(checkout.totalTaxCents), rate: checkout.lines[0]?.taxRate ?? 0, title: 'Sales Tax' }] : [],
    total_discounts: money(checkout.totalDiscountsCents),
    total_line_items_price: money(checkout.lineItemsSubtotalCents),
    // checkouts/create is sent when the buyer arrives: no shipping rate chosen yet.
    total_price: money(checkout.subtotalCents + checkout.totalTaxCents + (stage === 'update' ? checkout.shippingCents : 0)),
    total_tax: money(checkout.totalTaxCents),
    subtotal_price: money(checkout.subtotalCents),
    total_duties: null,
    reservation_token: null,
  };
}

const STAGE_INDEX: Record<CheckoutEventName, number> = Object.fromEntries(CHECKOUT_STAGES.map((s, i) => [s, i])) as Record<CheckoutEventName, number>;

/**
 * The pixel event's `data.checkout` (`Checkout` of @shopify/web-pixels-extension) at a given step:
 * tax is known once the address is in, the shipping line once a rate is chosen. Buyer PII is null, as
 * for apps without protected customer data approval (since 2025-12-10). Ids are numeric strings.
 */
export function pixelCheckout(checkout: CheckoutRecord, eventName: CheckoutEventName, orderId: number | null): Record<string, unknown> {
  const stage = STAGE_INDEX[eventName];
  const money = (cents: number) => ({ amount: pixelAmount(cents), currencyCode: checkout.currency });
  const taxKnown = stage >= STAGE_INDEX.checkout_address_info_submitted;
  const shippingKnown = stage >= STAGE_INDEX.checkout_shipping_info_submitted;
  const tax = taxKnown ? checkout.totalTaxCents : 0;
  const shipping = shippingKnown ? checkout.shippingCents : 0;
  return {
    attributes: [],
    billingAddress: null,
    buyerAcceptsEmailMarketing: false,
    buyerAcceptsSmsMarketing: false,
    currencyCode: checkout.currency,
    delivery:
      shippingKnown && checkout.shipping
        ? {
            selectedDeliveryOptions: [
              {
                cost: money(checkout.shipping.priceCents),
                costAfterDiscounts: money(checkout.shipping.priceCents),
                description: null,
                handle: checkout.shipping.code.toLowerCase(),
                title: checkout.shipping.title,
                type: 'shipping',
              },
            ],
          }
        : null,
    discountApplications: checkout.discount
      ? [
          {
            allocationMethod: 'ACROSS',
            targetSelection: 'ALL',
            targetType: 'LINE_ITEM',
            title: checkout.discount.code,
            type: 'DISCOUNT_CODE',
            value: money(checkout.discount.amountCents),
          },
        ]
      : [],
    discountsAmount: money(checkout.totalDiscountsCents),
    email: null,
    lineItems: checkout.lines.map((line) => ({
      discountAllocations: line.discountCents
        ? [
            {
              amount: money(line.discountCents),
              discountApplication: {
                allocationMethod: 'ACROSS',
                targetSelection: 'ALL',
                targetType: 'LINE_ITEM',
                title: checkout.discount!.code,
                type: 'DISCOUNT_CODE',
                value: money(checkout.discount!.amountCents),
              },
            },
          ]
        : [],
      finalLinePrice: money(line.linePriceCents - line.discountCents),
      id: line.key,
      properties: [],
      quantity: line.quantity,
      sellingPlanAllocation: null,
      title: line.productTitle,
      variant: {
        id: String(line.variantId),
        image: null,
        price: money(line.unitPriceCents),
        product: {
          id: String(line.productId),
          title: line.productTitle,
          type: null,
          untranslatedTitle: line.productTitle,
          url: null,
          vendor: line.vendor,
        },
        sku: line.sku,
        title: line.variantTitle,
        untranslatedTitle: line.variantTitle,
      },
    })),
    localization: {
      country: { isoCode: 'US' },
      language: { isoCode: 'en' },
      market: { id: null, handle: 'us' },
    },
    order: orderId === null ? null : { id: String(orderId), customer: null },
    phone: null,
    shippingAddress: null,
    shippingLine: shippingKnown && checkout.shipping ? { price: money(checkout.shippingCents) } : null,
    smsMarketingPhone: null,
    subtotalPrice: money(checkout.subtotalCents),
    token: checkout.token,
    totalPrice: money(checkout.subtotalCents + tax + shipping),
    totalTax: money(tax),
    transactions: [],
  };
}

