import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { normalizeShopDomain } from '../lib/shop-domain';
import type { ShopDomain } from '../lib/ids';
import type { MerchantCatalog } from '../merchant/catalog-view';
import type { DataRequestReports } from '../merchant/data-request-report';
import type { MerchantFlexAccount } from '../merchant/flex-account';
import type { MerchantInstall } from '../merchant/install';
import type { MerchantSession, MerchantSessions } from '../merchant/merchant-session';
import type { PaymentsAppConfiguration } from '../merchant/payments-app-configuration';
import type { RetryShopJob } from '../merchant/retry-job';
import type { LoadSettingsView } from '../merchant/settings-view';
import type { ShopifyOAuth } from '../shopify/oauth';
import { forbiddenPage, signedOutPage } from './views/merchant-pages';
import { logFields } from './request-log';

/** What the merchant's routes (install, settings) work with. */
export interface MerchantRoutesDeps {
  oauth: ShopifyOAuth;
  sessions: MerchantSessions;
  install: MerchantInstall;
  configuration: PaymentsAppConfiguration;
  flexAccount: MerchantFlexAccount;
  settingsView: LoadSettingsView;
  retryJob: RetryShopJob;
  dataRequests: DataRequestReports;
  catalog: MerchantCatalog;
  /** The app's origin: form posts must come from it (CSRF). */
  appOrigin: string;
  secureCookies: boolean;
  /** Where the merchant's browser meets Shopify when SHOPIFY_API_ORIGIN stands in for https://{shop}. */
  browserShopifyOrigin: string | undefined;
  returnToShopifyUrl(shop: ShopDomain): string;
}

export const MERCHANT_COOKIE = 'flex_merchant_session';

/**
 * Headers for every merchant page: never cached, never framed (the app is not embedded), no scripts,
 * no referrer leaks. Forms post to the app; the "sign in with Shopify" form ends at Shopify (browsers
 * apply form-action to the redirects that follow a submission), hence https: and the API origin.
 */
export function merchantPageHeaders(res: Response, merchant: MerchantRoutesDeps): void {
  const formTargets = ["'self'", 'https:', ...(merchant.browserShopifyOrigin ? [merchant.browserShopifyOrigin] : [])].join(' ');
  res.set({
    'Cache-Control': 'no-store',
    'Content-Security-Policy': `default-src 'none'; style-src 'self'; img-src 'self' data:; form-action ${formTargets}; frame-ancestors 'none'; base-uri 'none'`,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    // Same-origin only: the signed query strings Shopify opens us with never leave in a Referer, and
    // browsers still send Origin on our own form posts.
    'Referrer-Policy': 'same-origin',
  });
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() === name) {
      const value = part.slice(index + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return undefined;
}

/** Starts the merchant's session for one shop (HttpOnly, SameSite=Lax, Secure on https). */
export function startMerchantSession(res: Response, merchant: MerchantRoutesDeps, shop: ShopDomain): MerchantSession {
  const { cookieValue, session } = merchant.sessions.issue(shop);
  res.cookie(MERCHANT_COOKIE, cookieValue, {
    httpOnly: true,
    sameSite: 'lax',
    secure: merchant.secureCookies,
    path: '/',
    maxAge: merchant.sessions.ttlSeconds * 1000,
    encode: (v) => v,
  });
  return session;
}

export function endMerchantSession(res: Response, merchant: MerchantRoutesDeps): void {
  res.clearCookie(MERCHANT_COOKIE, { httpOnly: true, sameSite: 'lax', secure: merchant.secureCookies, path: '/' });
}

export function currentMerchant(res: Response): MerchantSession {
  const session = res.locals.merchant as MerchantSession | undefined;
  if (!session) throw new Error('requireMerchant must run first');
  return session;
}

/**
 * Every settings route: a valid session cookie (signature, expiry) for a shop that still has the
 * app installed. Data is loaded for the cookie's shop only; a request that names another shop is
 * refused rather than quietly answered for the cookie's shop.
 */
export function requireMerchant(merchant: MerchantRoutesDeps): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    merchantPageHeaders(res, merchant);
    const session = merchant.sessions.verify(readCookie(req, MERCHANT_COOKIE));
    if (!session) {
      endMerchantSession(res, merchant);
      res.status(401).type('html').send(signedOutPage());
      return;
    }
    logFields(res).shop = session.shop;
    if (req.query.shop !== undefined && normalizeShopDomain(req.query.shop) !== session.shop) {
      logFields(res).outcome = 'other_shop_refused';
      res.status(403).type('html').send(forbiddenPage(`You are signed in to ${session.shop}. To manage another store, open the app from that store's Shopify admin.`));
      return;
    }
    if (!(await merchant.install.isInstalled(session.shop))) {
      endMerchantSession(res, merchant);
      res.status(401).type('html').send(signedOutPage(`The app is not installed on ${session.shop} any more. Install it again from the Shopify admin.`));
      return;
    }
    res.locals.merchant = session;
    next();
  };
}

/**
 * Cross-site request forgery defences for every form post: the request must come from the app's own
 * origin (Origin, or Referer when a browser sends no Origin; neither is refused) and carry the
 * synchronizer token rendered for this session. A form that names a shop must name the session's.
 */
export function requireSameOriginForm(merchant: MerchantRoutesDeps): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const session = currentMerchant(res);
    const origin = req.get('origin');
    const referer = req.get('referer');
    const from = origin ?? (referer ? originOf(referer) : undefined);
    if (from !== merchant.appOrigin) {
      logFields(res).outcome = 'cross_site_refused';
      res.status(403).type('html').send(forbiddenPage('This form was not sent from the app’s own page, so nothing was changed. Go back to the settings page and try again.'));
      return;
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!merchant.sessions.checkCsrfToken(session, body._csrf)) {
      logFields(res).outcome = 'csrf_refused';
      res.status(403).type('html').send(forbiddenPage('This form has expired or was not made for your session, so nothing was changed. Reload the settings page and try again.'));
      return;
    }
    if (body.shop !== undefined && normalizeShopDomain(body.shop) !== session.shop) {
      logFields(res).outcome = 'other_shop_refused';
      res.status(403).type('html').send(forbiddenPage(`You are signed in to ${session.shop}; this form was for another store. Nothing was changed.`));
      return;
    }
    next();
  };
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
