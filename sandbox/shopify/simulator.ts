import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Response } from 'express';
import { hasScope, type AdminCallRecord } from './admin-api';
import { CostBuckets, DEFAULT_THROTTLE, type ThrottleSettings } from './admin-cost';
import { createAssumptions, setAssumptions, type Assumptions } from './assumptions';
import { Catalog, type ProductInput, type ProductRecord, type SeedCatalogInput } from './catalog';
import { Checkouts, type CheckoutInput, type CheckoutRecord } from './checkouts';
import { Commerce, type CheckoutRun, type ProductChange, type RefundLinesOptions, type RefundLinesResult, type RunCheckoutInput } from './commerce';
import { Faults } from './faults';
import type { MutationRecord } from './graphql-api';
import { Metafields } from './metafields';
import { Orders, type OrderRecord } from './orders';
import { PixelRuntime, type PixelRequestRecord } from './pixel-runtime';
import { WebhookDispatcher, type WebhookEventRecord } from './webhook-dispatch';
import { loadPixelExtensionConfig, DEFAULT_PIXEL_EXTENSION_DIR, WebPixels, type PixelExtensionConfig, type WebPixelRecord } from './web-pixels';
import { DEFAULT_SUPPORTED_VERSIONS, isKnownApiVersion } from './graphql-schema';
import { HttpClient } from './http-client';
import { buildInstallUrl } from './oauth';
import {
  GID_PREFIX,
  PaymentsState,
  type FollowUpKind,
  type FollowUpSessionRecord,
  type PaymentSessionRecord,
  type PaymentSessionStatus,
} from './payments-state';
import { createServerApp } from './server';
import {
  sendFollowUpSession,
  sendPaymentSession,
  type FollowUpSessionInput,
  type PaymentSessionInput,
  type SentSession,
  type SessionRequestContext,
} from './session-requests';
import {
  DEFAULT_TOKEN_LIFETIMES,
  ShopRegistry,
  type AccessTokenRecord,
  type PaymentsAppConfigurationRecord,
  type ShopRecord,
} from './shops';
import type { AppConfig, ShopifySimulatorOptions } from './types';
import { sendWebhook, type WebhookContext, type WebhookDelivery, type WebhookOptions } from './webhooks';

/** What the HTTP layer needs beyond the public API. */
export interface SimulatorInternals {
  shops: ShopRegistry;
  state: PaymentsState;
  heldResponses: Set<Response>;
  options: ShopifySimulatorOptions;
  notify(): void;
  catalog: Catalog;
  checkouts: Checkouts;
  orders: Orders;
  metafields: Metafields;
  webPixels: WebPixels;
  buckets: CostBuckets;
  commerce: Commerce;
  pixelConfig(): PixelExtensionConfig;
}

export interface StartedCheckout extends SentSession<PaymentSessionRecord> {
  /** The app's `redirect_url`: where the buyer goes next. */
  redirectUrl: string;
}

interface Waiter {
  check(): boolean;
  reject(error: Error): void;
}

export class ShopifySimulator {
  /** Every GraphQL call, in order (including rejected and faulted ones). */
  readonly mutations: MutationRecord[] = [];
  /** Every Admin GraphQL API call, in order (including refused, throttled and faulted ones). */
  readonly adminCalls: AdminCallRecord[] = [];
  /** Every webhook sent to the app. */
  readonly webhookDeliveries: WebhookDelivery[] = [];
  /** Every webhook Shopify decided to send by itself, with what became of it (delivered, dropped, not subscribed…). */
  readonly webhookEvents: WebhookEventRecord[] = [];
  /** Every request the app's web pixel made from a checkout page. */
  readonly pixelRequests: PixelRequestRecord[] = [];
  /** The undocumented behaviours; change them at any time (`shopify.setAssumptions({...})` checks values). */
  readonly assumptions: Assumptions;
  readonly faults = new Faults();
  /** `Shopify-Api-Version` of session requests and `X-Shopify-API-Version` of webhooks. */
  readonly apiVersion: string;
  readonly supportedVersions: readonly string[];

