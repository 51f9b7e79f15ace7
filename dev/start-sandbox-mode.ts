import { FlexSandbox } from '../sandbox/flex';
import { ShopifySimulator } from '../sandbox/shopify';
import { runUntilSignal } from '../src/app/run-until-signal';
import { startApp, type RunningApp } from '../src/app/start-app';
import { ConfigError, loadConfig } from '../src/config';
import { createLogger, type Logger } from '../src/lib/logger';
import { normalizeShopDomain } from '../src/lib/shop-domain';
import { SHOPIFY_WEBHOOK_TOPICS } from '../src/merchant/shopify-webhooks/handle-shopify-webhook';
import { ORDER_WEBHOOK_TOPICS } from '../src/orders/order-webhooks';
import { ADMIN_API_SCOPES } from '../src/shopify/access-scopes';
import { sandboxEncryptionKey } from '../src/app/sandbox-encryption-key';

/**
 * The development entry point: `npm start` without Shopify credentials. It starts the bundled Flex
 * sandbox and Shopify simulator, points the app at them, and registers a demo shop, so the whole
 * payment loop runs on one machine. Only this file (and tests, benchmarks) imports `sandbox/`: the
 * production build (`dist/src`) holds none of it. For trying the app, never for real money.
 */

export const DEMO_SHOP = 'demo-shop.myshopify.com';

export interface Sandboxes {
  flex: FlexSandbox;
  shopify: ShopifySimulator;
  stop(): Promise<void>;
}

export interface RunningSandboxMode {
  app: RunningApp;
  sandboxes: Sandboxes;
  logger: Logger;
  stop(): Promise<void>;
}

export async function startSandboxMode(env: NodeJS.ProcessEnv, destination?: { write(line: string): void }): Promise<RunningSandboxMode> {
  // Sandbox mode is a demo on sandboxes: it must never be what a production deployment runs.
  if (env.NODE_ENV?.trim() === 'production') {
    throw new ConfigError(['NODE_ENV: production needs Shopify credentials (SHOPIFY_API_KEY, SHOPIFY_API_SECRET) and dist/src/main.js; sandbox mode never runs in production']);
  }
  const config = loadConfig(env, { sandboxEncryptionKey });
  if (!config.sandboxMode) throw new ConfigError(['SHOPIFY_API_KEY: set, so this is not sandbox mode; start dist/src/main.js instead']);
  const logger = createLogger({ level: config.logLevel, destination });

  const flex = new FlexSandbox({ port: config.sandbox.flexPort, host: '127.0.0.1' });
  await flex.start();
  const shopify = new ShopifySimulator({
    port: config.sandbox.shopifyPort,
    host: '127.0.0.1',
    apiVersion: config.shopify.apiVersion,
    app: { url: config.appUrl, apiKey: config.shopify.apiKey, apiSecret: config.shopify.apiSecret },
  });
  await shopify.start();
  const sandboxes: Sandboxes = {
    flex,
    shopify,
    async stop() {
      await shopify.stop();
      await flex.stop();
    },
  };
  if (!env.FLEX_API_URL) config.flex.apiUrl = flex.url;
  if (!env.SHOPIFY_API_ORIGIN) config.shopify.apiOrigin = shopify.url;
  logger.warn(
    { flexSandbox: flex.url, shopifySimulator: shopify.url },
    'No Shopify credentials configured (SHOPIFY_API_KEY): running against the bundled Flex sandbox and Shopify simulator. Nothing here reaches Flex or Shopify.',
  );

  let app: RunningApp;
  try {
    app = await startApp({ config, logger });
  } catch (error) {
    await sandboxes.stop();
    throw error;
  }
  shopify.configureApp({
    url: app.servers.httpUrl,
    paymentsUrl: app.servers.sessionsUrl,
    apiKey: config.shopify.apiKey,
    apiSecret: config.shopify.apiSecret,
    // The app's subscriptions (shopify.app.toml): checkouts, products and orders reach it as on Shopify.
    webhookTopics: [...SHOPIFY_WEBHOOK_TOPICS, ...ORDER_WEBHOOK_TOPICS],
  });
  await seedDemoShop(app, sandboxes, logger);
  logger.info(
    { url: app.servers.httpUrl, metricsUrl: app.servers.metricsUrl, appUrl: config.appUrl, database: app.components.database.description, flexApiUrl: config.flex.apiUrl, shopifyApiOrigin: config.shopify.apiOrigin },
    `Flex payments app ready. Try a checkout at ${shopify.url}`,
  );
  return {
    app,
    sandboxes,
    logger,
    async stop() {
      await app.stop();
      await sandboxes.stop();
    },
  };
}

/** Registers the demo shop with fresh sandbox keys (the sandboxes keep no state between runs). */
async function seedDemoShop(app: RunningApp, sandboxes: Sandboxes, logger: Logger): Promise<void> {
  const account = sandboxes.flex.createAccount({ name: 'Demo Shop' });
  // Installed as through OAuth, with the scopes the app asks for, and a few products (HSA/FSA-looking
  // and not) so that a cart on the simulator's checkout page goes to Flex as a split cart.
  const installed = sandboxes.shopify.createShop(DEMO_SHOP, { scopes: [...ADMIN_API_SCOPES] });
  sandboxes.shopify.seedDemoCatalog(DEMO_SHOP);
  const result = await app.components.registerShop.execute({
    shopDomain: normalizeShopDomain(installed.domain)!,
    accessToken: installed.accessToken,
    flexApiKey: account.liveKey,
    flexTestApiKey: account.testKey,
  });
  if (!result.ok) throw new Error(`could not register the demo shop: ${result.problems.join('; ')}`);
  logger.info({ shop: DEMO_SHOP }, 'demo shop registered with the sandboxes');
}

if (require.main === module) runUntilSignal(startSandboxMode(process.env));
