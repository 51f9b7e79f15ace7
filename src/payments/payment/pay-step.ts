import { randomUUID } from 'node:crypto';
import type { Repositories } from '../../db/repositories';
import type { FlexConnectionWithSecrets, ShopWithConnection } from '../../db/repositories/flex-connections';
import type { PaymentSessionRecord } from '../../db/repositories/payment-sessions';
import type { FindCart } from '../../cart/find-cart';
import type { StoredPaymentCart } from '../../db/repositories/payment-carts';
import type { CartRead } from '../../db/repositories/cart-snapshots';
import type { CatchAllCatalog } from '../../flex/catch-all-catalog';
import { FlexApiError, type FlexAccountClient, type FlexClient } from '../../flex/flex-client';
import type { FlexCheckoutSession } from '../../flex/flex-types';
import type { Clock } from '../../lib/clock';
import { flexCheckoutSessionId, paymentIdFrom } from '../../lib/ids';
import type { Logger } from '../../lib/logger';
import { sleep } from '../../lib/sleep';
import type { BuyerReturnOutcome, HandleBuyerReturn } from './buyer-return';
import { expectedAmountTotal, flexCheckoutBody, type CheckoutContent } from './flex-checkout-body';

export type PayStepOutcome =
  | BuyerReturnOutcome
  /** Flex did not answer: the buyer can try again; nothing was decided. */
  | { type: 'flex_unavailable'; payment: PaymentSessionRecord }
  /** Flex will not take this payment (a refused key, a refused checkout): back to Shopify's checkout. */
  | { type: 'cannot_pay'; payment: PaymentSessionRecord; reason: string }
  /** Another request is making the checkout right now and did not finish in time. */
  | { type: 'busy'; payment: PaymentSessionRecord };

export interface PayStepDeps {
  repos: Repositories;
  flex: FlexClient;
  catalog: CatchAllCatalog;
  findCart: FindCart;
  buyerReturn: HandleBuyerReturn;
  clock: Clock;
  logger: Logger;
  appUrl: string;
  reconcileAfterMs: number;
  /** How long a concurrent opening of the page waits for the one making the checkout. */
  waitForConcurrentMs?: number;
  checkoutLeaseMs?: number;
}

/**
 * The buyer lands on `/pay/{id}` (Shopify's redirect): the app makes the Flex checkout session once
 * and sends the buyer to it. Opening the page twice, or concurrently, makes one checkout: a lease
 * lets one request call Flex while the others wait for its result, every write after the Flex call
 * is fenced by the lease's token (a holder whose lease ran out writes nothing), and the Flex call
 * carries an Idempotency-Key derived from Shopify's session id.
 *
 * A failure here is ours or Flex's, never the buyer's: the Shopify session is never rejected for it.
 * The buyer sees what happened and can try again or go back to Shopify's checkout.
 */
/** Another request took over the pay page's lease: this one writes nothing more. */
class LeaseLost extends Error {}

export class PayStep {
  constructor(private readonly deps: PayStepDeps) {}

  async execute(paymentIdText: string): Promise<PayStepOutcome> {
    const id = paymentIdFrom(paymentIdText);
    if (!id) return { type: 'not_found' };
    const deadline = Date.now() + (this.deps.waitForConcurrentMs ?? 15_000);
    for (;;) {
      // The claim first: its conditions (still RECEIVED, no checkout recorded, no lease held, no
      // paid payment in the group) are everything this page checks before making a checkout, so on
      // the common path (the first opening of the page) the row is not read before it; it is read
      // below when the claim fails, to say why, or when the lease was lost meanwhile. A page opened
      // again after its checkout was made pays a failed claim before that read: rarer than the first.
      const token = randomUUID();
      const now = this.deps.clock.now();
      const claimed = await this.deps.repos.payments.claimCheckoutCreation(id, token, now, new Date(now.getTime() + (this.deps.checkoutLeaseMs ?? 30_000)));
      if (claimed) {
        const found = this.deps.repos.flexConnections.shopWithConnectionOf(claimed.shopWithConnection);
        const made = await this.makeCheckout(claimed.payment, found, token, claimed.cartRead);
        if (made) return made;
      }
      const payment = await this.deps.repos.payments.findById(id);
      if (!payment) return { type: 'not_found' };
      if (payment.flexRedirectUrl) return { type: 'redirect', url: payment.flexRedirectUrl };
      if (payment.status !== 'RECEIVED') return this.deps.buyerReturn.current(payment.id);
      if (!claimed && (await this.deps.repos.payments.paidInGroup(payment))) {
        // One Shopify checkout, one payment: the buyer is not sent to pay a second time (the claim
        // refuses it; asked only when the claim failed, one round trip fewer on every pay page).
        return { type: 'cannot_pay', payment, reason: 'This order was already paid with Flex.' };
      }
      if (Date.now() > deadline) return { type: 'busy', payment };
      // Another request holds the lease: wait for it, then try again. After losing ours there is no
      // wait: the next claim fails against the new holder's lease and reads its progress.
      if (!claimed) await sleep(25);
    }
  }

