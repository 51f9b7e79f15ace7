import { Session } from '@shopify/shopify-api';
import type { SessionStorage } from '@shopify/shopify-app-session-storage';
import { Secret } from '../lib/secret';

/** The session storage, and how it opens a token read without it (EncryptedSessionStorage). */
type TokenStorage = SessionStorage & { openAccessToken(sessionId: string, sealed: string): string };

/** The shop's offline access token: the one background jobs use for the Payments Apps API. */
export class ShopifyAccessTokens {
  constructor(private readonly storage: TokenStorage) {}

  static offlineSessionId(shopDomain: string): string {
    return `offline_${shopDomain}`;
  }

  async forShop(shopDomain: string): Promise<Secret | null> {
    return (await this.offline(shopDomain))?.token ?? null;
  }

  /**
   * The offline token as the storage keeps it, read with other rows by SQL of its own (an outbox
   * job's claim, db/repositories/jobs.ts), opened without reading it again. Null for an empty one,
   * as `forShop` would answer.
   */
  openStored(shopDomain: string, sealed: string): Secret | null {
    if (!sealed) return null;
    const token = this.storage.openAccessToken(ShopifyAccessTokens.offlineSessionId(shopDomain), sealed);
    return token ? new Secret(token) : null;
  }

  /**
   * The offline token and the scopes Shopify granted with it; `scope` is undefined when it is not
   * known (a token an operator registered with `shops:add`).
   */
  async offline(shopDomain: string): Promise<{ token: Secret; scope: string | undefined } | null> {
    const session = await this.storage.loadSession(ShopifyAccessTokens.offlineSessionId(shopDomain));
    return session?.accessToken ? { token: new Secret(session.accessToken), scope: session.scope || undefined } : null;
  }

  /**
   * Whether the shop's stored grant covers the scopes the app needs now. A token stored without a
   * scope (registered by an operator with `shops:add`) is taken to cover them: the operator vouched.
   */
  async coversScopes(shopDomain: string, scopes: readonly string[]): Promise<boolean> {
    const session = await this.storage.loadSession(ShopifyAccessTokens.offlineSessionId(shopDomain));
    if (!session?.accessToken) return false;
    if (!session.scope) return true;
    return session.isScopeIncluded([...scopes]);
  }

  async store(shopDomain: string, accessToken: string, scope: string | undefined): Promise<void> {
    const session = new Session({
      id: ShopifyAccessTokens.offlineSessionId(shopDomain),
      shop: shopDomain,
      state: '',
      isOnline: false,
      accessToken,
      scope,
    });
    await this.storage.storeSession(session);
  }

  async removeAllForShop(shopDomain: string): Promise<void> {
    const sessions = await this.storage.findSessionsByShop(shopDomain);
    if (sessions.length > 0) await this.storage.deleteSessions(sessions.map((s) => s.id));
  }
}
