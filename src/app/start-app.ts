import type { AppConfig } from '../config';
import { openDatabase, type Database } from '../db/database';
import { buyerReturnRoutes } from '../http/routes/buyer-return';
import { flexWebhookRoutes } from '../http/routes/flex-webhooks';
import { followUpSessionRoutes } from '../http/routes/follow-up-sessions';
import { healthRoutes } from '../http/routes/health';
import { merchantInstallRoutes } from '../http/routes/merchant-install';
import { settingsRoutes } from '../http/routes/settings';
import { shopifyWebhookRoutes } from '../http/routes/shopify-webhooks';
import { paymentSessionRoutes } from '../http/routes/payment-sessions';
import { createHttpApp } from '../http/app';
import { listen, type RunningServers } from '../http/servers';
import type { Logger } from '../lib/logger';
import { PeriodicTask } from '../lib/periodic-task';
import { buildServices, type ServiceTuning, type Services } from './services';

export interface RunningApp {
  services: Services;
  servers: RunningServers;
  /** Stops taking requests, lets in-flight jobs finish, closes the database. */
  stop(): Promise<void>;
}

export interface StartAppOptions {
  config: AppConfig;
  logger: Logger;
  tuning?: ServiceTuning;
  /** An already open database (tests share one between app restarts); otherwise opened here. */
  database?: Database;
}

export async function startApp(options: StartAppOptions): Promise<RunningApp> {
  const { config, logger } = options;
  const ownsDatabase = !options.database;
  const database =
    options.database ??
    (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize, logger }));
  const services = buildServices(config, database, logger, options.tuning);

  const app = createHttpApp({
    logger,
    routers: [
      healthRoutes({ databaseReady: () => database.ping(), workerHealthy: () => services.worker.isHealthy() }),
      paymentSessionRoutes({ createPaymentSession: services.createPaymentSession, mtls: Boolean(config.mtls) }),
      followUpSessionRoutes({
        receiveRefund: services.receiveRefundSession,
        receiveCapture: services.receiveCaptureSession,
        receiveVoid: services.receiveVoidSession,
        mtls: Boolean(config.mtls),
      }),
      buyerReturnRoutes({ buyerReturn: services.buyerReturn }),
      flexWebhookRoutes({ handleFlexWebhook: services.handleFlexWebhook }),
      shopifyWebhookRoutes({ handleShopifyWebhook: services.merchant.webhooks }),
      merchantInstallRoutes({ merchant: services.merchant }),
      settingsRoutes({ merchant: services.merchant }),
    ],
  });
  let servers: RunningServers;
  try {
    servers = await listen(app, { port: config.port, host: config.host, mtls: config.mtls });
  } catch (error) {
    // A port in use: leave nothing open behind (the embedded database is one process's at a time).
    if (ownsDatabase) await database.close();
    throw error;
  }

  services.worker.start();
  const reconciliation = new PeriodicTask('reconcile-payment-sessions', services.reconcileIntervalMs, () => services.reconciler.runOnce(), logger);
  reconciliation.start();
  const refundPolling = new PeriodicTask('poll-pending-refunds', services.refundPollIntervalMs, () => services.refundPoller.runOnce(), logger);
  refundPolling.start();

  return {
    services,
    servers,
    async stop() {
      await servers.close();
      await reconciliation.stop();
      await refundPolling.stop();
      await services.worker.stop();
      await services.merchant.webhooks.drain();
      if (ownsDatabase) await database.close();
    },
  };
}
