import { ConfigError, loadConfig } from '../config';
import { createLogger, type Logger } from '../lib/logger';
import { sandboxEncryptionKey } from './sandbox-encryption-key';
import { seedDemoShop, startSandboxes, type Sandboxes } from './sandbox-mode';
import { startApp, type RunningApp } from './start-app';

export interface RunningServer {
  app: RunningApp;
  sandboxes: Sandboxes | undefined;
  logger: Logger;
  stop(): Promise<void>;
}

/**
 * What `npm start` does: configuration from the environment, then the app and, without Shopify
 * credentials, the bundled sandboxes with a demo shop. Throws ConfigError on bad configuration.
 */
export async function runServer(env: NodeJS.ProcessEnv, destination?: { write(line: string): void }): Promise<RunningServer> {
  const config = loadConfig(env, { sandboxEncryptionKey });
  const logger = createLogger({ level: config.logLevel, destination });

  let sandboxes: Sandboxes | undefined;
  if (config.sandboxMode) {
    sandboxes = await startSandboxes(config, env);
    logger.warn(
      { flexSandbox: sandboxes.flex.url, shopifySimulator: sandboxes.shopify.url },
      'No Shopify credentials configured (SHOPIFY_API_KEY): running against the bundled Flex sandbox and Shopify simulator. Nothing here reaches Flex or Shopify.',
    );
  }

  let app: RunningApp;
  try {
    app = await startApp({ config, logger });
  } catch (error) {
    await sandboxes?.stop();
    throw error;
  }
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

  return {
    app,
    sandboxes,
    logger,
    async stop() {
      await app.stop();
      await sandboxes?.stop();
    },
  };
}

export { ConfigError };
