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
import { ConnectFlexAccount } from '../shops/connect-flex-account';
import { RegisterShop } from '../shops/register-shop';
import { ShopifyAccessTokens } from '../shopify/access-tokens';
import { EncryptedSessionStorage } from '../shopify/encrypted-session-storage';
import { ShopifyPaymentsApiClient } from '../shopify/payments-api-client';
import { HandleFlexWebhook } from '../webhooks/handle-flex-webhook';

/** Knobs tests and benchmarks turn; production uses the defaults. */
export interface ServiceTuning {
  clock?: Clock;
  fetch?: typeof fetch;
  retryPolicy?: RetryPolicy;
  workerPollIntervalMs?: number;
  reconcileIntervalMs?: number;
  /** Wait before re-checking a session Flex still has open (doubles each time). */
  reconcileCheckIntervalMs?: number;
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
    hooks: { [PAYMENT_SESSION_SUBJECT]: paymentHooks },
    logger,
  });
  const worker = new OutboxWorker({
    jobs: repos.jobs,
    handlers: [mutationHandler],
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
  const connectFlex = new ConnectFlexAccount({ transactor, flex, clock, logger, appUrl: config.appUrl });
  const registerShop = new RegisterShop({ transactor, tokens, connectFlex, clock });

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
    reconcileIntervalMs: tuning.reconcileIntervalMs ?? 30_000,
  };
}

export type Services = ReturnType<typeof buildServices>;
