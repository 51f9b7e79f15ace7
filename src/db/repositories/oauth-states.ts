import { createHash } from 'node:crypto';
import type { DbClient } from '../db-client';

const ROW_PREFIX = 'oauth_state_';

/**
 * The OAuth `state` nonces this app handed out, kept server-side so each one is good for exactly one
 * callback, for the shop it was issued for. The library already binds the nonce to the browser (a
 * signed cookie); this adds single use, which a cookie cannot give, and works across instances.
 *
 * Rows live in the `Session` table (no schema change): id `oauth_state_<sha256 of the nonce>`, the
 * shop, an expiry, and no token. Deleting a shop's sessions (uninstall) deletes them too.
 */
export class OAuthStateStore {
  constructor(private readonly db: DbClient) {}

  async remember(shopDomain: string, state: string, now: Date, lifetimeMs: number): Promise<void> {
    await this.db.session.deleteMany({ where: { id: { startsWith: ROW_PREFIX }, expires: { lt: now } } });
    await this.db.session.create({
      data: { id: rowId(state), shop: shopDomain, state: 'oauth-pending', isOnline: false, accessToken: '', expires: new Date(now.getTime() + lifetimeMs) },
    });
  }

  /** True once: for a nonce we issued for this shop, not used and not expired. */
  async claim(shopDomain: string, state: string, now: Date): Promise<boolean> {
    const { count } = await this.db.session.deleteMany({ where: { id: rowId(state), shop: shopDomain, expires: { gt: now } } });
    return count === 1;
  }
}

function rowId(state: string): string {
  return `${ROW_PREFIX}${createHash('sha256').update(state).digest('hex')}`;
}
