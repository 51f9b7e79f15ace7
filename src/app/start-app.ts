import type { AppConfig } from '../config';
import { openDatabase, type Database } from '../db/database';
import { buyerReturnRoutes } from '../http/routes/buyer-return';
import { flexWebhookRoutes } from '../http/routes/flex-webhooks';
import { healthRoutes } from '../http/routes/health';
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
      buyerReturnRoutes({ buyerReturn: services.buyerReturn }),
      flexWebhookRoutes({ handleFlexWebhook: services.handleFlexWebhook }),
    ],
  });
  const servers = await listen(app, { port: config.port, host: config.host, mtls: config.mtls });

  services.worker.start();
  const reconciliation = new PeriodicTask('reconcile-payment-sessions', services.reconcileIntervalMs, () => services.reconciler.runOnce(), logger);
  reconciliation.start();

  return {
    services,
    servers,
    async stop() {
      await servers.close();
      await reconciliation.stop();
      await services.worker.stop();
      if (ownsDatabase) await database.close();
    },
  };
}
