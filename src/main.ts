import { ConfigError, loadConfig } from './config';
import { sandboxEncryptionKey } from './app/sandbox-encryption-key';
import { seedDemoShop, startSandboxes, type Sandboxes } from './app/sandbox-mode';
import { startApp } from './app/start-app';
import { createLogger } from './lib/logger';

/** `npm start`: configuration from the environment, then the app (and, without credentials, the sandboxes). */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, { sandboxEncryptionKey });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });

  let sandboxes: Sandboxes | undefined;
  if (config.sandboxMode) {
    sandboxes = await startSandboxes(config, process.env);
    logger.warn(
      { flexSandbox: sandboxes.flex.url, shopifySimulator: sandboxes.shopify.url },
      'No Shopify credentials configured (SHOPIFY_API_KEY): running against the bundled Flex sandbox and Shopify simulator. Nothing here reaches Flex or Shopify.',
    );
  }

  const app = await startApp({ config, logger });
  if (sandboxes) {
    sandboxes.shopify.configureApp({ url: app.servers.httpUrl, paymentsUrl: app.servers.mtlsUrl, apiKey: config.shopify.apiKey, apiSecret: config.shopify.apiSecret });
    await seedDemoShop(app.services, sandboxes, logger);
  }
  logger.info(
    {
      url: app.servers.httpUrl,
      mtlsUrl: app.servers.mtlsUrl,
      appUrl: config.appUrl,
      database: app.services.database.description,
      flexApiUrl: config.flex.apiUrl,
      shopifyApiOrigin: config.shopify.apiOrigin ?? 'https://{shop}',
      shopifyApiVersion: config.shopify.apiVersion,
    },
    sandboxes ? `Flex payments app ready. Try a checkout at ${sandboxes.shopify.url}` : 'Flex payments app ready',
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await app.stop();
    await sandboxes?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
