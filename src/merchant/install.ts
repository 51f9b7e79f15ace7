import { enqueueWebPixelActivation } from '../cart/activate-web-pixel';
import type { Session } from '@shopify/shopify-api';
import type { SessionStorage } from '@shopify/shopify-app-session-storage';
import type { Clock } from '../lib/clock';
import type { ShopDomain, ShopId } from '../lib/ids';
import type { Logger } from '../lib/logger';
import { normalizeShopDomain } from '../lib/shop-domain';
import { ADMIN_API_SCOPES } from '../shopify/access-scopes';
import type { ShopifyAccessTokens } from '../shopify/access-tokens';
import type { Transactor } from '../db/transactor';

/** How long an OAuth `state` we handed out may come back (the library's cookie lives 60 s). */
const OAUTH_STATE_LIFETIME_MS = 10 * 60 * 1000;

/**
 * The merchant's install: OAuth bookkeeping (single-use `state`), storing the offline token
 * (encrypted, through the session storage) and putting the shop in service. A reinstall takes the
 * same path and reactivates the shop.
 */
export class MerchantInstall {
  constructor(
    private readonly deps: {
      transactor: Transactor;
      sessionStorage: SessionStorage;
      tokens: ShopifyAccessTokens;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  /** Installed = the shop is active here and its offline token is stored. */
  async isInstalled(shopDomain: ShopDomain): Promise<boolean> {
    const shop = await this.deps.transactor.repos.shops.findByDomain(shopDomain);
    if (shop?.status !== 'ACTIVE') return false;
    return (await this.deps.tokens.forShop(shopDomain)) !== null;
  }

  /**
   * Whether the stored token carries every Admin API scope the app asks for, when Shopify said which
   * it granted (a token an operator registered says nothing, and is taken as it is). A token from
   * before the app asked for more sends the merchant through OAuth again when they open the app, where
   * Shopify asks them to approve the new scopes.
   */
  async hasRequiredScopes(shopDomain: ShopDomain): Promise<boolean> {
    return this.deps.tokens.coversScopes(shopDomain, ADMIN_API_SCOPES);
  }

  async shopId(shopDomain: ShopDomain): Promise<ShopId | null> {
    return (await this.deps.transactor.repos.shops.findByDomain(shopDomain))?.id ?? null;
  }

  rememberState(shopDomain: string, state: string): Promise<void> {
    return this.deps.transactor.repos.oauthStates.remember(shopDomain, state, this.deps.clock.now(), OAUTH_STATE_LIFETIME_MS);
  }

  /** True once per state we issued for this shop; a replayed or unknown state is false. */
  claimState(shopDomain: string, state: string): Promise<boolean> {
    return this.deps.transactor.repos.oauthStates.claim(shopDomain, state, this.deps.clock.now());
  }

  /** Stores the offline session from the OAuth callback and creates or reactivates the shop. */
  async complete(session: Session): Promise<{ shopId: ShopId; reinstalled: boolean }> {
    if (session.isOnline || !session.accessToken) throw new Error('OAuth returned no offline access token');
    const shopDomain = normalizeShopDomain(session.shop);
    if (!shopDomain) throw new Error('OAuth returned a session for an invalid shop domain');
    await this.deps.sessionStorage.storeSession(session);
    const { shops } = this.deps.transactor.repos;
    const before = await shops.findByDomain(shopDomain);
    const shop = await shops.upsertActive(shopDomain, this.deps.clock.now());
    const reinstalled = before !== null;
    await enqueueWebPixelActivation(this.deps.transactor.repos, shop.id, this.deps.clock.now());
    this.deps.logger.info({ shop: shopDomain, reinstalled, scope: session.scope }, reinstalled ? 'app reinstalled' : 'app installed');
    return { shopId: shop.id, reinstalled };
  }
}
