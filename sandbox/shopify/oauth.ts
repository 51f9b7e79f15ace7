// The merchant side of a non-embedded, authorization-code OAuth install (reference §7, §11):
// the signed application URL, the consent page, the signed callback, and the token endpoint.
import { createHmac } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { isValidShopDomain, mergeScopes, shopHandle, type AccessTokenRecord, type ShopRegistry } from './shops';
import { errorPage, installPage } from './pages';
import type { AppConfig } from './types';

/**
 * Shopify's query-string signature: hex HMAC-SHA256 over the parameters except `hmac`/`signature`,
 * sorted by key and form-encoded (spaces as %20) — the encoding @shopify/shopify-api reproduces.
 */
export function signQuery(params: Record<string, string>, secret: string): string {
  const pairs = Object.keys(params)
    .filter((key) => key !== 'hmac' && key !== 'signature')
    .sort()
    .map((key): [string, string] => [key, params[key]!]);
  const message = new URLSearchParams(pairs).toString().replace(/\+/g, '%20');
  return createHmac('sha256', secret).update(message).digest('hex');
}

/** The parameters plus their `hmac`, serialized in key order like Shopify's own links. */
export function signedQueryString(params: Record<string, string>, secret: string): string {
  const all = { ...params, hmac: signQuery(params, secret) };
  const pairs = Object.keys(all)
    .sort()
    .map((key): [string, string] => [key, all[key as keyof typeof all]!]);
  return new URLSearchParams(pairs).toString();
}

/** `host` parameter: base64url of the shop's admin location. */
export function hostParam(shopDomain: string): string {
  return Buffer.from(`admin.shopify.com/store/${shopHandle(shopDomain)}`).toString('base64url');
}

export function unixTimestamp(now: Date): string {
  return String(Math.floor(now.getTime() / 1000));
}

export function buildInstallUrl(app: AppConfig, shopDomain: string, now: Date): string {
  const query = signedQueryString(
    { embedded: '0', host: hostParam(shopDomain), shop: shopDomain, timestamp: unixTimestamp(now) },
    app.apiSecret,
  );
  const base = app.url.replace(/\/$/, '');
  const path = app.applicationPath ?? '/';
  return `${base}${path.startsWith('/') ? path : `/${path}`}?${query}`;
}

export interface OAuthContext {
  shops: ShopRegistry;
  app(): AppConfig | undefined;
  now(): Date;
  codeLifetimeSeconds: number;
  skipConsentWhenInstalled: boolean;
}

const AUTHORIZE_FIELDS = ['client_id', 'scope', 'redirect_uri', 'state', 'grant_options[]', 'shop'] as const;
type AuthorizeParams = Record<(typeof AUTHORIZE_FIELDS)[number], string>;

const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const OFFLINE_TOKEN_TYPE = 'urn:shopify:params:oauth:token-type:offline-access-token';

