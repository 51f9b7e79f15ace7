import type { SessionStorage } from '@shopify/shopify-app-session-storage';
import type { AppConfig } from '../config';
import type { Transactor } from '../db/repositories';
import type { FlexClient } from '../flex/flex-client';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { OutboxWorker } from '../outbox/outbox-worker';
import type { ConnectFlexAccount } from '../shops/connect-flex-account';
import type { ShopifyAccessTokens } from '../shopify/access-tokens';
import { returnToShopifyUrl } from '../shopify/admin-links';
import { ShopifyOAuth } from '../shopify/oauth';
import { DataRequestReports } from './data-request-report';
import { MerchantFlexAccount } from './flex-account';
import { HandleShopifyWebhook } from './handle-shopify-webhook';
import { MerchantInstall } from './install';
import { MerchantSessions } from './merchant-session';
import type { PaymentsAppConfiguration } from './payments-app-configuration';
import { RetryShopJob } from './retry-job';
import { LoadSettingsView } from './settings-view';

/**
 * The merchant side of the app, wired once: OAuth install, the settings page's session and use
 * cases, and Shopify's webhooks (uninstall and compliance).
 */
export function buildMerchantServices(deps: {
  config: AppConfig;
  transactor: Transactor;
  flex: FlexClient;
  tokens: ShopifyAccessTokens;
  sessionStorage: SessionStorage;
  connectFlex: ConnectFlexAccount;
  configuration: PaymentsAppConfiguration;
  worker: OutboxWorker;
  clock: Clock;
  logger: Logger;
}) {
  const { config, clock } = deps;
  const logger = deps.logger.child({ component: 'merchant' });
  const { transactor } = deps;
  const runNow = (jobId: string) => deps.worker.runNow(jobId);
  const wake = () => deps.worker.wake();

  const oauth = new ShopifyOAuth({
    apiKey: config.shopify.apiKey,
    apiSecret: config.shopify.apiSecret,
    appUrl: config.appUrl,
    apiVersion: config.shopify.apiVersion,
    apiOrigin: config.shopify.apiOrigin,
    timeoutMs: config.shopify.timeoutMs,
    logger,
  });
  const { configuration } = deps;
  return {
    oauth,
    sessions: new MerchantSessions(config.encryptionKey, clock),
    install: new MerchantInstall({ transactor, sessionStorage: deps.sessionStorage, tokens: deps.tokens, clock, logger }),
    configuration,
    flexAccount: new MerchantFlexAccount({ transactor, connectFlex: deps.connectFlex, configuration, flex: deps.flex, clock, logger, runNow, wake }),
    settingsView: new LoadSettingsView({ transactor, clock }),
    retryJob: new RetryShopJob({ transactor, clock, logger, wake }),
    dataRequests: new DataRequestReports({ transactor }),
    webhooks: new HandleShopifyWebhook({ transactor, apiSecret: config.shopify.apiSecret, flex: deps.flex, clock, logger }),
    /** The app's origin: form posts must come from it (CSRF). */
    appOrigin: new URL(config.appUrl).origin,
    secureCookies: config.appUrl.startsWith('https://'),
    /** Where the merchant's browser meets Shopify when SHOPIFY_API_ORIGIN stands in for https://{shop}. */
    browserShopifyOrigin: config.shopify.apiOrigin ? new URL(config.shopify.apiOrigin).origin : undefined,
    returnToShopifyUrl: (shopDomain: string) => returnToShopifyUrl(shopDomain, config.shopify.apiKey, config.shopify.apiOrigin),
  };
}

export type MerchantServices = ReturnType<typeof buildMerchantServices>;
