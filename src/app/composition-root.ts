import { CreateEligibilityDefinitionsJob, WriteEligibilityMetafieldsJob } from '../catalog/eligibility-metafields';
import { PushCatalogJob } from '../catalog/push-catalog-job';
import { FlexCatalogPusher } from '../catalog/push-to-flex';
import { SyncCatalogPageJob } from '../catalog/sync-catalog-page';
import type { AppConfig } from '../config';
import type { Database } from '../db/database';
import { readCommerceGaugesOnScrape, readOperationalGaugesOnScrape } from '../db/operational-metrics';
import { BuyerDataRetention } from '../db/retention';
import { TableStatistics } from '../db/table-statistics';
import { SecretRotation } from '../db/secret-rotation';
import { Transactor } from '../db/transactor';
import { CatchAllCatalog } from '../flex/catch-all-catalog';
import { FlexClient } from '../flex/flex-client';
import { FlexEventRegistry } from '../flex/webhooks/flex-event-registry';
import { FlexWebhookConnectionCache } from '../flex/webhooks/connection-cache';
import { HandleFlexWebhook } from '../flex/webhooks/handle-flex-webhook';
import type { MerchantRoutesDeps } from '../http/merchant-auth';
import { systemClock, type Clock } from '../lib/clock';
import type { ShopDomain } from '../lib/ids';
import type { Logger } from '../lib/logger';
import { AppMetrics } from '../lib/metrics';
import { SecretBox } from '../lib/secret-box';
import { MerchantCatalog } from '../merchant/catalog-view';
import { ConnectFlexAccount } from '../merchant/connect-flex-account';
import { DataRequestReports } from '../merchant/data-request-report';
import { MerchantFlexAccount } from '../merchant/flex-account';
import { MerchantInstall } from '../merchant/install';
import { MerchantSessions } from '../merchant/merchant-session';
import { ConfigurePaymentsAppJob, PaymentsAppConfiguration } from '../merchant/payments-app-configuration';
import { RegisterShop } from '../merchant/register-shop';
import { RetryShopJob } from '../merchant/retry-job';
import { LoadSettingsView } from '../merchant/settings-view';
import { HandleShopifyWebhook } from '../merchant/shopify-webhooks/handle-shopify-webhook';
import { ApplyUninstallJob, ReleaseFlexConnectionsJob } from '../merchant/uninstall';
import { OutboxWorker } from '../outbox/outbox-worker';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../outbox/retry-policy';
import { capturePolicy } from '../payments/capture/capture-policy';
import { flexCapture } from '../payments/capture/flex-capture';
import { FlexOperationJob } from '../payments/operation/flex-operation-job';
import { ReceiveOperation } from '../payments/operation/store-operation';
import { HandleBuyerReturn } from '../payments/payment/buyer-return';
import { CHECKOUT_COMPLETED_EVENTS, checkoutCompletedEvents } from '../payments/payment/checkout-completed-event';
import { PayStep } from '../payments/payment/pay-step';
import { ReceivePaymentSession } from '../payments/payment/receive-payment-session';
import { CancelGroupCheckoutsJob, ReturnLatePaymentJob } from '../payments/payment/late-payment';
import { PaymentOutcomes } from '../payments/payment/payment-outcomes';
import { ActivateWebPixelJob } from '../cart/activate-web-pixel';
import { FindCart } from '../cart/find-cart';
import { RecordPixelPost } from '../cart/record-pixel-post';
import type { PixelRouteLimits } from '../http/routes/pixel';
import { ShopifyWebPixels } from '../shopify/web-pixel-api';
import { ReconcilePaymentSessions } from '../payments/payment/reconcile-payment-sessions';
import { flexRefund } from '../payments/refund/flex-refund';
import { PollPendingRefunds } from '../payments/refund/poll-pending-refunds';
import { FLEX_REFUND_EVENTS, refundEvents } from '../payments/refund/refund-events';
import { RefundOutcomes } from '../payments/refund/refund-outcomes';
import { refundPolicy } from '../payments/refund/refund-policy';
import { ReportToShopifyJob } from '../payments/report-to-shopify';
import { flexVoid } from '../payments/void/flex-void';
import { voidPolicy } from '../payments/void/void-policy';
import { AnnotateOrderJob } from '../orders/annotate-order';
import { compareOrderLines } from '../orders/compare-order-lines';
import { LinkOrderJob } from '../orders/link-order';
import { orderWebhookTopics } from '../orders/order-webhooks';
import { LoadOrdersOverview } from '../orders/orders-overview';
import { PollMissingOrders } from '../orders/poll-orders';
import { ReconciliationReport } from '../reconciliation/reconciliation-report';
import { SyncFlexPayouts } from '../reconciliation/sync-payouts';
import { ShopifyAccessTokens } from '../shopify/access-tokens';
import { ShopifyAdminClient } from '../shopify/admin-api-client';
import { ShopifyCatalogApi } from '../shopify/admin-catalog';
import { openShopifySessionStorage } from '../shopify/prisma-session-storage';
import { ShopifyOrdersApi } from '../shopify/admin-orders';
import { returnToShopifyUrl } from '../shopify/admin-links';
import { EncryptedSessionStorage } from '../shopify/encrypted-session-storage';
import { ShopifyOAuth } from '../shopify/oauth';
import { ShopifyPaymentsApiClient } from '../shopify/payments-api-client';
import { ShopifyWebhookValidator } from '../shopify/webhook-validation';

