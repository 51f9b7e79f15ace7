import { timingSafeEqual } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import type { ShopDomain } from '../../lib/ids';
import { normalizeShopDomain } from '../../lib/shop-domain';
import { OAUTH_STATE_COOKIE, type OAuthCallbackFailure } from '../../shopify/oauth';
import { currentMerchant, MERCHANT_COOKIE, merchantPageHeaders, readCookie, requireMerchant, requireSameOriginForm, startMerchantSession, type MerchantRoutesDeps } from '../merchant-auth';
import { botPage, confirmSwitchPage, forbiddenPage, installFailedPage, welcomePage } from '../views/merchant-pages';
import { logFields } from '../request-log';

/**
 * The application URL and OAuth install:
 * - GET /            Shopify opens it with a signed query (shop, hmac, timestamp, host): an installed
 *                    shop's merchant is signed in and sent to the settings page, any other begins OAuth.
 * - GET /auth        begins OAuth for ?shop= (the "sign in with Shopify" form).
 * - GET /auth/callback  Shopify's signed redirect after consent: state, HMAC, code → offline token.
 */
export function merchantInstallRoutes(deps: { merchant: MerchantRoutesDeps }): Router {
  const { merchant } = deps;
  const router = Router();

  router.get('/', async (req, res) => {
    merchantPageHeaders(res, merchant);
    const query = queryOf(req);
    if (!query.has('hmac') && !query.has('shop')) {
      if (merchant.sessions.verify(readCookie(req, MERCHANT_COOKIE))) {
        res.redirect(303, '/settings');
        return;
      }
      res.status(200).type('html').send(welcomePage());
      return;
    }
    const shop = normalizeShopDomain(query.get('shop'));
    logFields(res).shop = shop ?? undefined;
    if (!shop || !(await merchant.oauth.verifySignedQuery(query))) {
      logFields(res).outcome = 'invalid_hmac';
      res.status(400).type('html').send(welcomePage('This link could not be verified as coming from Shopify (or it is more than a minute and a half old). Open the app again from your Shopify admin.'));
      return;
    }
    if ((await merchant.install.isInstalled(shop)) && (await merchant.install.hasRequiredScopes(shop))) {
      const current = merchant.sessions.verify(readCookie(req, MERCHANT_COOKIE));
      if (current && current.shop !== shop) {
        // Signed in to another shop: ask, never switch silently (a link can be sent by anyone).
        logFields(res).outcome = 'switch_confirmation';
        res.status(200).type('html').send(
          confirmSwitchPage({ from: current.shop, to: shop, csrfToken: merchant.sessions.csrfToken(current), ticket: merchant.sessions.switchTicket(current, shop) }),
        );
        return;
      }
      startMerchantSession(res, merchant, shop);
      logFields(res).outcome = 'signed_in';
      res.redirect(303, '/settings');
      return;
    }
    await beginOAuth(req, res, merchant, shop);
  });

  /** The merchant confirmed switching to another shop (the form of the confirmation page). */
  router.post('/switch-shop', requireMerchant(merchant), express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 }), requireSameOriginForm(merchant), async (req, res) => {
    const current = currentMerchant(res);
    const body = req.body as Record<string, unknown>;
    const to = normalizeShopDomain(body.to_shop);
    if (!to || !merchant.sessions.checkSwitchTicket(current, to, body.ticket) || !(await merchant.install.isInstalled(to))) {
      logFields(res).outcome = 'switch_refused';
      res.status(403).type('html').send(forbiddenPage('This switch was not confirmed in time from this browser. Nothing changed; open the app again from the other store’s Shopify admin.'));
      return;
    }
    startMerchantSession(res, merchant, to);
    logFields(res).outcome = 'switched';
    res.redirect(303, '/settings');
  });

  router.get('/auth', async (req, res) => {
    merchantPageHeaders(res, merchant);
    const shop = normalizeShopDomain(req.query.shop);
    if (!shop) {
      res.status(400).type('html').send(welcomePage('Enter your store’s address, ending in .myshopify.com.'));
      return;
    }
    logFields(res).shop = shop;
    await beginOAuth(req, res, merchant, shop);
  });

  router.get('/auth/callback', async (req, res) => {
    merchantPageHeaders(res, merchant);
    const query = queryOf(req);
    const shop = normalizeShopDomain(query.get('shop'));
    logFields(res).shop = shop ?? undefined;
    // A refused request leaves the browser's state cookie alone (a forged link must not break the
    // merchant's install in progress), except once the state was used up.
    const refuse = (status: number, reason: string, message: string, stateUsed = false) => {
      logFields(res).outcome = reason;
      if (stateUsed) res.append('Set-Cookie', merchant.oauth.clearStateCookies());
      res.status(status).type('html').send(installFailedPage(message, shop ?? undefined));
    };
    if (!shop) return refuse(400, 'invalid_shop', 'Shopify’s answer did not name a valid store.');
    const state = query.get('state');
    if (!state) return refuse(403, 'missing_state', 'Shopify’s answer carried no state, so it cannot be matched to an install you started.');
    // The signature first, so a forged request cannot use up a real install's state.
    if (!(await merchant.oauth.verifySignedQuery(query))) return refuse(403, 'invalid_hmac', 'Shopify’s answer could not be verified (signature or time). Nothing was installed.');
    // Only the browser that began this install holds the state cookie; another browser (a forged
    // link) is turned away before the state is used up. The library checks the cookie's signature.
    if (!sameText(readCookie(req, OAUTH_STATE_COOKIE), state)) {
      return refuse(403, 'missing_state_cookie', callbackMessage('missing_state_cookie'));
    }
    if (!(await merchant.install.claimState(shop, state))) {
      return refuse(403, 'state_not_issued', 'This install link was already used, has expired, or was not started here. Nothing was installed.');
    }
    const result = await merchant.oauth.callback(req);
    if (!result.ok) return refuse(result.reason === 'shopify_unreachable' ? 502 : 403, result.reason, callbackMessage(result.reason), true);
    await merchant.install.complete(result.session);
    res.append('Set-Cookie', result.clearCookies);
    startMerchantSession(res, merchant, shop);
    logFields(res).outcome = 'installed';
    res.redirect(303, '/settings?notice=installed');
  });

  return router;
}

