import '@shopify/shopify-api/adapters/node';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import {
  BotActivityDetected,
  CookieNotFound,
  HttpResponseError,
  InvalidHmacError,
  InvalidOAuthError,
  InvalidShopError,
  LogSeverity,
  shopifyApi,
  type ApiVersion,
  type Session,
  type Shopify,
} from '@shopify/shopify-api';
import { setAbstractFetchFunc } from '@shopify/shopify-api/runtime';
import type { Logger } from '../lib/logger';
import { rewriteForBrowser } from './admin-links';
import { ADMIN_API_SCOPES } from './admin-scopes';
import { rewriteShopifyUrl } from './shopify-url';

/** Where Shopify sends the merchant back after the consent page; listed in shopify.app.toml. */
export const OAUTH_CALLBACK_PATH = '/auth/callback';
export const OAUTH_BEGIN_PATH = '/auth';
/** The library's state cookie (and its signature cookie, `.sig`). */
export const OAUTH_STATE_COOKIE = 'shopify_app_state';
const STATE_COOKIE_NAMES = [OAUTH_STATE_COOKIE, `${OAUTH_STATE_COOKIE}.sig`];

export interface ShopifyOAuthOptions {
  apiKey: string;
  apiSecret: string;
  /** The app's public URL: the redirect_uri is built from its origin. */
  appUrl: string;
  apiVersion: string;
  /** SHOPIFY_API_ORIGIN: where https://{shop}/… really goes (the simulator), or undefined. */
  apiOrigin: string | undefined;
  timeoutMs: number;
  logger: Logger;
}

export type OAuthBeginResult =
  | { ok: true; location: string; state: string; setCookies: string[] }
  | { ok: false; reason: 'bot' | 'invalid_shop' };

export type OAuthCallbackFailure = 'bot' | 'missing_state_cookie' | 'invalid_callback' | 'token_exchange_refused' | 'shopify_unreachable';

export type OAuthCallbackResult =
  | { ok: true; session: Session; clearCookies: string[] }
  | { ok: false; reason: OAuthCallbackFailure; clearCookies: string[] };

/*
 * The library makes its HTTP calls (the token exchange) through one process-wide fetch function.
 * Each call runs inside `libraryFetchContext.run(...)`, so every app instance in the process (tests
 * run several) sends them to its own SHOPIFY_API_ORIGIN, with its own timeout.
 */
const libraryFetchContext = new AsyncLocalStorage<{ apiOrigin: string | undefined; timeoutMs: number }>();
let libraryFetchInstalled = false;

function installLibraryFetch(): void {
  if (libraryFetchInstalled) return;
  libraryFetchInstalled = true;
  setAbstractFetchFunc(async (input, init) => {
    const context = libraryFetchContext.getStore();
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    const signal = init?.signal ?? (context ? AbortSignal.timeout(context.timeoutMs) : undefined);
    return fetch(rewriteShopifyUrl(url, context?.apiOrigin), { ...init, signal });
  });
}

/**
 * OAuth install for a non-embedded app (authorization-code grant, offline token) with
 * `@shopify/shopify-api`: the library makes and verifies the `state` nonce (a signed cookie), checks
 * the HMAC of Shopify's signed query strings and exchanges the code. This adapter captures what the
 * library would write to the response so that the authorize redirect can be pointed at
 * SHOPIFY_API_ORIGIN and the cookies get the attributes our deployment needs.
 */
export class ShopifyOAuth {
  readonly api: Shopify;
  private readonly secureCookies: boolean;