export function oauthRouter(ctx: OAuthContext): Router {
  const router = express.Router();

  const readParams = (source: Record<string, unknown>): AuthorizeParams => {
    const params = {} as AuthorizeParams;
    for (const field of AUTHORIZE_FIELDS) {
      const value = source[field];
      params[field] = typeof value === 'string' ? value : Array.isArray(value) ? String(value[0] ?? '') : '';
    }
    return params;
  };

  // Returns an error message, or null when the authorization request is acceptable.
  const checkAuthorize = (params: AuthorizeParams, app: AppConfig | undefined): string | null => {
    if (!app) return 'No app is configured in the simulator (configureApp).';
    if (!isValidShopDomain(params.shop)) return 'Missing or invalid shop parameter.';
    if (params.client_id !== app.apiKey) {
      return `Oauth error invalid_request: Could not find Shopify API application with api_key ${params.client_id}`;
    }
    if (!redirectAllowed(app, params.redirect_uri)) {
      return 'Oauth error invalid_request: The redirect_uri is not whitelisted';
    }
    return null;
  };

  const redirectToApp = (res: Response, app: AppConfig, params: AuthorizeParams) => {
    const shop = ctx.shops.install(params.shop, params.scope);
    const code = ctx.shops.createCode(
      {
        shop: shop.domain,
        clientId: params.client_id,
        scope: shop.grantedScopes.join(','),
        redirectUri: params.redirect_uri,
        online: params['grant_options[]'] === 'per-user',
      },
      ctx.codeLifetimeSeconds,
    );
    const query = signedQueryString(
      {
        code: code.code,
        host: hostParam(shop.domain),
        shop: shop.domain,
        state: params.state,
        timestamp: unixTimestamp(ctx.now()),
      },
      app.apiSecret,
    );
    const target = new URL(params.redirect_uri);
    res.redirect(302, `${target.origin}${target.pathname}?${target.search ? `${target.search.slice(1)}&` : ''}${query}`);
  };

  router.get('/admin/oauth/authorize', (req, res) => {
    const app = ctx.app();
    const params = readParams(req.query as Record<string, unknown>);
    const problem = checkAuthorize(params, app);
    if (problem) {
      res.status(400).type('html').send(errorPage('Installation failed', problem));
      return;
    }
    const shop = ctx.shops.ensureShop(params.shop);
    const requested = mergeScopes(params.scope);
    const alreadyGranted = requested.every((s) => shop.grantedScopes.includes(s));
    if (ctx.skipConsentWhenInstalled && shop.installed && alreadyGranted) {
      redirectToApp(res, app!, params);
      return;
    }
    res.type('html').send(installPage({ app: app!, shop, requestedScopes: requested, params }));
  });

  router.post('/admin/oauth/authorize', express.urlencoded({ extended: false }), (req, res) => {
    const app = ctx.app();
    const params = readParams((req.body ?? {}) as Record<string, unknown>);
    const problem = checkAuthorize(params, app);
    if (problem) {
      res.status(400).type('html').send(errorPage('Installation failed', problem));
      return;
    }
    redirectToApp(res, app!, params);
  });

  router.post(
    '/admin/oauth/access_token',
    express.json(),
    express.urlencoded({ extended: false }),
    (req: Request, res: Response) => {
      const app = ctx.app();
      const body = { ...(req.query as Record<string, unknown>), ...((req.body ?? {}) as Record<string, unknown>) };
      const str = (key: string) => (body[key] === undefined || body[key] === null ? undefined : String(body[key]));
      if (!app || str('client_id') !== app.apiKey || str('client_secret') !== app.apiSecret) {
        res.status(401).json({
          error: 'invalid_client',
          error_description:
            'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
        });
        return;
      }
      const expiring = str('expiring') === '1' || str('expiring') === 'true';
      const grantType = str('grant_type') ?? 'authorization_code';
      const now = ctx.now().getTime();
      const invalid = (description: string) => res.status(400).json({ error: 'invalid_request', error_description: description });

      if (grantType === 'authorization_code') {
        const code = ctx.shops.code(str('code') ?? '');
        if (!code || code.used || code.expiresAt <= now || code.clientId !== app.apiKey) {
          invalid('The authorization code was not found or was already used');
          return;
        }
        const shopParam = str('shop');
        if (shopParam && shopParam.toLowerCase() !== code.shop) {
          invalid('The authorization code was not issued for this shop');
          return;
        }
        code.used = true;
        const shop = ctx.shops.get(code.shop);
        if (!shop?.installed) {
          invalid('The app is not installed on this shop');
          return;
        }
        const token = ctx.shops.issueToken(code.shop, { online: code.online, expiring, source: 'oauth' });
        res.json(tokenResponse(token, now));
        return;
      }

      if (grantType === 'refresh_token') {
        const previous = ctx.shops.findByRefreshToken(str('refresh_token') ?? '');
        if (!previous || previous.revoked || (previous.refreshTokenExpiresAt ?? 0) <= now || !ctx.shops.get(previous.shop)?.installed) {
          invalid('The refresh token is invalid or expired');
          return;
        }
        // Refresh tokens rotate: the old one is spent, the old access token lives until it expires.
        previous.refreshToken = null;
        previous.refreshTokenExpiresAt = null;
        res.json(tokenResponse(ctx.shops.issueToken(previous.shop, { expiring: true, source: 'refresh' }), now));
        return;
      }

      if (grantType === TOKEN_EXCHANGE_GRANT && str('subject_token_type') === OFFLINE_TOKEN_TYPE) {
        const previous = ctx.shops.activeToken(str('subject_token'));
        if (!previous || previous.online || previous.expiresAt !== null) {
          invalid('The subject token is not a valid non-expiring offline access token');
          return;
        }
        previous.revoked = true;
        res.json(tokenResponse(ctx.shops.issueToken(previous.shop, { expiring: true, source: 'migration' }), now));
        return;
      }

      res.status(400).json({
        error: 'unsupported_grant_type',
        error_description: `The simulator does not support grant_type ${grantType} for this app (token exchange of session tokens is for embedded apps).`,
      });
    },
  );

  return router;
}

function redirectAllowed(app: AppConfig, redirectUri: string): boolean {
  if (!URL.canParse(redirectUri)) return false;
  if (app.redirectUrls?.includes(redirectUri)) return true;
  const target = new URL(redirectUri);
  const base = new URL(app.url);
  const basePath = base.pathname.replace(/\/$/, '');
  return target.origin === base.origin && (target.pathname === basePath || target.pathname.startsWith(`${basePath}/`));
}

function tokenResponse(token: AccessTokenRecord, now: number): Record<string, unknown> {
  const seconds = (at: number | null) => (at === null ? undefined : Math.max(0, Math.round((at - now) / 1000)));
  if (token.online) {
    return {
      access_token: token.token,
      scope: token.scope,
      expires_in: seconds(token.expiresAt),
      associated_user_scope: token.scope,
      associated_user: {
        id: 902541635,
        first_name: 'Merchant',
        last_name: 'Owner',
        email: `owner@${shopHandle(token.shop)}.example`,
        account_owner: true,
        locale: 'en',
        collaborator: false,
        email_verified: true,
      },
    };
  }
  return {
    access_token: token.token,
    scope: token.scope,
    ...(token.expiresAt === null
      ? {}
      : {
          expires_in: seconds(token.expiresAt),
          refresh_token: token.refreshToken,
          refresh_token_expires_in: seconds(token.refreshTokenExpiresAt),
        }),
  };
}
