import { FlexSandbox } from '../../sandbox/flex';
import { ShopifySimulator } from '../../sandbox/shopify';
import type { AppConfig } from '../config';
import type { Logger } from '../lib/logger';
import type { Services } from './services';

/**
 * Sandbox mode (no Shopify credentials): the app runs against the bundled Flex sandbox and Shopify
 * simulator, with a demo shop ready to take a payment. For trying the app, never for real money.
 */

export const DEMO_SHOP = 'demo-shop.myshopify.com';

export interface Sandboxes {
  flex: FlexSandbox;
  shopify: ShopifySimulator;
  stop(): Promise<void>;
}

/** Starts both sandboxes and points the configuration at them (unless the env already did). */
export async function startSandboxes(config: AppConfig, env: NodeJS.ProcessEnv): Promise<Sandboxes> {
  const flex = new FlexSandbox({ port: config.sandbox.flexPort, host: '127.0.0.1' });
  await flex.start();
  const shopify = new ShopifySimulator({
    port: config.sandbox.shopifyPort,
    host: '127.0.0.1',
    apiVersion: config.shopify.apiVersion,
    app: { url: config.appUrl, apiKey: config.shopify.apiKey, apiSecret: config.shopify.apiSecret },
  });
  await shopify.start();
  if (!env.FLEX_API_URL) config.flex.apiUrl = flex.url;
  if (!env.SHOPIFY_API_ORIGIN) config.shopify.apiOrigin = shopify.url;
  return {
    flex,
    shopify,
    async stop() {
      await shopify.stop();
      await flex.stop();
    },
  };
}

/** Registers the demo shop with fresh sandbox keys (the sandboxes keep no state between runs). */
export async function seedDemoShop(services: Services, sandboxes: Sandboxes, logger: Logger): Promise<void> {
  const account = sandboxes.flex.createAccount({ name: 'Demo Shop' });
  const installed = sandboxes.shopify.createShop(DEMO_SHOP);
  const result = await services.registerShop.execute({
    shopDomain: installed.domain,
    accessToken: installed.accessToken,
    flexApiKey: account.liveKey,
    flexTestApiKey: account.testKey,
  });
  if (!result.ok) throw new Error(`could not register the demo shop: ${result.problems.join('; ')}`);
  logger.info({ shop: DEMO_SHOP }, 'demo shop registered with the sandboxes');
}