  constructor(private readonly options: ShopifyOAuthOptions) {
    installLibraryFetch();
    const app = new URL(options.appUrl);
    this.secureCookies = app.protocol === 'https:';
    const logger = options.logger.child({ component: 'shopify-oauth' });
    this.api = shopifyApi({
      apiKey: options.apiKey,
      apiSecretKey: options.apiSecret,
      // Payments scopes come with the payments extension; the Admin API scopes are for orders.
      scopes: [...ADMIN_API_SCOPES],
      hostName: app.host,
      hostScheme: this.secureCookies ? 'https' : 'http',
      apiVersion: options.apiVersion as ApiVersion,
      isEmbeddedApp: false,
      logger: {
        level: LogSeverity.Error,
        httpRequests: false,
        // The library appends context (which can hold the state nonce) after " | "; keep only the message.
        log: async (_severity, message) => logger.warn({ library: '@shopify/shopify-api' }, message.replace(/ \| \{[\s\S]*$/, '')),
      },
    });
  }

  /**
   * True when a query string (application URL, OAuth callback) carries Shopify's valid HMAC and a
   * timestamp within the library's 90-second tolerance.
   */
  async verifySignedQuery(query: URLSearchParams): Promise<boolean> {
    try {
      return await this.api.utils.validateHmac(query);
    } catch (error) {
      if (error instanceof InvalidHmacError) return false;
      throw error;
    }
  }

  /** Starts OAuth for `shop`: the library sets the state cookie and names Shopify's authorize URL. */
  async begin(request: IncomingMessage, shop: string): Promise<OAuthBeginResult> {
    const captured = new CapturedResponse();
    try {
      await this.api.auth.begin({ shop, callbackPath: OAUTH_CALLBACK_PATH, isOnline: false, rawRequest: request, rawResponse: captured });
    } catch (error) {
      if (error instanceof InvalidShopError) return { ok: false, reason: 'invalid_shop' };
      throw error;
    }
    if (captured.statusCode === 410) return { ok: false, reason: 'bot' };
    const location = captured.header('location');
    if (captured.statusCode !== 302 || !location) throw new Error(`@shopify/shopify-api began OAuth with HTTP ${captured.statusCode} and no Location`);
    const state = new URL(location).searchParams.get('state');
    if (!state) throw new Error('@shopify/shopify-api began OAuth without a state nonce');
    return {
      ok: true,
      location: rewriteForBrowser(location, shop, this.options.apiOrigin),
      state,
      setCookies: captured.setCookies().map((c) => this.withAttributes(c)),
    };
  }

  /**
   * Completes OAuth: the library checks the state cookie against `state`, the HMAC, and exchanges
   * the code for a non-expiring offline token (our outbox uses the token without refreshing it).
   */
  async callback(request: IncomingMessage): Promise<OAuthCallbackResult> {
    const clearCookies = this.clearStateCookies();
    const captured = new CapturedResponse();
    try {
      const { session } = await libraryFetchContext.run({ apiOrigin: this.options.apiOrigin, timeoutMs: this.options.timeoutMs }, () =>
        this.api.auth.callback({ rawRequest: request, rawResponse: captured, expiring: false }),
      );
      return { ok: true, session, clearCookies };
    } catch (error) {
      const reason = callbackFailure(error);
      if (reason === 'shopify_unreachable') this.options.logger.warn({ err: (error as Error).message }, 'OAuth token exchange failed');
      return { ok: false, reason, clearCookies };
    }
  }

  /** Set-Cookie values that remove the state cookies (the library deletes them at the wrong path). */
  clearStateCookies(): string[] {
    return STATE_COOKIE_NAMES.map((name) =>
      [`${name}=`, `Path=${OAUTH_CALLBACK_PATH}`, 'Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'HttpOnly', 'SameSite=Lax', ...(this.secureCookies ? ['Secure'] : [])].join('; '),
    );
  }

  /** The library's cookies are always `secure` and never HttpOnly: HttpOnly always, Secure on https. */
  private withAttributes(setCookie: string): string {
    const parts = setCookie.split(';').map((p) => p.trim()).filter((p) => p !== '');
    const kept = parts.filter((p, i) => i === 0 || !/^(secure|httponly)(=|$)/i.test(p));
    return [...kept, 'HttpOnly', ...(this.secureCookies ? ['Secure'] : [])].join('; ');
  }
}

function callbackFailure(error: unknown): OAuthCallbackFailure {
  if (error instanceof BotActivityDetected) return 'bot';
  if (error instanceof CookieNotFound) return 'missing_state_cookie';
  if (error instanceof InvalidOAuthError || error instanceof InvalidHmacError || error instanceof InvalidShopError) return 'invalid_callback';
  if (error instanceof HttpResponseError) return error.response.code >= 500 || error.response.code === 429 ? 'shopify_unreachable' : 'token_exchange_refused';
  return 'shopify_unreachable';
}

/** Stands in for Node's ServerResponse while the library "writes" to it. */
class CapturedResponse {
  statusCode = 200;
  statusMessage = '';
  private readonly headers = new Map<string, string | string[]>();

  getHeaders(): Record<string, string | string[]> {
    return Object.fromEntries(this.headers);
  }

  setHeader(name: string, value: string | string[]): void {
    this.headers.set(name.toLowerCase(), value);
  }

  header(name: string): string | undefined {
    const value = this.headers.get(name.toLowerCase());
    return Array.isArray(value) ? value[0] : value;
  }

  setCookies(): string[] {
    const value = this.headers.get('set-cookie');
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  }

  write(): boolean {
    return true;
  }

  end(): void {}
}