  /** The checkout made and recorded, the buyer's next step; undefined when the lease was lost meanwhile. */
  private async makeCheckout(payment: PaymentSessionRecord, found: ShopWithConnection | null, token: string, cartRead: CartRead | undefined): Promise<PayStepOutcome | undefined> {
    const { repos, clock } = this.deps;
    const shop = found?.shop;
    const connection = shop?.status === 'ACTIVE' ? found!.connection : null;
    if (!shop || !connection) {
      await repos.payments.releaseCheckoutLease(payment.id, token);
      return { type: 'cannot_pay', payment, reason: 'The store has no Flex account connected for this kind of payment any more.' };
    }
    const cart = await this.cartOf(payment, token, cartRead);
    if (!cart) {
      // The lease ran out while the cart was being looked for: another request holds it now.
      return undefined;
    }
    try {
      const checkout = await this.createCheckout(payment, token, shop.domain, connection, cart);
      const redirectUrl = checkout.redirect_url;
      if (!redirectUrl) throw new FlexApiError('unavailable', 'Flex created the checkout session without a redirect_url');
      const saved = await repos.payments.recordCheckoutCreated(
        payment.id,
        token,
        flexCheckoutSessionId(checkout.checkout_session_id),
        redirectUrl,
        new Date(clock.now().getTime() + this.deps.reconcileAfterMs),
        { type: 'flex_checkout_created', detail: { flexCheckoutSessionId: checkout.checkout_session_id, amountTotal: checkout.amount_total ?? null } },
      );
      if (connection.keyRejectedAt) await repos.flexConnections.clearKeyRejected(connection.id);
      return saved ? { type: 'redirect', url: redirectUrl } : undefined;
    } catch (error) {
      if (error instanceof LeaseLost) return undefined;
      await repos.payments.releaseCheckoutLease(payment.id, token);
      if (!(error instanceof FlexApiError)) throw error;
      await repos.payments.addEvent(payment.id, 'flex_checkout_failed', { kind: error.kind, status: error.status ?? null, code: error.code ?? null, message: error.message });
      this.deps.logger.warn({ paymentSessionId: payment.id, flexError: { kind: error.kind, status: error.status, code: error.code } }, 'could not create the Flex checkout session');
      if (error.kind === 'unauthorized') {
        await repos.flexConnections.markKeyRejected(connection.id, clock.now());
        return { type: 'cannot_pay', payment, reason: 'Flex is not accepting payments for this store right now.' };
      }
      if (error.kind === 'unavailable') return { type: 'flex_unavailable', payment };
      return { type: 'cannot_pay', payment, reason: `Flex could not take this payment: ${error.message}` };
    }
  }

  /**
   * What the Flex checkout is made of: decided once (the buyer's cart, or the catch-all line and
   * why) and stored before Flex is called, so that a retry sends Flex the same body under the same
   * Idempotency-Key. Null when the lease was lost meanwhile.
   */
  private async cartOf(payment: PaymentSessionRecord, token: string, cartRead: CartRead | undefined): Promise<StoredPaymentCart | null> {
    const { repos } = this.deps;
    // `payment` is the row as this request claimed it: with no cart source on it none was recorded,
    // and none can be while the lease is ours, so there is nothing to read back.
    if (payment.cartSource) {
      const stored = await repos.paymentCarts.find(payment.id);
      if (stored) return stored;
    }
    // The claim read the cart already (`cartRead`), unless the payment was stored without its checkout token.
    const decision = await this.deps.findCart.forPayment(payment, cartRead);
    const cart: StoredPaymentCart =
      decision.source === 'CART'
        ? {
            source: 'CART',
            snapshotId: decision.snapshotId,
            lines: decision.cart.lines,
            shippingMinor: decision.cart.shippingMinor,
            taxMinor: decision.cart.taxMinor,
            discountMinor: decision.cart.lines.reduce((sum, l) => sum + l.discountMinor, 0) + decision.cart.orderDiscountMinor,
            adjustmentMinor: decision.cart.adjustmentMinor,
          }
        : { source: 'CATCH_ALL', reason: decision.reason };
    const event =
      decision.source === 'CART'
        ? { type: 'cart_joined', detail: { snapshot: decision.snapshotSource.toLowerCase(), lines: decision.cart.lines.length, adjustmentMinor: decision.cart.adjustmentMinor } }
        : { type: 'cart_fallback', detail: { reason: decision.reason, detail: decision.detail } };
    if (decision.source === 'CATCH_ALL') this.deps.logger.info({ paymentSessionId: payment.id, cartFallback: decision.reason }, 'payment goes to Flex as the catch-all line');
    return (await repos.paymentCarts.record(payment.id, token, cart, event)) ? cart : null;
  }