  private appConfig: AppConfig | undefined;
  private server: http.Server | undefined;
  private clockOffsetMs = 0;
  private readonly http = new HttpClient();
  private readonly waiters = new Set<Waiter>();
  private readonly internals: SimulatorInternals;

  constructor(private readonly options: ShopifySimulatorOptions = {}) {
    this.apiVersion = options.apiVersion ?? '2026-10';
    this.supportedVersions = options.supportedVersions ?? DEFAULT_SUPPORTED_VERSIONS;
    for (const version of this.supportedVersions) {
      if (!isKnownApiVersion(version)) throw new Error(`Unknown API version ${version}`);
    }
    if (options.app) this.appConfig = validateApp(options.app);
    this.assumptions = createAssumptions(options.assumptions);
    const now = () => this.now();
    const state = new PaymentsState(now);
    state.onChange(() => this.notify());
    const catalog = new Catalog(now);
    const checkouts = new Checkouts(catalog, this.assumptions, () => this.url, now);
    const orders = new Orders(now);
    const webPixels = new WebPixels(now);
    const shopsRegistry = new ShopRegistry(now, {
      ...DEFAULT_TOKEN_LIFETIMES,
      ...(options.expiringTokenLifetimeSeconds ? { accessTokenSeconds: options.expiringTokenLifetimeSeconds } : {}),
      ...(options.refreshTokenLifetimeSeconds ? { refreshTokenSeconds: options.refreshTokenLifetimeSeconds } : {}),
    });
    const enforceScopes = options.enforceAccessScopes ?? true;
    const dispatcher = new WebhookDispatcher({
      now,
      subscriptions: () => this.appConfig?.webhookTopics ?? [],
      hasScope: (shop, scope) => !enforceScopes || Boolean(shopsRegistry.get(shop) && hasScope(shopsRegistry.get(shop)!, scope)),
      hasApp: () => Boolean(this.appConfig),
      send: (shop, topic, payload, webhookOptions) => this.sendWebhook(shop, topic, payload, webhookOptions),
      faults: this.faults.webhooks,
      records: this.webhookEvents,
      onRecord: () => this.notify(),
    });
    let pixelConfig: PixelExtensionConfig | undefined;
    const loadPixelConfig = () => {
      if (options.pixelExtensionDir === null) throw new Error('The app has no web pixel extension');
      pixelConfig ??= loadPixelExtensionConfig(options.pixelExtensionDir ?? DEFAULT_PIXEL_EXTENSION_DIR);
      return pixelConfig;
    };
    const pixels = new PixelRuntime({
      config: loadPixelConfig,
      assumptions: this.assumptions,
      now,
      records: this.pixelRequests,
      onRecord: () => this.notify(),
    });
    const commerce = new Commerce({
      shops: shopsRegistry,
      catalog,
      checkouts,
      orders,
      webPixels,
      pixels,
      dispatcher,
      assumptions: this.assumptions,
      now,
      app: () => this.appConfig,
      sendPaymentSession: (shop, input) => this.sendPaymentSession(shop, input),
      sendRefundSession: (shop, input) => this.sendRefundSession(shop, input),
      notify: () => this.notify(),
    });
    // Shopify's bookkeeping after a session (order, refund status) must never break the mutation itself.
    state.onTransition((transition) => {
      try {
        commerce.onTransition(transition);
      } catch (error) {
        console.error('Shopify simulator: could not record the effect of a session transition', error);
      }
    });
    this.internals = {
      shops: shopsRegistry,
      state,
      heldResponses: new Set(),
      options,
      notify: () => this.notify(),
      catalog,
      checkouts,
      orders,
      metafields: new Metafields(now),
      webPixels,
      buckets: new CostBuckets({ ...DEFAULT_THROTTLE, ...options.adminApiThrottle }, () => this.now().getTime()),
      commerce,
      pixelConfig: loadPixelConfig,
    };
  }

