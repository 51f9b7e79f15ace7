import { Session } from '@shopify/shopify-api';
import type { SessionStorage } from '@shopify/shopify-app-session-storage';
import type { SecretBox } from '../lib/secret-box';
import { secretContexts } from '../lib/secret-contexts';

/**
 * Shopify OAuth sessions are kept by Shopify's Prisma session storage, with the access and refresh
 * tokens encrypted before they reach it. The session id is bound in, so a token row copied to
 * another shop's session does not decrypt.
 */
export class EncryptedSessionStorage implements SessionStorage {
  private tableChecked = false;

  constructor(
    private readonly inner: SessionStorage & { isReady?(): Promise<boolean> },
    private readonly secrets: SecretBox,
  ) {}

  /** Until the inner storage has once found its table, each call asks it again (see prisma-session-storage.ts). */
  private async ready(): Promise<void> {
    if (this.tableChecked || !this.inner.isReady) return;
    this.tableChecked = await this.inner.isReady();
  }

  async storeSession(session: Session): Promise<boolean> {
    await this.ready();
    const sealed = new Session(session.toObject());
    if (session.accessToken) sealed.accessToken = this.secrets.encrypt(session.accessToken, context(session.id, 'access-token'));
    if (session.refreshToken) sealed.refreshToken = this.secrets.encrypt(session.refreshToken, context(session.id, 'refresh-token'));
    return this.inner.storeSession(sealed);
  }

  async loadSession(id: string): Promise<Session | undefined> {
    await this.ready();
    const stored = await this.inner.loadSession(id);
    return stored ? this.open(stored) : undefined;
  }

  async deleteSession(id: string): Promise<boolean> {
    await this.ready();
    return this.inner.deleteSession(id);
  }

  async deleteSessions(ids: string[]): Promise<boolean> {
    await this.ready();
    return this.inner.deleteSessions(ids);
  }

  async findSessionsByShop(shop: string): Promise<Session[]> {
    await this.ready();
    const sessions = await this.inner.findSessionsByShop(shop);
    return sessions.map((s) => this.open(s));
  }

  /** An access token as this storage keeps it (read by SQL of its own, db/repositories/jobs.ts), opened. */
  openAccessToken(sessionId: string, sealed: string): string {
    return this.secrets.decrypt(sealed, context(sessionId, 'access-token'));
  }

  private open(stored: Session): Session {
    const session = new Session(stored.toObject());
    if (stored.accessToken) session.accessToken = this.secrets.decrypt(stored.accessToken, context(stored.id, 'access-token'));
    if (stored.refreshToken) session.refreshToken = this.secrets.decrypt(stored.refreshToken, context(stored.id, 'refresh-token'));
    return session;
  }
}

const context = secretContexts.shopifySessionToken;