async function beginOAuth(req: Request, res: Response, merchant: MerchantRoutesDeps, shop: ShopDomain): Promise<void> {
  const begun = await merchant.oauth.begin(req, shop);
  if (!begun.ok) {
    logFields(res).outcome = begun.reason;
    if (begun.reason === 'bot') res.status(410).type('html').send(botPage());
    else res.status(400).type('html').send(welcomePage('Enter your store’s address, ending in .myshopify.com.'));
    return;
  }
  await merchant.install.rememberState(shop, begun.state);
  res.append('Set-Cookie', begun.setCookies);
  logFields(res).outcome = 'oauth_started';
  res.redirect(302, begun.location);
}

function sameText(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function queryOf(req: Request): URLSearchParams {
  return new URL(req.originalUrl, 'http://app.invalid').searchParams;
}

function callbackMessage(reason: OAuthCallbackFailure): string {
  switch (reason) {
    case 'bot':
      return 'Installs must be completed in a web browser.';
    case 'missing_state_cookie':
      return 'This browser did not start this install (or took more than a minute at Shopify). Nothing was installed; start again.';
    case 'invalid_callback':
      return 'Shopify’s answer did not match the install this browser started. Nothing was installed.';
    case 'token_exchange_refused':
      return 'Shopify refused to give the app access (the authorization code was used or expired). Start again.';
    case 'shopify_unreachable':
      return 'Shopify could not be reached to finish the install. Try again in a minute.';
  }
}
