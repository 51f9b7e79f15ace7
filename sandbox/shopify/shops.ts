// Shops, app installations, access tokens and OAuth authorization codes.
import { randomBytes, randomInt } from 'node:crypto';

/** The scopes the payments extension grants, whatever the app asked for (reference §4, §9.1). */
export const PAYMENTS_SCOPES = ['write_payment_gateways', 'write_payment_sessions'];

export interface PaymentsAppConfigurationRecord {
  ready: boolean;
  externalHandle: string | null;
  updatedAt: string;
}

export interface ShopRecord {
  domain: string;
  /** Numeric shop id, as in webhook payloads. */
  shopId: number;
  name: string;
  email: string;
  createdAt: string;
  installed: boolean;
  installedAt: string | null;
  uninstalledAt: string | null;
  grantedScopes: string[];
  configuration: PaymentsAppConfigurationRecord | null;
}

export type TokenSource = 'direct' | 'oauth' | 'refresh' | 'migration';

export interface AccessTokenRecord {
  token: string;
  shop: string;
  online: boolean;
  scope: string;
  source: TokenSource;
  createdAt: string;
  /** Epoch ms; null = a non-expiring offline token. */
  expiresAt: number | null;
  refreshToken: string | null;
  refreshTokenExpiresAt: number | null;
  revoked: boolean;
}

export interface AuthorizationCodeRecord {
  code: string;
  shop: string;
  clientId: string;
  scope: string;
  redirectUri: string;
  online: boolean;
  expiresAt: number;
  used: boolean;
}

export interface TokenLifetimes {
  /** Lifetime of an expiring offline token (`expiring: '1'`). */
  accessTokenSeconds: number;
  refreshTokenSeconds: number;
  onlineTokenSeconds: number;
}

export const DEFAULT_TOKEN_LIFETIMES: TokenLifetimes = {
  accessTokenSeconds: 3600,
  refreshTokenSeconds: 90 * 24 * 3600,
  onlineTokenSeconds: 86399,
};

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)+$/;

export function normalizeShopDomain(domain: string): string {
  const normalized = String(domain ?? '').trim().toLowerCase();
  if (!SHOP_DOMAIN.test(normalized)) throw new Error(`Invalid shop domain: ${JSON.stringify(domain)}`);
  return normalized;
}

export function isValidShopDomain(domain: unknown): domain is string {
  return typeof domain === 'string' && SHOP_DOMAIN.test(domain.trim().toLowerCase());
}

/** "demo" for "demo.myshopify.com": the handle used in admin URLs and the `host` parameter. */
export function shopHandle(domain: string): string {
  return domain.replace(/\.myshopify\.com$/, '');
}

