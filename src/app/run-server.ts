import { ConfigError, loadConfig } from '../config';
import { createLogger, type Logger } from '../lib/logger';
import { startApp, type RunningApp } from './start-app';

export interface RunningServer {
  app: RunningApp;
  logger: Logger;
  stop(): Promise<void>;
}

/** Production start: configuration from the environment, then the app. Throws ConfigError on bad configuration. */
export async function runServer(env: NodeJS.ProcessEnv, destination?: { write(line: string): void }): Promise<RunningServer> {
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, destination });
  const app = await startApp({ config, logger });
  logger.info(
    {
      url: app.servers.httpUrl,
      sessionsUrl: app.servers.sessionsUrl,
      metricsUrl: app.servers.metricsUrl,
      sessionAuth: config.sessionAuth.kind,
      appUrl: config.appUrl,
      database: app.components.database.description,
      flexApiUrl: config.flex.apiUrl,
      shopifyApiOrigin: config.shopify.apiOrigin ?? 'https://{shop}',
      shopifyApiVersion: config.shopify.apiVersion,
    },
    'Flex payments app ready',
  );
  return { app, logger, stop: () => app.stop() };
}

export { ConfigError };
