import path from 'node:path';
import type { AppConfig } from '../config';
import { openDatabase, type Database } from '../db/database';
import { EMBEDDED_DATABASE_NODE_FLAGS, missingEmbeddedDatabaseNodeFlags } from '../db/embedded-node-flags';
import { createHttpApp } from '../http/app';
import { assetRoutes } from '../http/routes/assets';
import { buyerRoutes } from '../http/routes/buyer-pages';
import { catalogSettingsRoutes } from '../http/routes/catalog-settings';
import { flexWebhookRoutes } from '../http/routes/flex-webhooks';
import { healthRoutes } from '../http/routes/health';
import { merchantInstallRoutes } from '../http/routes/merchant-install';
import { pixelRoutes } from '../http/routes/pixel';
import { orderReportRoutes } from '../http/routes/order-reports';
import { paymentSessionRoutes } from '../http/routes/payment-sessions';
import { refundCaptureVoidRoutes } from '../http/routes/refund-capture-void-sessions';
import { settingsRoutes } from '../http/routes/settings';
import { shopifyWebhookRoutes } from '../http/routes/shopify-webhooks';
import { createMetricsApp } from '../http/metrics-endpoint';
import { listen, type RunningServers } from '../http/servers';
import type { Logger } from '../lib/logger';
import { PeriodicTask } from '../lib/periodic-task';
import { composeApp, type AppComponents, type AppTuning } from './composition-root';

export interface RunningApp {
  components: AppComponents;
  servers: RunningServers;
  /** Stops taking requests, lets in-flight jobs finish, closes the database. */
  stop(): Promise<void>;
}

export interface StartAppOptions {
  config: AppConfig;
  logger: Logger;
  tuning?: AppTuning;
  /** An already open database (tests share one between app restarts); otherwise opened here. */
  database?: Database;
}

/** Opens the database, composes the app, listens, and starts the outbox worker and periodic tasks. */
export async function startApp(options: StartAppOptions): Promise<RunningApp> {
  const { config, logger } = options;
  const ownsDatabase = !options.database;
  const database =
    options.database ??
    (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize, preparedStatements: config.databasePreparedStatements, logger }));
  const missingNodeFlags = database.kind === 'embedded' ? missingEmbeddedDatabaseNodeFlags() : [];
  if (missingNodeFlags.length > 0) {
    logger.warn(
      { missingNodeFlags },
      `the embedded database runs in a process started without ${missingNodeFlags.join(' ')}: its memory will peak higher, by hundreds of MB without the WASM flags (why: src/db/embedded-node-flags.ts). npm start adds them; or run node ${EMBEDDED_DATABASE_NODE_FLAGS.join(' ')} ${entryScript()}`,
    );
  }
  const components = composeApp(config, database, logger, options.tuning);
  const { payments, merchant } = components;

  const app = createHttpApp({
    logger,
    metrics: components.metrics,
    routers: [
      healthRoutes({ databaseReady: () => database.ping(), workerHealthy: () => components.worker.isHealthy() && components.catalogWorker.isHealthy() }),
      assetRoutes(),
      paymentSessionRoutes({ receivePaymentSession: payments.receivePaymentSession, sessionAuth: config.sessionAuth }),
      refundCaptureVoidRoutes({ receiveRefund: payments.receiveRefund, receiveCapture: payments.receiveCapture, receiveVoid: payments.receiveVoid, sessionAuth: config.sessionAuth }),
      buyerRoutes({ payStep: payments.payStep, buyerReturn: payments.buyerReturn }),
      pixelRoutes({ recordPixelPost: components.cart.recordPixelPost, limits: components.cart.pixelLimits }),
      flexWebhookRoutes({ handleFlexWebhook: components.handleFlexWebhook }),
      shopifyWebhookRoutes({ handleShopifyWebhook: components.shopifyWebhooks }),
      merchantInstallRoutes({ merchant }),
      settingsRoutes({ merchant, orderReports: components.orderReports }),
      orderReportRoutes({ merchant, reports: components.orderReports }),
      catalogSettingsRoutes({ merchant }),
    ],
  });
  let servers: RunningServers;
  try {
    servers = await listen(app, {
      port: config.port,
      host: config.host,
      sessionAuth: config.sessionAuth,
      metrics: { app: createMetricsApp({ metrics: components.metrics, token: config.metrics.token, logger }), port: config.metrics.port, host: config.metrics.host },
    });
  } catch (error) {
    // A port in use: leave nothing open behind (the embedded database is one process's at a time).
    if (ownsDatabase) await database.close();
    throw error;
  }

  components.worker.start();
  components.catalogWorker.start();
  const reconciliation = new PeriodicTask('reconcile-payment-sessions', components.reconcileIntervalMs, () => payments.reconciler.runOnce(), logger, (pass) => pass.more);
  reconciliation.start();
  const refundPolling = new PeriodicTask('poll-pending-refunds', components.refundPollIntervalMs, () => payments.refundPoller.runOnce(), logger);
  refundPolling.start();
  const retention = new PeriodicTask('prune-buyer-data', components.retentionIntervalMs, () => components.retention.runOnce(), logger);
  retention.start();
  const orderPolling = new PeriodicTask('poll-missing-orders', components.orders.pollIntervalMs, () => components.orders.poller.runOnce(), logger);
  orderPolling.start();
  const payoutSync = new PeriodicTask('sync-flex-payouts', components.reconciliation.intervalMs, () => components.reconciliation.sync.runOnce(), logger);
  payoutSync.start();
  const { tableStatistics } = components;
  const analyze = tableStatistics
    ? new PeriodicTask('analyze-grown-tables', components.analyzeIntervalMs, async () => {
        const { analyzed, ms } = await tableStatistics.analyzeGrownTables();
        // The embedded database's one session answers nothing else while it analyzes: the log says for how long.
        if (analyzed.length > 0) logger.info({ tables: analyzed, ms }, 'embedded database: analyzed the tables that grew');
      }, logger)
    : undefined;
  analyze?.start();

  return {
    components,
    servers,
    async stop() {
      await servers.close();
      await reconciliation.stop();
      await refundPolling.stop();
      await retention.stop();
      await orderPolling.stop();
      await payoutSync.stop();
      await analyze?.stop();
      await components.worker.stop();
      await components.catalogWorker.stop();
      if (ownsDatabase) await database.close();
    },
  };
}

/** The script this process runs, as it would be typed from the working directory. */
function entryScript(): string {
  const script = process.argv[1];
  return script ? path.relative(process.cwd(), script) || script : 'dist/src/main.js';
}
