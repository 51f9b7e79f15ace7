// What happens around a payment on Shopify's side, in order: the catalog changes and their
// products/* webhooks; a buyer's checkout (pixel events, checkouts/* webhooks, the payment session
// request, in an order a test can choose); the order Shopify creates once the payment is resolved
// (orders/create, orders/paid, checkout_completed); captures, voids; refunds by line (refunds/create
// and the refund session request, in either order).
import type { Assumptions } from './assumptions';
import { productWebhookPayload, type Catalog, type ProductInput, type ProductRecord } from './catalog';
import {
  checkoutWebhookPayload,
  pixelCheckout,
  type CartChange,
  type CheckoutEventName,
  type CheckoutInput,
  type CheckoutRecord,
  type Checkouts,
} from './checkouts';
import { restMoney } from './money';
import {
  orderWebhookPayload,
  refundWebhookPayload,
  type OrderRecord,
  type OrderTransactionRecord,
  type Orders,
  type RefundLinesInput,
  type RefundRecord,
} from './orders';
import type { FollowUpSessionRecord, PaymentSessionRecord, Transition } from './payments-state';
import type { PixelPage, PixelRuntime } from './pixel-runtime';
import { randomSessionId, type FollowUpSessionInput, type PaymentSessionInput, type SentSession } from './session-requests';
import type { ShopRecord, ShopRegistry } from './shops';
import type { AppConfig } from './types';
import type { WebhookDispatcher, WebhookEventRecord } from './webhook-dispatch';
import type { WebPixels } from './web-pixels';

export type CheckoutStep =
  | { pixel: CheckoutEventName; delayMs?: number; wait?: boolean }
  | { webhook: 'checkouts/create' | 'checkouts/update'; delayMs?: number; wait?: boolean }
  | { paymentSession: true; delayMs?: number; wait?: boolean }
  /** The buyer changes the cart (re-priced, same checkout); nothing is sent for it by itself. */
  | { changeCart: CartChange; delayMs?: number; wait?: boolean };

export interface RunCheckoutInput extends CheckoutInput {
  /**
   * The steps in order. Each waits `delayMs` (default `delayMs` of the run) before it starts and, unless
   * `wait: false`, is finished (pixel request answered, webhook delivered, session answered) before the
   * next one starts. Default: {@link defaultCheckoutSteps}.
   */
  steps?: CheckoutStep[];
  /** Leave out every step of these kinds (e.g. `['pixel']` for a buyer whose ad blocker stops the pixel). */
  skip?: Array<'pixel' | 'webhooks' | 'session'>;
  /** Default delay before each step, ms (default 0). */
  delayMs?: number;
  /** Extra options of the payment session request (kind, test, headers, overrides…); `amount` defaults to the checkout total. */
  session?: Partial<PaymentSessionInput>;
}

export interface CheckoutRun {
  checkout: CheckoutRecord;
  /** The payment session request (null when skipped). */
  session: SentSession<PaymentSessionRecord> | null;
  /** Whether the app's pixel ran on this checkout (webPixelCreate called, consent sufficient). */
  pixelLoaded: boolean;
  /** The standard events published to the pixel, in order. */
  pixelEvents: Array<Record<string, unknown>>;
  webhooks: WebhookEventRecord[];
}

export interface ProductChange {
  product: ProductRecord;
  /** The products/* webhook: resolves once delivered, dropped or skipped (not subscribed). */
  webhook: Promise<WebhookEventRecord>;
}

export interface RefundLinesOptions extends RefundLinesInput {
  /** Whether refunds/create goes before or after the refund session request (default: the assumption). */
  webhookTiming?: 'before_session' | 'after_session';
  /** Extra options of the refund session request. */
  session?: Partial<FollowUpSessionInput>;
}

export interface RefundLinesResult {
  order: OrderRecord;
  refund: RefundRecord;
  /** What Shopify computed: discounted line amounts, their tax, and shipping, in cents. */
  amountCents: number;
  session: SentSession<FollowUpSessionRecord>;
  webhook: WebhookEventRecord;
}

/** Where `payment_info_submitted` goes relative to the session request, per the assumption. */
export function defaultCheckoutSteps(assumptions: Assumptions): CheckoutStep[] {
  const before: CheckoutStep[] = [
    { pixel: 'checkout_started' },
    { webhook: 'checkouts/create' },
    { pixel: 'checkout_contact_info_submitted' },
    { pixel: 'checkout_address_info_submitted' },
    { pixel: 'checkout_shipping_info_submitted' },
    { webhook: 'checkouts/update' },
  ];
  switch (assumptions.paymentInfoTiming) {
    case 'after_session':
      return [...before, { paymentSession: true }, { pixel: 'payment_info_submitted' }];
    case 'concurrent':
      return [...before, { pixel: 'payment_info_submitted', wait: false }, { paymentSession: true }];
    default:
      return [...before, { pixel: 'payment_info_submitted' }, { paymentSession: true }];
  }
}