/** Knobs tests and benchmarks turn; production uses the defaults. */
export interface AppTuning {
  clock?: Clock;
  fetch?: typeof fetch;
  retryPolicy?: RetryPolicy;
  workerPollIntervalMs?: number;
  reconcileIntervalMs?: number;
  /** Wait before re-checking a session Flex still has open (doubles each time; default 1 min). */
  reconcileCheckIntervalMs?: number;
  /** Sessions the reconciler claims at a time (default 100). */
  reconcileBatchSize?: number;
  /** How often to look for refunds still pending in Flex (default: reconcileIntervalMs). */
  refundPollIntervalMs?: number;
  /** Wait before asking Flex again about a pending refund, doubling (default: reconcileCheckIntervalMs). */
  refundCheckIntervalMs?: number;
  /** How long a pay page holds the right to make the Flex checkout (default 30 s). */
  checkoutLeaseMs?: number;
  /** How long a pay page opened while another makes the checkout waits for it before the refreshing page (default 15 s). */
  payPageWaitMs?: number;
  /** After an uninstall, how often to look whether the shop's Flex connections can be released (default 10 min). */
  uninstallRecheckMs?: number;
  /** How often to prune buyer data past the retention period (default: hourly). */
  retentionIntervalMs?: number;
  /** Embedded database: how often to look for tables grown since their last ANALYZE (default 1 min; db/table-statistics.ts). */
  analyzeIntervalMs?: number;
  /** How long a refund waits for Shopify's refund of the order (its lines) before going to Flex by amount (default 10 s). */
  refundLinesWaitMs?: number;
  /** How long the pay page waits for a cart snapshot still on its way (default 3 s). */
  cartWaitMs?: number;
  /** Rate limits of the public pixel endpoint (defaults in http/routes/pixel.ts). */
  pixelLimits?: PixelRouteLimits;
  /** How often the order poller looks for paid payments without an order (default 1 min). */
  orderPollIntervalMs?: number;
  /** How long after a payment is resolved its order webhook may take before the poller looks (default 5 min). */
  orderGraceMs?: number;
  /** How often the reconciliation task looks for shops whose payouts are due a read (default 1 min). */
  payoutSyncIntervalMs?: number;
  /** How often each shop's Flex payouts are read (default 1 h). */
  payoutSyncEveryMs?: number;
  /** How long Flex has to pay out an order or a refund before a missing one is flagged (default 7 days). */
  settlementMs?: number;
  /** Variants per catalog sync page (default 100, at most 250). */
  catalogPageSize?: number;
  /** Flex calls in flight at once per catalog push (default 4). */
  catalogPushConcurrency?: number;
  /** How long a shop's Flex connection is kept to verify its webhooks before it is read again (default 60 s; flex/webhooks/connection-cache.ts). */
  flexWebhookConnectionTtlMs?: number;
  /** How long a claimed outbox job is its worker's (default: 60 s, or 4 × the longest HTTP timeout). */
  outboxLeaseMs?: number;
}

/**
 * The composition root: each capability built once, from configuration, and handed what it needs.
 * The only module that imports across every layer. Nothing here listens or runs: `startApp` (the
 * server) and the CLI decide what to start.
 */