  private async createCheckout(
    record: PaymentSessionRecord,
    token: string,
    shopDomain: string,
    connection: FlexConnectionWithSecrets,
    cart: StoredPaymentCart,
  ): Promise<FlexCheckoutSession> {
    const flex = this.deps.flex.forKey(connection.apiKey);
    // A previous attempt may have reached Flex and then lost its answer (timeout, crash). Flex's
    // idempotency replay covers that, and so does looking the session up by our reference.
    if (record.checkoutAttempts > 1) {
      const earlier = await this.findEarlierCheckout(flex, record);
      if (earlier) return earlier;
    }
    const idempotencyKey = `shopify-payment-session:${shopDomain}:${record.shopifyId}`;
    if (cart.source === 'CART') {
      const content: CheckoutContent = { kind: 'cart', ...cart };
      const refused = await this.tryCartCheckout(flex, record, shopDomain, content, idempotencyKey);
      if (refused.checkout) return refused.checkout;
      // Flex would not take the cart as we sent it: the buyer still pays, as one catch-all line.
      const fellBack = await this.deps.repos.paymentCarts.fallBackToCatchAll(record.id, token, 'flex_refused_cart', {
        type: 'cart_fallback',
        detail: { reason: 'flex_refused_cart', detail: refused.why },
      });
      if (!fellBack) throw new LeaseLost();
      return this.catchAllCheckout(flex, record, shopDomain, connection, `${idempotencyKey}:catch-all`);
    }
    // A catch-all decided after Flex refused the cart keeps its own key: the first key's body was the cart.
    return this.catchAllCheckout(flex, record, shopDomain, connection, cart.reason === 'flex_refused_cart' ? `${idempotencyKey}:catch-all` : idempotencyKey);
  }

  /**
   * The checkout with the buyer's lines, or why Flex will not have it: a refusal (a synced price
   * Flex no longer has), or a total that is not Shopify's amount (then the checkout is canceled, so
   * no buyer can ever pay it). Flex being unavailable is thrown: the buyer tries again.
   */
  private async tryCartCheckout(
    flex: FlexAccountClient,
    record: PaymentSessionRecord,
    shopDomain: string,
    content: CheckoutContent,
    idempotencyKey: string,
  ): Promise<{ checkout: FlexCheckoutSession; why?: undefined } | { checkout?: undefined; why: string }> {
    let checkout: FlexCheckoutSession;
    try {
      checkout = await flex.createCheckoutSession(flexCheckoutBody(record, shopDomain, this.deps.appUrl, content), idempotencyKey);
    } catch (error) {
      if (error instanceof FlexApiError && error.kind === 'rejected') return { why: error.message };
      throw error;
    }
    const expected = expectedAmountTotal(content, record.amountMinor);
    if (checkout.amount_total === undefined || checkout.amount_total === null || checkout.amount_total === record.amountMinor) return { checkout };
    await flex.cancelCheckoutSession(checkout.checkout_session_id, `${idempotencyKey}:cancel-wrong-total`).catch((error: unknown) => {
      this.deps.logger.warn({ paymentSessionId: record.id, err: error }, 'could not cancel a Flex checkout whose total was wrong; it is never shown to the buyer');
    });
    return { why: `Flex computed amount_total ${checkout.amount_total}, we expected ${expected} and Shopify asked for ${record.amountMinor}` };
  }

  private async catchAllCheckout(flex: FlexAccountClient, record: PaymentSessionRecord, shopDomain: string, connection: FlexConnectionWithSecrets, idempotencyKey: string): Promise<FlexCheckoutSession> {
    const body = (priceId: string) => flexCheckoutBody(record, shopDomain, this.deps.appUrl, { kind: 'catch_all', priceId });
    const priceId = await this.deps.catalog.priceFor(connection, flex, shopDomain, record.amountMinor, record.currency);
    try {
      return await flex.createCheckoutSession(body(priceId), idempotencyKey);
    } catch (error) {
      // A price deleted in Flex: forget it and make a new one, once (as Flex's own plugin does).
      if (!(error instanceof FlexApiError) || error.code !== 'price_not_found') throw error;
      await this.deps.catalog.forgetPrice(connection, record.amountMinor, record.currency);
      const freshPrice = await this.deps.catalog.priceFor(connection, flex, shopDomain, record.amountMinor, record.currency);
      return flex.createCheckoutSession(body(freshPrice), `${idempotencyKey}:price-${freshPrice}`);
    }
  }

  private async findEarlierCheckout(flex: FlexAccountClient, record: PaymentSessionRecord): Promise<FlexCheckoutSession | undefined> {
    const sessions = await flex.listCheckoutSessionsByReference(record.shopifyId);
    return sessions.find((s) => s.metadata?.app_payment_session_id === record.id && s.status !== 'expired' && s.status !== 'canceled' && s.redirect_url);
  }
}