export interface CommerceContext {
  shops: ShopRegistry;
  catalog: Catalog;
  checkouts: Checkouts;
  orders: Orders;
  webPixels: WebPixels;
  pixels: PixelRuntime;
  dispatcher: WebhookDispatcher;
  assumptions: Assumptions;
  now(): Date;
  app(): AppConfig | undefined;
  sendPaymentSession(shop: string, input: PaymentSessionInput): Promise<SentSession<PaymentSessionRecord>>;
  sendRefundSession(shop: string, input: FollowUpSessionInput): Promise<SentSession<FollowUpSessionRecord>>;
  notify(): void;
}

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

export class Commerce {
  private readonly pages = new Map<string, PixelPage | null>();
  private readonly background = new Set<Promise<unknown>>();

  constructor(private readonly ctx: CommerceContext) {}

  // ---- catalog ----

  createProduct(shop: string, input: ProductInput): ProductChange {
    const product = this.ctx.catalog.create(shop, input);
    return { product, webhook: this.ctx.dispatcher.emit(shop, 'products/create', productWebhookPayload(product, this.ctx.assumptions.productWebhookVariantLimit)) };
  }

  updateProduct(shop: string, id: number | string, patch: Partial<ProductInput>): ProductChange {
    const product = this.ctx.catalog.update(shop, id, patch);
    return { product, webhook: this.ctx.dispatcher.emit(shop, 'products/update', productWebhookPayload(product, this.ctx.assumptions.productWebhookVariantLimit)) };
  }

  deleteProduct(shop: string, id: number | string): ProductChange {
    const product = this.ctx.catalog.delete(shop, id);
    if (!product) throw Object.assign(new Error(`No product ${id} in ${shop}`), { status: 404 });
    // products/delete carries only the id (shopify.dev webhook topic reference).
    return { product, webhook: this.ctx.dispatcher.emit(shop, 'products/delete', { id: product.id }) };
  }

  // ---- checkouts ----

  /** The pixel page of a checkout: opened on first use, null when Shopify would not load the pixel. */
  private page(shop: ShopRecord, checkout: CheckoutRecord): PixelPage | null {
    if (this.pages.has(checkout.token)) return this.pages.get(checkout.token)!;
    const pixel = this.ctx.webPixels.get(shop.domain);
    let page: PixelPage | null = null;
    if (pixel && shop.installed) {
      page = this.ctx.pixels.open({
        shop: { domain: shop.domain, name: shop.name },
        checkoutToken: checkout.token,
        settings: JSON.parse(pixel.settings) as Record<string, unknown>,
        href: checkout.checkoutUrl,
        consent: checkout.consent,
        currency: checkout.currency,
      });
    }
    this.pages.set(checkout.token, page);
    return page;
  }

  async runCheckout(shopDomain: string, input: RunCheckoutInput): Promise<CheckoutRun> {
    const shop = this.ctx.shops.ensureShop(shopDomain);
    const checkout = this.ctx.checkouts.create(shop, input);
    const skip = new Set(input.skip ?? []);
    const steps = (input.steps ?? defaultCheckoutSteps(this.ctx.assumptions)).filter((step) => {
      if ('pixel' in step) return !skip.has('pixel');
      if ('webhook' in step) return !skip.has('webhooks');
      if ('changeCart' in step) return true;
      return !skip.has('session');
    });
    const run: CheckoutRun = { checkout, session: null, pixelLoaded: false, pixelEvents: [], webhooks: [] };
    const page = steps.some((s) => 'pixel' in s) ? this.page(shop, checkout) : null;
    run.pixelLoaded = page !== null;
    const unfinished: Array<Promise<unknown>> = [];
    for (const step of steps) {
      await sleep(step.delayMs ?? input.delayMs ?? 0);
      let work: Promise<unknown>;
      if ('pixel' in step) {
        work = page
          ? page.publish(step.pixel, { checkout: pixelCheckout(checkout, step.pixel, checkout.orderId) }).then((event) => run.pixelEvents.push(event))
          : Promise.resolve();
      } else if ('webhook' in step) {
        checkout.updatedAt = this.ctx.now().toISOString();
        const payload = checkoutWebhookPayload(checkout, step.webhook === 'checkouts/create' ? 'create' : 'update');
        work = this.ctx.dispatcher.emit(shop.domain, step.webhook, payload).then((record) => run.webhooks.push(record));
      } else if ('changeCart' in step) {
        this.ctx.checkouts.change(checkout.token, step.changeCart);
        work = Promise.resolve();
      } else {
        work = this.ctx
          .sendPaymentSession(shop.domain, { amount: restMoney(checkout.totalCents), currency: checkout.currency, ...input.session, checkoutToken: checkout.token })
          .then((sent) => {
            run.session = sent;
            checkout.paymentSessionId = sent.session.id;
          });
      }
      if (step.wait === false) unfinished.push(work);
      else await work;
    }
    await Promise.all(unfinished);
    this.ctx.notify();
    return run;
  }

  // ---- after the payment ----

  gatewayName(): string {
    const app = this.ctx.app();
    return app?.paymentGatewayName ?? app?.name ?? 'Payments app';
  }