export function composeApp(config: AppConfig, database: Database, logger: Logger, tuning: AppTuning = {}) {
  const clock = tuning.clock ?? systemClock;
  // One registry per app: what each part records, and what the database says at scrape time.
  const metrics = new AppMetrics();
  readOperationalGaugesOnScrape(metrics, database.prisma, clock);
  readCommerceGaugesOnScrape(metrics, database.prisma, clock);
  const secrets = new SecretBox(config.encryptionKeys);
  const transactor = new Transactor(database.prisma, database.pool, secrets, database.statementNames);
  const { repos } = transactor;

  // Platform clients.
  const flex = new FlexClient({ baseUrl: config.flex.apiUrl, timeoutMs: config.flex.timeoutMs, logger: logger.child({ component: 'flex-client' }), fetch: tuning.fetch, metrics });
  const shopifyPayments = new ShopifyPaymentsApiClient({
    apiVersion: config.shopify.apiVersion,
    apiOrigin: config.shopify.apiOrigin,
    timeoutMs: config.shopify.timeoutMs,
    logger: logger.child({ component: 'shopify-payments-client' }),
    fetch: tuning.fetch,
    metrics,
  });
  const webPixels = new ShopifyWebPixels({ apiVersion: config.shopify.apiVersion, apiOrigin: config.shopify.apiOrigin, timeoutMs: config.shopify.timeoutMs, fetch: tuning.fetch, metrics });
  const sessionStorage = new EncryptedSessionStorage(openShopifySessionStorage(database.prisma), secrets);
  const tokens = new ShopifyAccessTokens(sessionStorage);
  const oauth = new ShopifyOAuth({
    apiKey: config.shopify.apiKey,
    apiSecret: config.shopify.apiSecret,
    appUrl: config.appUrl,
    apiVersion: config.shopify.apiVersion,
    apiOrigin: config.shopify.apiOrigin,
    timeoutMs: config.shopify.timeoutMs,
    logger: logger.child({ component: 'merchant' }),
  });

  // One Admin API client for every use case: it keeps each shop's cost bucket (Shopify's rate limit).
  const shopifyAdmin = new ShopifyAdminClient({
    apiVersion: config.shopify.apiVersion,
    apiOrigin: config.shopify.apiOrigin,
    timeoutMs: config.shopify.timeoutMs,
    logger: logger.child({ component: 'shopify-admin-client' }),
    fetch: tuning.fetch,
    metrics,
  });

  // Payments: the four Shopify hooks, their Flex jobs and outcomes.
  const reconcileCheckIntervalMs = tuning.reconcileCheckIntervalMs ?? 60 * 1000;
  const refundCheckIntervalMs = tuning.refundCheckIntervalMs ?? reconcileCheckIntervalMs;
  const paymentOutcomes = new PaymentOutcomes({ transactor, clock, logger, reconcileRetryMs: reconcileCheckIntervalMs });
  const refundOutcomes = new RefundOutcomes({ clock, logger: logger.child({ component: 'refunds' }), pollIntervalMs: refundCheckIntervalMs });
  const flexJobDeps = (component: string) => ({ transactor, flex, clock, logger: logger.child({ component }) });

  const flexEvents = new FlexEventRegistry();
  flexEvents.on(CHECKOUT_COMPLETED_EVENTS, checkoutCompletedEvents({ outcomes: paymentOutcomes, clock, apiVersion: config.shopify.apiVersion }));
  flexEvents.on(FLEX_REFUND_EVENTS, refundEvents(refundOutcomes));

  // Orders: order sync on payment, the write-back, the poller for lost webhooks (src/orders/).
  const ordersApi = new ShopifyOrdersApi(shopifyAdmin);
  const ordersLogger = logger.child({ component: 'orders' });
  const ordersDeps = { transactor, tokens, orders: ordersApi, clock, logger: ordersLogger };
  const orderGraceMs = tuning.orderGraceMs ?? 5 * 60 * 1000;
  const orderWindowMs = 7 * 24 * 60 * 60 * 1000;
  const orders = {
    poller: new PollMissingOrders(ordersDeps, { graceMs: orderGraceMs, windowMs: orderWindowMs, intervalMs: 5 * 60 * 1000, maxIntervalMs: 6 * 60 * 60 * 1000 }),
    overview: new LoadOrdersOverview({ transactor, clock, missingAfterMs: Math.max(orderGraceMs, 30 * 60 * 1000), windowMs: orderWindowMs }),
    pollIntervalMs: tuning.orderPollIntervalMs ?? 60_000,
  };

  // Reconciliation with Flex payouts (src/reconciliation/).
  const reconciliation = {
    sync: new SyncFlexPayouts(
      { transactor, flex, clock, logger: logger.child({ component: 'reconciliation' }) },
      { everyMs: tuning.payoutSyncEveryMs ?? 60 * 60 * 1000, lookbackMs: 90 * 24 * 60 * 60 * 1000, retryMs: 10 * 60 * 1000 },
    ),
    report: new ReconciliationReport({ transactor, clock }, { settlementMs: tuning.settlementMs ?? 7 * 24 * 60 * 60 * 1000 }),
    intervalMs: tuning.payoutSyncIntervalMs ?? 60_000,
  };

  const worker = new OutboxWorker({
    jobs: repos.jobs,
    handlers: [
      new ReportToShopifyJob({ transactor, tokens, client: shopifyPayments, logger, metrics, clock }),
      new ConfigurePaymentsAppJob({ transactor, tokens, client: shopifyPayments, clock, logger: logger.child({ component: 'merchant' }) }),
      new ApplyUninstallJob({ transactor, tokens, shopify: shopifyPayments, clock, logger: logger.child({ component: 'merchant' }) }),
      new ReleaseFlexConnectionsJob({ transactor, flex, logger: logger.child({ component: 'merchant' }), recheckMs: tuning.uninstallRecheckMs }),
      new FlexOperationJob(flexJobDeps('refunds'), flexRefund(refundOutcomes, { transactor, logger: logger.child({ component: 'refunds' }), waitMs: tuning.refundLinesWaitMs ?? 10_000 })),
      new FlexOperationJob(flexJobDeps('captures'), flexCapture),
      new FlexOperationJob(flexJobDeps('voids'), flexVoid),
      new ReturnLatePaymentJob(flexJobDeps('payments')),
      new CancelGroupCheckoutsJob(flexJobDeps('payments')),
      new ActivateWebPixelJob({ transactor, tokens, webPixels, appUrl: config.appUrl, clock, logger: logger.child({ component: 'cart' }) }),
      new LinkOrderJob({ ...ordersDeps, flex, compareLines: compareOrderLines }),
      new AnnotateOrderJob(ordersDeps),
    ],
    clock,
    logger: logger.child({ component: 'outbox' }),
    retryPolicy: tuning.retryPolicy ?? DEFAULT_RETRY_POLICY,
    pollIntervalMs: tuning.workerPollIntervalMs,
    leaseMs: tuning.outboxLeaseMs ?? Math.max(60_000, 4 * Math.max(config.shopify.timeoutMs, config.flex.timeoutMs)),
    metrics,
  });
  // The catalog sync runs on a lane of its own: its jobs take seconds (a page of Flex calls, waits for
  // rate limits), and must not hold up refunds and Shopify mutations behind them.
  const catalogLogger = logger.child({ component: 'catalog' });
  const catalogDeps = {
    transactor,
    flex,
    admin: new ShopifyCatalogApi(shopifyAdmin),
    tokens,
    clock,
    logger: catalogLogger,
    pusher: new FlexCatalogPusher({ transactor, clock, logger: catalogLogger }, { concurrency: tuning.catalogPushConcurrency }),
    pageSize: tuning.catalogPageSize,
  };
  const catalogWorker = new OutboxWorker({
    jobs: repos.jobs,
    handlers: [new SyncCatalogPageJob(catalogDeps), new PushCatalogJob(catalogDeps), new WriteEligibilityMetafieldsJob(catalogDeps), new CreateEligibilityDefinitionsJob(catalogDeps)],
    clock,
    logger: logger.child({ component: 'outbox-catalog' }),
    retryPolicy: tuning.retryPolicy ?? DEFAULT_RETRY_POLICY,
    pollIntervalMs: tuning.workerPollIntervalMs,
    metrics,
    // Longer than a push's budget (90 s) with its last Flex call.
    leaseMs: 5 * 60_000,
    batchSize: 4,
  });
  for (const lane of [worker, catalogWorker]) {
    transactor.onJobsEnqueued((kinds) => {
      if (!kinds || [...kinds].some((kind) => lane.handles(kind))) lane.wake();
    });
    transactor.addJobLessor(lane);
  }
  const runNow = (jobId: string) => worker.runNow(jobId);

  const buyerReturn = new HandleBuyerReturn({ repos, flex, outcomes: paymentOutcomes, worker, clock, logger, apiVersion: config.shopify.apiVersion });
  const payments = {
    receivePaymentSession: new ReceivePaymentSession({ repos, appUrl: config.appUrl, clock }),
    payStep: new PayStep({
      repos,
      flex,
      catalog: new CatchAllCatalog(repos.flexConnections),
      findCart: new FindCart({ repos, clock, waitMs: tuning.cartWaitMs ?? 3_000 }),
      buyerReturn,
      clock,
      logger,
      appUrl: config.appUrl,
      reconcileAfterMs: config.reconcileAfterSeconds * 1000,
      checkoutLeaseMs: tuning.checkoutLeaseMs,
      waitForConcurrentMs: tuning.payPageWaitMs,
    }),
    buyerReturn,
    reconciler: new ReconcilePaymentSessions({
      repos,
      flex,
      outcomes: paymentOutcomes,
      clock,
      logger: logger.child({ component: 'reconciler' }),
      apiVersion: config.shopify.apiVersion,
      checkIntervalMs: reconcileCheckIntervalMs,
      batchSize: tuning.reconcileBatchSize,
    }),
    receiveRefund: new ReceiveOperation({ transactor, clock, logger }, refundPolicy),
    receiveCapture: new ReceiveOperation({ transactor, clock, logger }, capturePolicy()),
    receiveVoid: new ReceiveOperation({ transactor, clock, logger }, voidPolicy),
    refundPoller: new PollPendingRefunds({ transactor, flex, outcomes: refundOutcomes, clock, logger: logger.child({ component: 'refund-poller' }), checkIntervalMs: refundCheckIntervalMs }),
    outcomes: paymentOutcomes,
  };
  // The buyer's cart: pixel posts and checkout webhooks kept as snapshots, joined on the pay page.
  const cart = {
    recordPixelPost: new RecordPixelPost({ repos, clock }),
    pixelLimits: tuning.pixelLimits,
  };
  const handleFlexWebhook = new HandleFlexWebhook({
    transactor,
    registry: flexEvents,
    flex,
    clock,
    logger,
    metrics,
    // A kept connection is only a first try (connection-cache.ts): staleness costs a read, never a wrong answer.
    connections: new FlexWebhookConnectionCache({ ttlMs: tuning.flexWebhookConnectionTtlMs ?? 60_000, max: 10_000 }),
  });

  // Merchant: install, the settings page, Flex connection, Shopify's webhooks.
  const merchantLogger = logger.child({ component: 'merchant' });
  const connectFlex = new ConnectFlexAccount({ transactor, flex, clock, logger, appUrl: config.appUrl, subscribedEvents: () => flexEvents.subscribedEvents() });
  const configuration = new PaymentsAppConfiguration({ transactor, clock, runNow });
  const registerShop = new RegisterShop({ transactor, tokens, connectFlex, configuration, clock });
  const merchant: MerchantRoutesDeps = {
    oauth,
    sessions: new MerchantSessions(config.encryptionKeys.map((k) => k.key), clock),
    install: new MerchantInstall({ transactor, sessionStorage, tokens, clock, logger: merchantLogger }),
    configuration,
    flexAccount: new MerchantFlexAccount({ transactor, connectFlex, configuration, flex, clock, logger: merchantLogger, runNow }),
    settingsView: new LoadSettingsView({ transactor, clock }),
    retryJob: new RetryShopJob({ transactor, clock, logger: merchantLogger }),
    dataRequests: new DataRequestReports({ transactor }),
    catalog: new MerchantCatalog({ transactor, clock }),
    appOrigin: new URL(config.appUrl).origin,
    secureCookies: config.appUrl.startsWith('https://'),
    browserShopifyOrigin: config.shopify.apiOrigin ? new URL(config.shopify.apiOrigin).origin : undefined,
    returnToShopifyUrl: (shopDomain: ShopDomain) => returnToShopifyUrl(shopDomain, config.shopify.apiKey, config.shopify.apiOrigin),
  };
  const shopifyWebhooks = new HandleShopifyWebhook({ transactor, validator: new ShopifyWebhookValidator(oauth.api), clock, logger: merchantLogger, metrics, topics: orderWebhookTopics() });
  const orderReports = { orders: orders.overview, reconciliation: reconciliation.report, clock };

  return {
    config,
    database,
    logger,
    clock,
    metrics,
    transactor,
    repos,
    flex,
    flexEvents,
    tokens,
    worker,
    catalogWorker,
    payments,
    cart,
    handleFlexWebhook,
    merchant,
    shopifyWebhooks,
    orders,
    reconciliation,
    orderReports,
    connectFlex,
    registerShop,
    secretRotation: new SecretRotation(database.prisma, secrets),
    retention: new BuyerDataRetention(database.prisma, { clock, logger: logger.child({ component: 'retention' }), retentionDays: config.retentionDays }),
    retentionIntervalMs: tuning.retentionIntervalMs ?? 60 * 60 * 1000,
    // PostgreSQL's autovacuum keeps its statistics; the embedded database has none to do it.
    tableStatistics: database.kind === 'embedded' ? new TableStatistics(database.pool) : undefined,
    analyzeIntervalMs: tuning.analyzeIntervalMs ?? 60_000,
    reconcileIntervalMs: tuning.reconcileIntervalMs ?? 10_000,
    refundPollIntervalMs: tuning.refundPollIntervalMs ?? tuning.reconcileIntervalMs ?? 30_000,
  };
}

export type AppComponents = ReturnType<typeof composeApp>;