  // ---- lifecycle ----

  async start(): Promise<this> {
    if (this.server) return this;
    const server = http.createServer(createServerApp(this, this.internals));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return this;
  }

  /**
   * Ends every request a 'timeout' fault is holding without an answer, its connection closed, as a
   * proxy in front of Shopify giving up would: the app sees a network error and cannot know whether
   * Shopify applied the call. For a test that holds a call for as long as it needs, then lets it go.
   * Returns how many were held.
   */
  dropHeldRequests(): number {
    const held = [...this.internals.heldResponses];
    for (const res of held) res.destroy();
    this.internals.heldResponses.clear();
    return held.length;
  }

  async stop(): Promise<void> {
    for (const waiter of this.waiters) waiter.reject(new Error('Shopify simulator stopped'));
    this.waiters.clear();
    this.internals.commerce.stop();
    this.http.abortAll();
    this.dropHeldRequests();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  get port(): number {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('Shopify simulator is not started');
    return address.port;
  }

  /** Base URL of the simulator (`publicUrl` if given). Set SHOPIFY_API_ORIGIN of the app to this. */
  get url(): string {
    if (this.options.publicUrl) return this.options.publicUrl.replace(/\/$/, '');
    return `http://${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }

  /** The app's settings; tests often start the simulator before the app knows its port. */
  configureApp(app: Partial<AppConfig>): AppConfig {
    this.appConfig = validateApp({ ...this.appConfig, ...app } as AppConfig);
    return this.appConfig;
  }

  get app(): AppConfig | undefined {
    return this.appConfig;
  }

  private requireApp(): AppConfig {
    if (!this.appConfig) throw new Error('No app configured: pass `app` to the constructor or call configureApp()');
    return this.appConfig;
  }

  // ---- clock ----

  now(): Date {
    return new Date(Date.now() + this.clockOffsetMs);
  }

  /** Moves the simulator's clock (pending limits, code and token expiry, signed timestamps). */
  advanceClock(seconds: number): void {
    this.clockOffsetMs += seconds * 1000;
  }

  // ---- shops, installs, tokens ----

  /**
   * Installs the app on the shop directly (no OAuth) and returns an offline token for it. `scopes`
   * (e.g. `'read_products,write_orders,write_pixels,read_customer_events'`) are granted on top of the
   * payments scopes; the Admin API and the automatic webhooks check them.
   */
  createShop(domain: string, options: { scopes?: string | string[] } = {}): { domain: string; accessToken: string } {
    const shops = this.internals.shops;
    const scopes = Array.isArray(options.scopes) ? options.scopes.join(',') : (options.scopes ?? '');
    const shop = shops.install(domain, scopes);
    const existing = shops.tokensOf(shop.domain).find((t) => t.source === 'direct' && shops.activeToken(t.token));
    const token = existing ?? shops.issueToken(shop.domain, { source: 'direct' });
    return { domain: shop.domain, accessToken: token.token };
  }

  /** Registers a shop without installing the app (for the OAuth install flow). */
  addShop(domain: string): ShopRecord {
    return this.internals.shops.ensureShop(domain);
  }

  shop(domain: string): ShopRecord | undefined {
    return this.internals.shops.get(domain);
  }

  shops(): ShopRecord[] {
    return this.internals.shops.list();
  }

  accessTokens(domain: string): AccessTokenRecord[] {
    return this.internals.shops.tokensOf(domain);
  }

  revokeToken(token: string): boolean {
    return this.internals.shops.revokeToken(token);
  }

  /** Revokes the shop's tokens, drops its payments configuration and sends `app/uninstalled`. */
  async uninstallApp(domain: string, options: WebhookOptions = {}): Promise<WebhookDelivery | null> {
    const shop = this.internals.shops.get(domain);
    if (!shop?.installed) return null;
    this.internals.shops.uninstall(shop.domain);
    if (!this.appConfig) return null;
    return this.sendWebhook(shop.domain, 'app/uninstalled', undefined, options);
  }

  /** The signed application URL Shopify opens when the merchant installs or opens the app. */
  installUrl(domain: string): string {
    const shop = this.internals.shops.ensureShop(domain);
    return buildInstallUrl(this.requireApp(), shop.domain, this.now());
  }

  /** What the app last sent with `paymentsAppConfigure` for this shop (null: never). */
  paymentsAppConfiguration(domain: string): PaymentsAppConfigurationRecord | null {
    return this.internals.shops.get(domain)?.configuration ?? null;
  }

  /** Grants more scopes to an installed app (what a new OAuth grant with more scopes does). */
  grantScopes(domain: string, scopes: string | string[]): ShopRecord {
    return this.internals.shops.install(domain, Array.isArray(scopes) ? scopes.join(',') : scopes);
  }

  // ---- assumptions ----

  /** Changes undocumented behaviours (checked); returns the current set. */
  setAssumptions(overrides: Partial<Assumptions>): Assumptions {
    return setAssumptions(this.assumptions, overrides);
  }

  // ---- Admin API throttle ----

  /** Changes the Admin API bucket of one shop (or of every shop): size, restore rate, points left now. */
  setAdminThrottle(shop: string | undefined, settings: Partial<ThrottleSettings> & { currentlyAvailable?: number }): void {
    this.internals.buckets.configure(shop?.toLowerCase(), settings);
  }

  adminThrottleStatus(shop: string): { maximumAvailable: number; currentlyAvailable: number; restoreRate: number } {
    return this.internals.buckets.status(shop.toLowerCase());
  }

  // ---- catalog ----

  /** Creates a product with its variants and sends products/create. */
  createProduct(shop: string, input: ProductInput): ProductChange {
    return this.internals.commerce.createProduct(this.internals.shops.ensureShop(shop).domain, input);
  }

  /** Updates a product (a `variants` list replaces the variants) and sends products/update. */
  updateProduct(shop: string, id: number | string, patch: Partial<ProductInput>): ProductChange {
    return this.internals.commerce.updateProduct(this.internals.shops.ensureShop(shop).domain, id, patch);
  }

  /** Deletes a product and sends products/delete. */
  deleteProduct(shop: string, id: number | string): ProductChange {
    return this.internals.commerce.deleteProduct(this.internals.shops.ensureShop(shop).domain, id);
  }

  /** Many products at once without webhooks (e.g. 20,000 variants for a catalog sync test). */
  seedCatalog(shop: string, input: SeedCatalogInput): { products: number; variants: number } {
    return this.internals.catalog.seed(this.internals.shops.ensureShop(shop).domain, input);
  }

  /** A small mixed catalog (HSA/FSA-looking and ordinary products) for the demo checkout. */
  seedDemoCatalog(shop: string): ProductRecord[] {
    const domain = this.internals.shops.ensureShop(shop).domain;
    const demo: ProductInput[] = [
      { title: 'Digital Thermometer', productType: 'Health', description: 'Fast oral thermometer.', variants: [{ price: '24.99', sku: 'THERMO-1', barcode: '036000291452' }] },
      { title: 'First Aid Kit', productType: 'Health', description: '120-piece kit.', variants: [{ price: '19.50', sku: 'FAK-120', barcode: '012345678905' }] },
      { title: 'Sunscreen SPF 50', productType: 'Health', variants: [{ title: '3 oz', price: '12.00', sku: 'SUN-3', barcode: '070501110553' }, { title: '6 oz', price: '18.00', sku: 'SUN-6', barcode: '070501110560' }] },
      { title: 'Cotton T-Shirt', productType: 'Apparel', variants: [{ title: 'M', price: '15.00', sku: 'TEE-M' }, { title: 'L', price: '15.00', sku: 'TEE-L' }] },
      { title: 'Coffee Mug', productType: 'Home', variants: [{ price: '9.75', sku: 'MUG-1' }] },
    ];
    return demo.map((input) => this.createProduct(domain, input).product);
  }

  products(shop: string): ProductRecord[] {
    return this.internals.catalog.listProducts(shop.toLowerCase());
  }

  product(shop: string, id: number | string): ProductRecord | undefined {
    return this.internals.catalog.product(shop.toLowerCase(), id);
  }

  // ---- checkouts and the pixel ----

  /** The app's web pixel on a shop (after webPixelCreate), or null. */
  webPixel(shop: string): WebPixelRecord | null {
    return this.internals.webPixels.get(shop.toLowerCase()) ?? null;
  }

  /** A checkout priced from the catalog, without any event (for tests that drive the steps themselves). */
  createCheckout(shop: string, input: CheckoutInput): CheckoutRecord {
    return this.internals.checkouts.create(this.internals.shops.ensureShop(shop), input);
  }

  /**
   * A buyer's checkout from cart to payment session: pixel events, checkouts/* webhooks and the
   * session request, in the order and with the delays the input chooses (README, "Checkouts").
   */
  runCheckout(shop: string, input: RunCheckoutInput): Promise<CheckoutRun> {
    return this.internals.commerce.runCheckout(shop, input);
  }

  /** A checkout by checkout token, cart token or URL token. */
  checkout(token: string): CheckoutRecord | undefined {
    return this.internals.checkouts.get(token);
  }

  checkouts(filter: { shop?: string } = {}): CheckoutRecord[] {
    return this.internals.checkouts.list(filter.shop?.toLowerCase());
  }

  // ---- orders ----

  orders(filter: { shop?: string } = {}): OrderRecord[] {
    return this.internals.orders.list(filter.shop?.toLowerCase());
  }

  /** By numeric id or gid, or by the payment session id that paid it. */
  order(idOrPaymentSessionId: number | string): OrderRecord | undefined {
    return this.internals.orders.get(undefined, idOrPaymentSessionId) ?? this.internals.orders.byPaymentSession(String(idOrPaymentSessionId));
  }

  /** Resolves once Shopify has created the order for this payment session (after paymentSessionResolve). */
  waitForOrder(paymentSessionId: string, options: { timeoutMs?: number } = {}): Promise<OrderRecord> {
    return this.waitFor(() => this.internals.orders.byPaymentSession(paymentSessionId), options.timeoutMs ?? 10_000, `the order of payment session ${paymentSessionId}`);
  }

  /** The merchant edits the order note in the admin (sends orders/updated). */
  setOrderNote(shop: string, orderId: number | string, note: string | null): OrderRecord {
    const order = this.requireOrder(shop, orderId);
    order.note = note;
    order.updatedAt = this.now().toISOString();
    this.internals.commerce.orderUpdated(order);
    return order;
  }

  /** The merchant sets the order's tags in the admin (sends orders/updated). */
  setOrderTags(shop: string, orderId: number | string, tags: string[]): OrderRecord {
    const order = this.requireOrder(shop, orderId);
    order.tags = tags;
    order.updatedAt = this.now().toISOString();
    this.internals.commerce.orderUpdated(order);
    return order;
  }

  /** The merchant refunds lines (and shipping) in the admin: see README, "Refunds by line". */
  refundOrderLines(shop: string, orderId: number | string, input: RefundLinesOptions): Promise<RefundLinesResult> {
    return this.internals.commerce.refundLines(shop, orderId, input);
  }

  private requireOrder(shop: string, orderId: number | string): OrderRecord {
    const order = this.internals.orders.get(shop.toLowerCase(), orderId);
    if (!order) throw Object.assign(new Error(`No order ${orderId} in ${shop}`), { status: 404 });
    return order;
  }

  /** Resolves with the first automatic webhook (past or future) that matches. */
  waitForWebhookEvent(match: string | ((record: WebhookEventRecord) => boolean), options: { timeoutMs?: number } = {}): Promise<WebhookEventRecord> {
    const predicate = typeof match === 'string' ? (w: WebhookEventRecord) => w.topic === match : match;
    return this.waitFor(() => this.webhookEvents.find(predicate), options.timeoutMs ?? 10_000, `a webhook matching ${typeof match === 'string' ? match : 'the predicate'}`);
  }

  /** Until every webhook, pixel request and follow-up Shopify has started is done. */
  idle(): Promise<void> {
    return this.internals.commerce.idle();
  }

  // ---- session requests ----

  private sessionContext(): SessionRequestContext {
    const app = this.requireApp();
    return {
      app: () => app,
      apiVersion: this.apiVersion,
      publicUrl: () => this.url,
      now: () => this.now(),
      state: this.internals.state,
      http: this.http,
      checkoutCancelUrl: (token) => this.internals.checkouts.get(token)?.cancelUrl,
    };
  }

  async sendPaymentSession(shopDomain: string, input: PaymentSessionInput): Promise<SentSession<PaymentSessionRecord>> {
    const ctx = this.sessionContext();
    const shop = this.internals.shops.ensureShop(shopDomain);
    return sendPaymentSession(ctx, shop.domain, input);
  }

  async sendFollowUpSession(kind: FollowUpKind, shopDomain: string, input: FollowUpSessionInput): Promise<SentSession<FollowUpSessionRecord>> {
    const ctx = this.sessionContext();
    const shop = this.internals.shops.ensureShop(shopDomain);
    return sendFollowUpSession(ctx, kind, shop.domain, input);
  }

  sendRefundSession(shopDomain: string, input: FollowUpSessionInput): Promise<SentSession<FollowUpSessionRecord>> {
    return this.sendFollowUpSession('refund', shopDomain, input);
  }

  sendCaptureSession(shopDomain: string, input: FollowUpSessionInput): Promise<SentSession<FollowUpSessionRecord>> {
    return this.sendFollowUpSession('capture', shopDomain, input);
  }

  sendVoidSession(shopDomain: string, input: FollowUpSessionInput): Promise<SentSession<FollowUpSessionRecord>> {
    return this.sendFollowUpSession('void', shopDomain, input);
  }

  /** Sends a payment session and insists on a 2xx with a `redirect_url` (throws otherwise). */
  async startCheckout(shopDomain: string, input: PaymentSessionInput): Promise<StartedCheckout> {
    const sent = await this.sendPaymentSession(shopDomain, input);
    const redirectUrl = (sent.body as { redirect_url?: unknown } | null)?.redirect_url;
    if (sent.status < 200 || sent.status >= 300 || typeof redirectUrl !== 'string') {
      throw new Error(
        `The app did not accept the payment session: ${sent.status ? `HTTP ${sent.status}` : sent.error} ${JSON.stringify(sent.body)}`,
      );
    }
    return { ...sent, redirectUrl };
  }

  // ---- webhooks ----

  async sendWebhook(
    shopDomain: string,
    topic: string,
    payload?: unknown,
    options: WebhookOptions = {},
  ): Promise<WebhookDelivery> {
    const app = this.requireApp();
    const shop = this.internals.shops.ensureShop(shopDomain);
    const ctx: WebhookContext = {
      app: () => app,
      apiVersion: this.apiVersion,
      now: () => this.now(),
      http: this.http,
      state: this.internals.state,
      deliveries: this.webhookDeliveries,
    };
    return sendWebhook(ctx, shop, topic, payload, options);
  }

  // ---- reading state ----

  /** A payment session by `id` or gid (any shop unless given). */
  paymentSession(idOrGid: string, shopDomain?: string): PaymentSessionRecord | undefined {
    return this.internals.state.findPayment(idOrGid, shopDomain);
  }

  paymentSessions(filter: { shop?: string } = {}): PaymentSessionRecord[] {
    return this.internals.state.listPayments(filter.shop);
  }

  refundSessions(filter: { shop?: string } = {}): FollowUpSessionRecord[] {
    return this.internals.state.listFollowUps('refund', filter.shop);
  }

  captureSessions(filter: { shop?: string } = {}): FollowUpSessionRecord[] {
    return this.internals.state.listFollowUps('capture', filter.shop);
  }

  voidSessions(filter: { shop?: string } = {}): FollowUpSessionRecord[] {
    return this.internals.state.listFollowUps('void', filter.shop);
  }

  /** A refund, capture or void session by `id` or gid. */
  followUpSession(idOrGid: string, shopDomain?: string): FollowUpSessionRecord | undefined {
    return this.internals.state.findFollowUp(idOrGid, shopDomain);
  }

  // ---- waiting (the app finishes sessions asynchronously) ----

  /** Resolves once the payment session reaches one of `states` (default: resolved or rejected). */
  waitForPaymentSession(
    idOrGid: string,
    options: { states?: PaymentSessionStatus[]; timeoutMs?: number } = {},
  ): Promise<PaymentSessionRecord> {
    const states = options.states ?? ['resolved', 'rejected'];
    return this.waitFor(
      () => {
        const session = this.paymentSession(idOrGid);
        return session && states.includes(session.status) ? session : undefined;
      },
      options.timeoutMs ?? 10_000,
      `payment session ${idOrGid} to become ${states.join(' or ')}`,
    );
  }

  /** Resolves once a refund/capture/void session is resolved or rejected. */
  waitForFollowUpSession(idOrGid: string, options: { timeoutMs?: number } = {}): Promise<FollowUpSessionRecord> {
    return this.waitFor(
      () => {
        const session = this.followUpSession(idOrGid);
        return session && session.status !== 'requested' ? session : undefined;
      },
      options.timeoutMs ?? 10_000,
      `session ${idOrGid} to be resolved or rejected`,
    );
  }

  /** Resolves with the first recorded GraphQL call (past or future) that matches. */
  waitForMutation(
    match: string | ((record: MutationRecord) => boolean),
    options: { timeoutMs?: number } = {},
  ): Promise<MutationRecord> {
    const predicate = typeof match === 'string' ? (m: MutationRecord) => m.name === match : match;
    return this.waitFor(
      () => this.mutations.find(predicate),
      options.timeoutMs ?? 10_000,
      `a GraphQL call matching ${typeof match === 'string' ? match : 'the predicate'}`,
    );
  }

  private waitFor<T>(probe: () => T | undefined, timeoutMs: number, description: string): Promise<T> {
    const found = probe();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          const value = probe();
          if (value === undefined) return false;
          settle();
          resolve(value);
          return true;
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      const timer = setTimeout(() => waiter.reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${description}`)), timeoutMs);
      const settle = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter.check();
  }

  /** The gid Shopify uses for a session id. */
  static gid(kind: 'payment' | FollowUpKind, id: string): string {
    return GID_PREFIX[kind] + id;
  }
}

function validateApp(app: AppConfig): AppConfig {
  for (const key of ['url', 'apiKey', 'apiSecret'] as const) {
    if (!app[key]) throw new Error(`app.${key} is required`);
  }
  if (!URL.canParse(app.url)) throw new Error(`app.url is not a URL: ${app.url}`);
  if (app.paymentsUrl && !URL.canParse(app.paymentsUrl)) throw new Error(`app.paymentsUrl is not a URL: ${app.paymentsUrl}`);
  return { ...app, url: app.url.replace(/\/$/, '') };
}

export async function startShopifySimulator(options: ShopifySimulatorOptions = {}): Promise<ShopifySimulator> {
  return new ShopifySimulator(options).start();
}

