import { PrismaSessionStorage } from '@shopify/shopify-app-session-storage-prisma';
import type { AppConfig } from '../config';
import type { Database } from '../db/database';
import { Transactor } from '../db/repositories';
import { CatchAllCatalog } from '../flex/catch-all-catalog';
import { FlexClient } from '../flex/flex-client';
import { systemClock, type Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { SecretBox } from '../lib/secret-box';
import { OutboxWorker } from '../outbox/outbox-worker';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../outbox/retry-policy';
import { ShopifyMutationJobHandler } from '../outbox/shopify-mutation-job';
import { HandleBuyerReturn } from '../payments/payment/buyer-return';
import { CreatePaymentSession } from '../payments/payment/create-payment-session';
import { PAYMENT_SESSION_SUBJECT, PaymentFinalizer } from '../payments/payment/payment-finalizer';
import { PaymentSessionMutationHooks } from '../payments/payment/payment-session-hooks';
import { ReconcilePaymentSessions } from '../payments/payment/reconcile-payment-sessions';
import { FlexCaptureJob } from '../payments/capture/flex-capture-job';
import { ReceiveCaptureSession } from '../payments/capture/receive-capture-session';
import { FOLLOW_UP_SUBJECT, FollowUpMutationHooks } from '../payments/follow-up-outbox';
import { FlexRefundJob } from '../payments/refund/flex-refund-job';
import { PollPendingRefunds } from '../payments/refund/poll-pending-refunds';
import { ReceiveRefundSession } from '../payments/refund/receive-refund-session';
import { RefundOutcomes } from '../payments/refund/refund-outcomes';
import { registerRefundWebhooks } from '../payments/refund/refund-webhooks';
import { FlexVoidJob } from '../payments/void/flex-void-job';
import { ReceiveVoidSession } from '../payments/void/receive-void-session';
import { ConnectFlexAccount } from '../shops/connect-flex-account';
import { RegisterShop } from '../shops/register-shop';
import { ShopifyAccessTokens } from '../shopify/access-tokens';
import { EncryptedSessionStorage } from '../shopify/encrypted-session-storage';
import { ShopifyPaymentsApiClient } from '../shopify/payments-api-client';
import { HandleFlexWebhook } from '../webhooks/handle-flex-webhook';
import { buildMerchantServices } from '../merchant/merchant-services';
import { PaymentsAppConfiguration, SHOP_SUBJECT, ShopConfigurationHooks } from '../merchant/payments-app-configuration';

/** Knobs tests and benchmarks turn; production uses the defaults. */
export interface ServiceTuning {
  clock?: Clock;
  fetch?: typeof fetch;
  retryPolicy?: RetryPolicy;
  workerPollIntervalMs?: number;
  reconcileIntervalMs?: number;
  /** Wait before re-checking a session Flex still has open (doubles each time). */
  reconcileCheckIntervalMs?: number;
  /** How often to look for refunds still pending in Flex (default: reconcileIntervalMs). */
  refundPollIntervalMs?: number;
  /** Wait before asking Flex again about a pending refund, doubling (default: reconcileCheckIntervalMs). */
  refundCheckIntervalMs?: number;
}

/**
 * The composition root: every client, repository and use case, wired once. Nothing here listens or
 * runs; `startApp` (the server) and the CLI decide what to start.
 */
export function buildServices(config: AppConfig, database: Database, logger: Logger, tuning: ServiceTuning = {}) {
  const clock = tuning.clock ?? systemClock;
  const secrets = new SecretBox(config.encryptionKey);
  const transactor = new Transactor(database.prisma, secrets);
  const repos = transactor.repos;

  const flex = new FlexClient({ baseUrl: config.flex.apiUrl, timeoutMs: config.flex.timeoutMs, logger: logger.child({ component: 'flex-client' }), fetch: tuning.fetch });
  const shopifyPayments = new ShopifyPaymentsApiClient({
    apiVersion: config.shopify.apiVersion,
    apiOrigin: config.shopify.apiOrigin,
    timeoutMs: config.shopify.timeoutMs,
    logger: logger.child({ component: 'shopify-payments-client' }),
    fetch: tuning.fetch,
  });
  const sessionStorage = new EncryptedSessionStorage(new PrismaSessionStorage(database.prisma, { connectionRetries: 1 }), secrets);
  const tokens = new ShopifyAccessTokens(sessionStorage);

  const paymentHooks = new PaymentSessionMutationHooks(repos.payments, logger);
  const mutationHandler = new ShopifyMutationJobHandler({
    shops: repos.shops,
    tokens,
    client: shopifyPayments,
    hooks: {
      [PAYMENT_SESSION_SUBJECT]: paymentHooks,
      // paymentsAppConfigure: Shopify's readiness of the shop, recorded when acknowledged.
      [SHOP_SUBJECT]: new ShopConfigurationHooks({ transactor, clock, logger, onJobEnqueued: () => worker.wake() }),
      [FOLLOW_UP_SUBJECT.refund]: new FollowUpMutationHooks('refund', repos.refunds, repos.payments, logger),
      [FOLLOW_UP_SUBJECT.capture]: new FollowUpMutationHooks('capture', repos.captures, repos.payments, logger),
      [FOLLOW_UP_SUBJECT.void]: new FollowUpMutationHooks('void', repos.voids, repos.payments, logger),
    },
    logger,
  });
  // Refunds, captures and voids: the Flex call of each is an outbox job (README "Refunds, captures and voids").
  const refundCheckIntervalMs = tuning.refundCheckIntervalMs ?? tuning.reconcileCheckIntervalMs ?? 5 * 60 * 1000;
  const wakeFollowUps = () => worker.wake();
  const refundOutcomes = new RefundOutcomes({ clock, logger: logger.child({ component: 'refunds' }), pollIntervalMs: refundCheckIntervalMs });
  const followUpJobDeps = { repos, transactor, flex, clock, onJobEnqueued: wakeFollowUps };
  const flexJobs = [
    new FlexRefundJob({ ...followUpJobDeps, outcomes: refundOutcomes, logger: logger.child({ component: 'refunds' }) }),
    new FlexCaptureJob({ ...followUpJobDeps, logger: logger.child({ component: 'captures' }) }),
    new FlexVoidJob({ ...followUpJobDeps, logger: logger.child({ component: 'voids' }) }),
  ];
  const worker = new OutboxWorker({
    jobs: repos.jobs,
    handlers: [mutationHandler, ...flexJobs],
    clock,
    logger: logger.child({ component: 'outbox' }),
    retryPolicy: tuning.retryPolicy ?? DEFAULT_RETRY_POLICY,
    pollIntervalMs: tuning.workerPollIntervalMs,
    leaseMs: Math.max(60_000, 4 * Math.max(config.shopify.timeoutMs, config.flex.timeoutMs)),
  });
  const wakeWorker = () => worker.wake();

  const reconcileCheckIntervalMs = tuning.reconcileCheckIntervalMs ?? 5 * 60 * 1000;
  const finalizer = new PaymentFinalizer({ transactor, clock, logger, onJobEnqueued: wakeWorker, reconcileRetryMs: reconcileCheckIntervalMs });
  const catalog = new CatchAllCatalog(repos.flexConnections);
  const createPaymentSession = new CreatePaymentSession({
    repos,
    flex,
    catalog,
    clock,
    logger,
    appUrl: config.appUrl,
    reconcileAfterMs: config.reconcileAfterSeconds * 1000,
  });
  const buyerReturn = new HandleBuyerReturn({ repos, flex, finalizer, worker, clock, logger, apiVersion: config.shopify.apiVersion });
  const reconciler = new ReconcilePaymentSessions({
    repos,
    flex,
    finalizer,
    clock,
    logger: logger.child({ component: 'reconciler' }),
    apiVersion: config.shopify.apiVersion,
    checkIntervalMs: reconcileCheckIntervalMs,
  });
  const handleFlexWebhook = new HandleFlexWebhook({ transactor, finalizer, flex, clock, logger, apiVersion: config.shopify.apiVersion, onJobEnqueued: wakeWorker });
  registerRefundWebhooks(handleFlexWebhook, refundOutcomes);
  const receiveRefundSession = new ReceiveRefundSession({ transactor, clock, logger, onJobEnqueued: wakeWorker });
  const receiveCaptureSession = new ReceiveCaptureSession({ transactor, clock, logger, onJobEnqueued: wakeWorker });
  const receiveVoidSession = new ReceiveVoidSession({ transactor, clock, logger, onJobEnqueued: wakeWorker });
  const refundPoller = new PollPendingRefunds({
    repos,
    transactor,
    flex,
    outcomes: refundOutcomes,
    clock,
    logger: logger.child({ component: 'refund-poller' }),
    checkIntervalMs: refundCheckIntervalMs,
    onJobEnqueued: wakeWorker,
  });
  const connectFlex = new ConnectFlexAccount({ transactor, flex, clock, logger, appUrl: config.appUrl });
  const configuration = new PaymentsAppConfiguration({ transactor, clock, runNow: (jobId) => worker.runNow(jobId), wake: wakeWorker });
  const registerShop = new RegisterShop({ transactor, tokens, connectFlex, configuration, clock });
  // Merchant install (OAuth), the settings page and Shopify's webhooks (README "Merchant install and settings").
  const merchant = buildMerchantServices({ config, transactor, flex, tokens, sessionStorage, connectFlex, configuration, worker, clock, logger });

  return {
    config,
    database,
    logger,
    clock,
    secrets,
    transactor,
    repos,
    flex,
    shopifyPayments,
    sessionStorage,
    tokens,
    worker,
    finalizer,
    createPaymentSession,
    buyerReturn,
    reconciler,
    handleFlexWebhook,
    connectFlex,
    registerShop,
    merchant,
    reconcileIntervalMs: tuning.reconcileIntervalMs ?? 30_000,
    receiveRefundSession,
    receiveCaptureSession,
    receiveVoidSession,
    refundPoller,
    refundPollIntervalMs: tuning.refundPollIntervalMs ?? tuning.reconcileIntervalMs ?? 30_000,
  };
}

export type Services = ReturnType<typeof buildServices>;
