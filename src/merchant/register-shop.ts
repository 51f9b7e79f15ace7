import type { Transactor } from '../db/transactor';
import type { PaymentsAppConfiguration } from './payments-app-configuration';
import type { Clock } from '../lib/clock';
import { normalizeShopDomain } from '../lib/shop-domain';
import type { ShopifyAccessTokens } from '../shopify/access-tokens';
import type { ConnectFlexAccount } from './connect-flex-account';

export interface RegisterShopInput {
  shopDomain: string;
  accessToken: string;
  flexApiKey: string;
  flexTestApiKey?: string;
}

export type RegisterShopResult =
  | {
      ok: true;
      shopId: string;
      connections: Array<{ mode: string; apiKeyHint: string; webhookEndpointId: string }>;
      /** Whether Shopify has already acknowledged paymentsAppConfigure(ready: true), or it is queued. */
      shopifyReady: 'acknowledged' | 'queued';
    }
  | { ok: false; problems: string[] };

/**
 * The operator's way to put a shop in service (`npm run cli -- shops:add`): the shop's offline
 * Shopify token and its Flex keys. Every key is checked with Flex first; on any problem nothing is
 * stored. Then Shopify is told the provider is ready, as after connecting on the settings page.
 */
export class RegisterShop {
  constructor(
    private readonly deps: {
      transactor: Transactor;
      tokens: ShopifyAccessTokens;
      connectFlex: ConnectFlexAccount;
      configuration: PaymentsAppConfiguration;
      clock: Clock;
    },
  ) {}

  async execute(input: RegisterShopInput): Promise<RegisterShopResult> {
    const shopDomain = normalizeShopDomain(input.shopDomain);
    const problems: string[] = [];
    if (!shopDomain) problems.push(`--shop must be a *.myshopify.com domain (got "${input.shopDomain}")`);
    if (!input.accessToken.trim()) problems.push("the shop's Shopify access token is required");
    if (!input.flexApiKey.trim()) problems.push('the Flex live API key is required');
    if (!shopDomain || problems.length > 0) return { ok: false, problems };

    const connected = await this.deps.connectFlex.execute(shopDomain, { live: input.flexApiKey, test: input.flexTestApiKey }, { createShop: true });
    if (!connected.ok) return connected;
    // Reactivates a shop that had uninstalled the app.
    await this.deps.transactor.repos.shops.upsertActive(shopDomain, this.deps.clock.now());
    await this.deps.tokens.store(shopDomain, input.accessToken.trim(), undefined);
    // As the settings page does after connecting: tell Shopify the provider is ready (through the outbox).
    const configured = await this.deps.configuration.sync(connected.shopId);
    return {
      ok: true,
      shopId: connected.shopId,
      connections: connected.connections,
      shopifyReady: configured.attempt === 'succeeded' ? 'acknowledged' : 'queued',
    };
  }
}