  /** Shopify's reaction to a session becoming final. */
  onTransition(transition: Transition): void {
    if (transition.kind === 'payment') {
      if (transition.status === 'resolved') this.createOrder(transition.session);
      return;
    }
    const session = transition.session;
    const order = this.ctx.orders.byPaymentSession(session.paymentId);
    if (!order || order.shop !== session.shop) return;
    if (transition.kind === 'refund') {
      const refund = order.refunds.find((r) => r.refundSessionId === session.id);
      const transaction = refund && order.transactions.find((t) => refund.transactionIds.includes(t.id));
      if (transaction) {
        transaction.status = transition.status === 'resolved' ? 'success' : 'failure';
        order.updatedAt = this.ctx.now().toISOString();
      }
      return;
    }
    if (transition.status !== 'resolved') return;
    const amountCents = Math.round(Number(session.amount ?? '0') * 100);
    this.ctx.orders.addFollowUpTransaction(order, transition.kind, session.id, amountCents);
    if (transition.kind === 'capture') this.track(this.ctx.dispatcher.emit(order.shop, 'orders/paid', orderWebhookPayload(order)));
  }

  private createOrder(session: PaymentSessionRecord): void {
    if (this.ctx.orders.byPaymentSession(session.id)) return;
    const checkout = session.checkoutToken ? this.ctx.checkouts.get(session.checkoutToken) : undefined;
    const order = this.ctx.orders.createFromPayment(session, checkout, this.gatewayName());
    if (checkout) {
      checkout.completedAt = order.createdAt;
      checkout.orderId = order.id;
    }
    // Webhooks and the thank-you page come after the resolve call has been answered.
    this.track(this.ctx.dispatcher.emit(order.shop, 'orders/create', orderWebhookPayload(order)));
    if (order.kind === 'sale') this.track(this.ctx.dispatcher.emit(order.shop, 'orders/paid', orderWebhookPayload(order)));
    if (checkout) {
      const shop = this.ctx.shops.get(order.shop)!;
      const page = this.page(shop, checkout);
      if (page) {
        const href = `${checkout.checkoutUrl.replace(/\/$/, '')}/thank-you`;
        this.track(sleep(0).then(() => page.publish('checkout_completed', { checkout: pixelCheckout(checkout, 'checkout_completed', order.id) }, href)));
      }
    }
    this.ctx.notify();
  }

  orderUpdated(order: OrderRecord): void {
    this.track(this.ctx.dispatcher.emit(order.shop, 'orders/updated', orderWebhookPayload(order)));
  }

  /** The payment id a transaction shows (REST `payment_id`, GraphQL `paymentId`). */
  transactionPaymentId(order: OrderRecord, transaction: OrderTransactionRecord): string {
    if (transaction.kind === 'refund' && this.ctx.assumptions.refundTransactionPaymentId === 'refund_session_id') {
      const refund = order.refunds.find((r) => r.transactionIds.includes(transaction.id));
      if (refund?.refundSessionId) return refund.refundSessionId;
    }
    return transaction.paymentId;
  }

  /**
   * The merchant refunds lines in the admin: Shopify records the refund on the order (pending
   * transaction), sends refunds/create and the refund session request (order per `webhookTiming`).
   */
  async refundLines(shopDomain: string, orderId: number | string, input: RefundLinesOptions): Promise<RefundLinesResult> {
    const order = this.ctx.orders.get(shopDomain.toLowerCase(), orderId);
    if (!order) throw Object.assign(new Error(`No order ${orderId} in ${shopDomain}`), { status: 404 });
    const { refund, amountCents } = this.ctx.orders.refundLines(order, input, this.ctx.assumptions.refundTransactionPendingUntilResolved);
    const timing = input.webhookTiming ?? this.ctx.assumptions.refundWebhookTiming;
    // The refund knows its session id before the request goes out: the app may resolve it before answering.
    const sessionId = input.session?.id ?? randomSessionId();
    refund.refundSessionId = sessionId;
    const transaction = order.transactions.find((t) => refund.transactionIds.includes(t.id));
    if (transaction) transaction.sessionId = sessionId;
    const sendSession = () =>
      this.ctx.sendRefundSession(order.shop, {
        ...input.session,
        id: sessionId,
        paymentId: order.paymentSessionId,
        amount: restMoney(amountCents),
        currency: order.currency,
      });
    const sendWebhook = () =>
      this.ctx.dispatcher.emit(order.shop, 'refunds/create', refundWebhookPayload(order, refund, (t) => this.transactionPaymentId(order, t)));
    let session: SentSession<FollowUpSessionRecord>;
    let webhook: WebhookEventRecord;
    if (timing === 'before_session') {
      webhook = await sendWebhook();
      session = await sendSession();
    } else {
      session = await sendSession();
      webhook = await sendWebhook();
    }
    this.ctx.notify();
    return { order, refund, amountCents, session, webhook };
  }

  private track(work: Promise<unknown>): void {
    this.background.add(work);
    void work.catch(() => undefined).finally(() => this.background.delete(work));
  }

  /** Until the work started by resolves and refunds (webhooks, pixel events) is done. */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
    await this.ctx.dispatcher.idle();
    await this.ctx.pixels.idle();
  }

  stop(): void {
    this.ctx.pixels.close();
    this.ctx.dispatcher.stop();
  }
}

