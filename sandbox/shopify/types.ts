import type { ThrottleSettings } from './admin-cost';
import type { Assumptions } from './assumptions';
import type { ClientTls } from './http-client';

/** The payments app the simulator talks to. */
export interface AppConfig {
  /** Base URL of the app (OAuth redirect URIs, webhooks, the application URL). */
  url: string;
  /** Base URL of the four session routes when they are served elsewhere (e.g. an mTLS listener). Default: `url`. */
  paymentsUrl?: string;
  /** The app's client id. */
  apiKey: string;
  /** The app's client secret: signs OAuth query strings and webhooks. */
  apiSecret: string;
  /** Path of the application URL (where the merchant lands), default `/`. */
  applicationPath?: string;
  /** Client certificate (PEM) presented on session requests; `ca` also verifies the app's server certificate. */
  clientTls?: ClientTls;
  /** How long to wait for the app to answer a session request or webhook, default 10000. */
  requestTimeoutMs?: number;
  /** Where webhooks go: `{url}{webhooksPath}/{topic}`, default `/webhooks/shopify`. */
  webhooksPath?: string;
  /** Extra allowed OAuth `redirect_uri`s (exact match); anything under `url` is always allowed. */
  redirectUrls?: string[];
  /** Shown on the install page. */
  name?: string;
  /**
   * Topics the app subscribed to (shopify.app.toml `[[webhooks.subscriptions]] topics`): the webhooks
   * Shopify sends by itself (products/*, checkouts/*, orders/*, refunds/create) go only to these;
   * `'*'` = all. Default none, like an app that subscribed to nothing. `sendWebhook` ignores this.
   */
  webhookTopics?: string[] | '*';
  /** The order transactions' `gateway` and `payment_gateway_names`; default `name` or "Payments app". */
  paymentGatewayName?: string;
}

export interface ShopifySimulatorOptions {
  /** 0 (default) = any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Base of every URL the simulator hands out (checkout pages, cancel_url); default `http://host:port`. */
  publicUrl?: string;
  /** `Shopify-Api-Version` of session requests (the extension's api_version) and of webhooks. Default 2026-10. */
  apiVersion?: string;
  /** GraphQL versions served; others are 404. Default 2025-01 … 2026-10 (add `unstable` explicitly). */
  supportedVersions?: string[];
  /** May be left out and set later with `configureApp()`. */
  app?: AppConfig;
  /** Lifetime of OAuth authorization codes, default 600. */
  authorizationCodeLifetimeSeconds?: number;
  /** Lifetime of expiring offline tokens (`expiring: '1'`), default 3600. */
  expiringTokenLifetimeSeconds?: number;
  /** Lifetime of refresh tokens, default 90 days. */
  refreshTokenLifetimeSeconds?: number;
  /**
   * Like Shopify, skip the consent page when the app is already installed with every requested scope
   * and redirect straight back to the app. Default true.
   */
  skipConsentWhenInstalled?: boolean;
  /** Overrides of the undocumented behaviours (see assumptions.ts); also settable later on `shopify.assumptions`. */
  assumptions?: Partial<Assumptions>;
  /** Admin API leaky bucket per shop, default 1000 points restoring 50/s (`setAdminThrottle` changes it at run time). */
  adminApiThrottle?: Partial<ThrottleSettings>;
  /** Refuse Admin API fields and automatic webhooks the shop's granted scopes do not cover (default true). */
  enforceAccessScopes?: boolean;
  /** The app's web pixel extension folder (default `extensions/flex-cart-pixel`); null = the app has none. */
  pixelExtensionDir?: string | null;
}