function splitScopes(scope: string): string[] {
  return scope
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function mergeScopes(...lists: Array<string | string[]>): string[] {
  const all = lists.flatMap((l) => (Array.isArray(l) ? l : splitScopes(l)));
  return [...new Set(all)];
}

export class ShopRegistry {
  private readonly shops = new Map<string, ShopRecord>();
  private readonly tokens = new Map<string, AccessTokenRecord>();
  private readonly codes = new Map<string, AuthorizationCodeRecord>();

  constructor(
    private readonly now: () => Date,
    private readonly lifetimes: TokenLifetimes,
  ) {}

  /** Shops exist independently of the app; any well-formed domain is a shop. */
  ensureShop(domain: string): ShopRecord {
    const normalized = normalizeShopDomain(domain);
    let shop = this.shops.get(normalized);
    if (!shop) {
      const handle = shopHandle(normalized);
      shop = {
        domain: normalized,
        shopId: randomInt(10_000_000, 99_999_999),
        name: handle
          .split(/[-_.]/)
          .filter(Boolean)
          .map((w) => w[0]!.toUpperCase() + w.slice(1))
          .join(' '),
        email: `owner@${handle}.example`,
        createdAt: this.now().toISOString(),
        installed: false,
        installedAt: null,
        uninstalledAt: null,
        grantedScopes: [],
        configuration: null,
      };
      this.shops.set(normalized, shop);
    }
    return shop;
  }

  get(domain: string): ShopRecord | undefined {
    return isValidShopDomain(domain) ? this.shops.get(domain.trim().toLowerCase()) : undefined;
  }

  list(): ShopRecord[] {
    return [...this.shops.values()];
  }

  install(domain: string, scope: string): ShopRecord {
    const shop = this.ensureShop(domain);
    if (!shop.installed) {
      shop.installed = true;
      shop.installedAt = this.now().toISOString();
      shop.uninstalledAt = null;
    }
    shop.grantedScopes = mergeScopes(shop.grantedScopes, scope, PAYMENTS_SCOPES);
    return shop;
  }

  /** Uninstalling revokes every token of the shop; the payments configuration goes too. */
  uninstall(domain: string): ShopRecord | undefined {
    const shop = this.get(domain);
    if (!shop) return undefined;
    shop.installed = false;
    shop.uninstalledAt = this.now().toISOString();
    shop.grantedScopes = [];
    shop.configuration = null;
    for (const token of this.tokens.values()) if (token.shop === shop.domain) token.revoked = true;
    return shop;
  }

  issueToken(
    domain: string,
    opts: { online?: boolean; expiring?: boolean; source: TokenSource },
  ): AccessTokenRecord {
    const shop = this.ensureShop(domain);
    const now = this.now().getTime();
    const online = opts.online ?? false;
    const expiring = online || (opts.expiring ?? false);
    const record: AccessTokenRecord = {
      token: `${online ? 'shpua' : 'shpat'}_${randomBytes(16).toString('hex')}`,
      shop: shop.domain,
      online,
      scope: shop.grantedScopes.join(','),
      source: opts.source,
      createdAt: new Date(now).toISOString(),
      expiresAt: expiring
        ? now + 1000 * (online ? this.lifetimes.onlineTokenSeconds : this.lifetimes.accessTokenSeconds)
        : null,
      refreshToken: expiring && !online ? `shprt_${randomBytes(16).toString('hex')}` : null,
      refreshTokenExpiresAt: expiring && !online ? now + 1000 * this.lifetimes.refreshTokenSeconds : null,
      revoked: false,
    };
    this.tokens.set(record.token, record);
    return record;
  }

  /** The token's record if it may be used now (known, not revoked, not expired, shop installed). */
  activeToken(token: string | undefined): AccessTokenRecord | undefined {
    if (!token) return undefined;
    const record = this.tokens.get(token);
    if (!record || record.revoked) return undefined;
    if (record.expiresAt !== null && record.expiresAt <= this.now().getTime()) return undefined;
    if (!this.shops.get(record.shop)?.installed) return undefined;
    return record;
  }

  tokenRecord(token: string): AccessTokenRecord | undefined {
    return this.tokens.get(token);
  }

  findByRefreshToken(refreshToken: string): AccessTokenRecord | undefined {
    return [...this.tokens.values()].find((t) => t.refreshToken === refreshToken);
  }

  tokensOf(domain: string): AccessTokenRecord[] {
    return [...this.tokens.values()].filter((t) => t.shop === domain.toLowerCase());
  }

  revokeToken(token: string): boolean {
    const record = this.tokens.get(token);
    if (!record) return false;
    record.revoked = true;
    return true;
  }

  createCode(input: Omit<AuthorizationCodeRecord, 'code' | 'used' | 'expiresAt'>, lifetimeSeconds: number): AuthorizationCodeRecord {
    const record: AuthorizationCodeRecord = {
      ...input,
      code: randomBytes(16).toString('hex'),
      expiresAt: this.now().getTime() + lifetimeSeconds * 1000,
      used: false,
    };
    this.codes.set(record.code, record);
    return record;
  }

  code(code: string): AuthorizationCodeRecord | undefined {
    return this.codes.get(code);
  }

  setConfiguration(domain: string, config: { ready: boolean; externalHandle: string | null }): PaymentsAppConfigurationRecord {
    const shop = this.ensureShop(domain);
    shop.configuration = { ...config, updatedAt: this.now().toISOString() };
    return shop.configuration;
  }
}
