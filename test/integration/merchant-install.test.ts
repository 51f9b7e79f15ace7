import { createHmac } from 'node:crypto';
import { AuthScopes } from '@shopify/shopify-api';
import { ADMIN_API_SCOPES } from '../../src/shopify/access-scopes';
import { eventually, useHarness } from '../support/harness';
import { approveInstall, BROWSER_UA, installThroughOAuth, MerchantBrowser, uniqueShop } from '../support/merchant';

/**
 * Merchant install over real HTTP: the Shopify simulator's signed application URL, its authorize
 * page and token endpoint, and the app's OAuth routes (@shopify/shopify-api), then the settings page.
 * Every refused request must leave nothing behind.
 */
describe('merchant install', () => {
  const { h } = useHarness({ shop: false });

  const secret = 'test-api-secret';
  /** Re-signs a query the way Shopify does (what an attacker cannot do without the app's secret). */
  const resign = (params: URLSearchParams): URLSearchParams => {
    const pairs = [...params].filter(([k]) => k !== 'hmac').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const message = new URLSearchParams(pairs).toString().replace(/\+/g, '%20');
    const signed = new URLSearchParams(pairs);
    signed.set('hmac', createHmac('sha256', secret).update(message).digest('hex'));
    return signed;
  };
  const oauthTokens = (shop: string) => h.shopify.accessTokens(shop).filter((t) => t.source === 'oauth');
  const sessionRows = (shop: string) => h.prisma.session.findMany({ where: { shop } });
  const stateRows = (shop: string) => h.prisma.session.findMany({ where: { shop, id: { startsWith: 'oauth_state_' } } });

  it('installs through OAuth: offline token stored encrypted, shop active, merchant signed in on the settings page', async () => {
    const shop = uniqueShop('install');
    const steps = await approveInstall(h, shop);
    // The app sent the browser to Shopify's authorize page (the simulator), naming the shop.
    const authorize = new URL(steps.begin.location!);
    expect(authorize.origin).toBe(h.shopify.url);
    expect(authorize.pathname).toBe('/admin/oauth/authorize');
    expect(authorize.searchParams.get('shop')).toBe(shop);
    expect(authorize.searchParams.get('client_id')).toBe('test-api-key');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${h.appUrl}/auth/callback`);
    expect(authorize.searchParams.get('grant_options[]')).toBe('');
    // The app's Admin API scopes; the library leaves out a read scope whose write scope is asked for.
    expect(new AuthScopes(authorize.searchParams.get('scope')!).has([...ADMIN_API_SCOPES])).toBe(true);
    const stateCookie = steps.begin.setCookies.find((c) => c.startsWith('shopify_app_state='))!;
    expect(stateCookie).toMatch(/HttpOnly/);
    expect(stateCookie).toMatch(/path=\/auth\/callback/i);
    expect(stateCookie).not.toMatch(/secure/i); // http in tests; Secure on https
    expect(await stateRows(shop)).toHaveLength(1);

    const callback = await steps.browser.get(steps.callbackUrl);
    expect(callback.status).toBe(303);
    expect(callback.location).toBe('/settings?notice=installed');
    const sessionCookie = callback.setCookies.find((c) => c.startsWith('flex_merchant_session='))!;
    expect(sessionCookie).toMatch(/HttpOnly/);
    expect(sessionCookie).toMatch(/SameSite=Lax/);
    expect(sessionCookie).toMatch(/Path=\//);
    expect(sessionCookie).toMatch(/Max-Age=28800/);
    expect(sessionCookie).not.toMatch(/Secure/);

    // Stored: the shop, and its offline token encrypted (the row never holds the token itself).
    const token = oauthTokens(shop);
    expect(token).toHaveLength(1);
    expect(token[0]!.token).toMatch(/^shpat_/);
    const rows = await sessionRows(shop);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: `offline_${shop}`, isOnline: false });
    expect(rows[0]!.accessToken).not.toContain(token[0]!.token);
    expect(rows[0]!.accessToken).toMatch(new RegExp(`^v2\\.${h.config.encryptionKeys.at(-1)!.id}\\.`));
    expect((await h.components.tokens.forShop(shop as never))?.reveal()).toBe(token[0]!.token);
    expect(await h.prisma.shop.findUnique({ where: { domain: shop } })).toMatchObject({ status: 'ACTIVE', paymentsAppReady: false });
    expect(await stateRows(shop)).toHaveLength(0);

    const settings = await steps.browser.get(`${h.appUrl}/settings?notice=installed`);
    expect(settings.status).toBe(200);
    expect(settings.body).toContain(shop);
    expect(settings.body).toContain('Connect your Flex account');
    expect(settings.body).toContain('The app is installed.');
    expect(settings.headers.get('x-frame-options')).toBe('DENY');
    expect(settings.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(settings.body).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1)[a-z]/i);

    // Nothing secret reached the logs.
    const logs = h.logs.join('');
    expect(logs).not.toContain(token[0]!.token);
    expect(logs).not.toContain(new URL(steps.callbackUrl).searchParams.get('code')!);
    expect(logs).not.toContain(new URL(steps.callbackUrl).searchParams.get('state')!);
  });

  it('opening the app again from Shopify signs the merchant in without another install', async () => {
    const shop = uniqueShop('reopen');
    await installThroughOAuth(h, shop);
    const tokensBefore = oauthTokens(shop).length;

    const browser = new MerchantBrowser(h.appUrl);
    const landing = await browser.get(h.shopify.installUrl(shop));
    expect(landing.status).toBe(303);
    expect(landing.location).toBe('/settings');
    expect(browser.cookies.has('flex_merchant_session')).toBe(true);
    expect((await browser.get(`${h.appUrl}/settings`)).status).toBe(200);
    expect(oauthTokens(shop)).toHaveLength(tokensBefore);
  });

  it('asks for the scopes granted at install (the catalog, orders and the cart pixel need them)', async () => {
    const shop = uniqueShop('scopes');
    await installThroughOAuth(h, shop);
    // Shopify names a write scope and not the read it implies, so compare as the library does.
    expect(new AuthScopes(oauthTokens(shop)[0]!.scope).has([...ADMIN_API_SCOPES])).toBe(true);
  });

  it('a shop installed before the app asked for these scopes is sent through OAuth again to approve them', async () => {
    const shop = uniqueShop('rescope');
    await installThroughOAuth(h, shop);
    // What an install of the earlier app version left: a token with the payments scopes only.
    const token = (await h.components.tokens.forShop(shop as never))!.reveal();
    await h.components.tokens.store(shop, token, 'write_payment_gateways,write_payment_sessions');
    const browser = new MerchantBrowser(h.appUrl);
    const landing = await browser.get(h.shopify.installUrl(shop));
    expect([302, 303]).toContain(landing.status);
    expect(new URL(landing.location!).pathname).toBe('/admin/oauth/authorize');
    expect(new AuthScopes(new URL(landing.location!).searchParams.get('scope')!).has([...ADMIN_API_SCOPES])).toBe(true);
  });

  it('reinstalls after an uninstall: the old session is refused, the new install works', async () => {
    const shop = uniqueShop('reinstall');
    const first = await installThroughOAuth(h, shop);
    const uninstalled = await h.shopify.uninstallApp(shop);
    expect(uninstalled?.status).toBe(200);
    await eventually(async () => (await h.prisma.shop.findUnique({ where: { domain: shop } }))?.status === 'UNINSTALLED', 10_000, 'uninstall carried out');
    expect(await sessionRows(shop)).toHaveLength(0);
    expect((await first.get(`${h.appUrl}/settings`)).status).toBe(401);

    const second = await installThroughOAuth(h, shop);
    expect(await h.prisma.shop.findUnique({ where: { domain: shop } })).toMatchObject({ status: 'ACTIVE', uninstalledAt: null });
    const active = h.shopify.accessTokens(shop).filter((t) => !t.revoked && t.source === 'oauth');
    expect(active).toHaveLength(1);
    expect((await h.components.tokens.forShop(shop as never))?.reveal()).toBe(active[0]!.token);
    expect((await second.get(`${h.appUrl}/settings`)).status).toBe(200);
    expect(await h.prisma.shop.count({ where: { domain: shop } })).toBe(1);
  });

  it('a shop registered with shops:add is signed in from Shopify and shows its Flex connection', async () => {
    const registered = await h.registerShop(uniqueShop('operator'));
    const browser = new MerchantBrowser(h.appUrl);
    const landing = await browser.get(h.shopify.installUrl(registered.domain));
    expect(landing.status).toBe(303);
    // shops:add told Shopify the provider is ready, as connecting on this page does. Through the
    // outbox: registering waits for Shopify at most 5 s, and not at all while the worker loop's own
    // claim of the job is in flight. Wait for the job, then load the page once.
    const shopId = (await h.prisma.shop.findUniqueOrThrow({ where: { domain: registered.domain } })).id;
    await eventually(
      async () => (await h.prisma.job.findFirst({ where: { shopId, kind: 'shopify.payments-app-configure', status: 'SUCCEEDED' } })) !== null,
      15_000,
      'the configure job done',
    );
    const settings = await browser.get(`${h.appUrl}/settings`);
    expect(settings.status).toBe(200);
    expect(settings.body).toContain('<span class="badge success">Ready</span>');
    expect(settings.body).toContain('live and test mode');
    expect(settings.body).not.toContain('Tell Shopify Flex is ready');
    expect(h.shopify.paymentsAppConfiguration(registered.domain)).toMatchObject({ ready: true });
  });

  it('a signed link for another shop does not replace the session silently: the merchant confirms the switch (login CSRF)', async () => {
    const mine = await h.registerShop(uniqueShop('mine'));
    const theirs = await h.registerShop(uniqueShop('theirs'));
    const browser = new MerchantBrowser(h.appUrl);
    expect((await browser.get(h.shopify.installUrl(mine.domain))).status).toBe(303);
    const cookieBefore = browser.cookieHeader();

    // Someone sends the merchant a genuine, signed link of their own shop.
    const asked = await browser.get(h.shopify.installUrl(theirs.domain));
    expect(asked.status).toBe(200);
    expect(asked.body).toContain(`You are signed in to ${mine.domain}`);
    expect(browser.cookieHeader()).toBe(cookieBefore);
    expect((await browser.get(`${h.appUrl}/settings`)).body).toContain(mine.domain);

    const form = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(asked.body)![1]!.replace(/&amp;/g, '&');
    const fields = { _csrf: form('_csrf'), to_shop: form('to_shop'), ticket: form('ticket') };
    // A cross-site post, or one without this session's token or ticket, switches nothing.
    expect((await browser.post('/switch-shop', fields, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await browser.post('/switch-shop', { ...fields, ticket: `${Math.floor(Date.now() / 1000) + 60}.forged` })).status).toBe(403);
    expect((await browser.post('/switch-shop', { ...fields, to_shop: uniqueShop('third') })).status).toBe(403);
    expect(browser.cookieHeader()).toBe(cookieBefore);

    // The merchant's own click switches.
    const switched = await browser.post('/switch-shop', fields);
    expect(switched.status).toBe(303);
    const settings = (await browser.get(`${h.appUrl}/settings`)).body;
    expect(settings).toContain(theirs.domain);
  });

  describe('refused, with nothing changed', () => {
    it('an application URL with a tampered HMAC, another shop, or an old timestamp', async () => {
      const shop = uniqueShop('tamper');
      h.shopify.addShop(shop);
      const browser = new MerchantBrowser(h.appUrl);
      const url = new URL(h.shopify.installUrl(shop));

      const badHmac = new URL(url);
      badHmac.searchParams.set('hmac', url.searchParams.get('hmac')!.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')));
      const otherShop = new URL(url);
      otherShop.searchParams.set('shop', uniqueShop('victim'));
      const noHmac = new URL(url);
      noHmac.searchParams.delete('hmac');
      h.shopify.advanceClock(-300);
      const stale = new URL(h.shopify.installUrl(shop));
      h.shopify.advanceClock(300);

      for (const attempt of [badHmac, otherShop, noHmac, stale]) {
        const answer = await browser.get(attempt.toString());
        expect(answer.status).toBe(400);
        expect(answer.location).toBeNull();
        expect(answer.setCookies).toHaveLength(0);
        expect(answer.body).toContain('could not be verified');
      }
      expect(await stateRows(shop)).toHaveLength(0);
      expect(await h.prisma.shop.findUnique({ where: { domain: shop } })).toBeNull();
    });

    it('a callback with a tampered HMAC; the real callback still completes afterwards', async () => {
      const shop = uniqueShop('cbtamper');
      const steps = await approveInstall(h, shop);
      const url = new URL(steps.callbackUrl);
      const tampered = [
        (u: URL) => u.searchParams.set('hmac', '0'.repeat(64)),
        (u: URL) => u.searchParams.set('code', 'attacker-code'),
        (u: URL) => u.searchParams.set('shop', uniqueShop('other')),
        (u: URL) => u.searchParams.set('timestamp', String(Number(u.searchParams.get('timestamp')) + 1)),
      ];
      for (const change of tampered) {
        const forged = new URL(url);
        change(forged);
        const answer = await steps.browser.get(forged.toString());
        expect(answer.status).toBe(403);
        expect(answer.setCookies.some((c) => c.startsWith('flex_merchant_session='))).toBe(false);
      }
      expect(oauthTokens(shop)).toHaveLength(0);
      expect(await sessionRows(shop)).toHaveLength(1); // only the pending state, not used up
      expect(await h.prisma.shop.findUnique({ where: { domain: shop } })).toBeNull();

      const real = await steps.browser.get(steps.callbackUrl);
      expect(real.status).toBe(303);
      expect(await h.prisma.shop.findUnique({ where: { domain: shop } })).toMatchObject({ status: 'ACTIVE' });
    });

    it('a callback without state, with a state this browser did not start, or from another browser', async () => {
      const shop = uniqueShop('nostate');
      const steps = await approveInstall(h, shop);
      const url = new URL(steps.callbackUrl);

      const withoutState = new URL(url);
      withoutState.search = resign(new URLSearchParams([...url.searchParams].filter(([k]) => k !== 'state'))).toString();
      const otherState = new URL(url);
      otherState.search = resign(new URLSearchParams([...url.searchParams].map(([k, v]) => [k, k === 'state' ? 'a'.repeat(30) : v]))).toString();

      for (const attempt of [withoutState, otherState]) {
        const answer = await steps.browser.get(attempt.toString());
        expect(answer.status).toBe(403);
      }
      // The genuine callback, opened in a browser that did not begin the install (no state cookie).
      const stranger = new MerchantBrowser(h.appUrl);
      const fromStranger = await stranger.get(steps.callbackUrl);
      expect(fromStranger.status).toBe(403);
      expect(fromStranger.body).toContain('did not start this install');
      // A state cookie that was not signed by the app.
      const forgedCookie = await fetch(steps.callbackUrl, {
        redirect: 'manual',
        headers: { 'User-Agent': BROWSER_UA, Cookie: `shopify_app_state=${url.searchParams.get('state')}; shopify_app_state.sig=forged` },
      });
      expect(forgedCookie.status).toBe(403);

      expect(oauthTokens(shop)).toHaveLength(0);
      expect(await h.prisma.session.count({ where: { shop, id: { startsWith: 'offline_' } } })).toBe(0);
      expect(await h.prisma.shop.findUnique({ where: { domain: shop } })).toBeNull();
    });

    it('a callback replayed with a state that was already used', async () => {
      const shop = uniqueShop('replay');
      const steps = await approveInstall(h, shop);
      const first = await steps.browser.get(steps.callbackUrl);
      expect(first.status).toBe(303);
      const tokenRow = await h.prisma.session.findUniqueOrThrow({ where: { id: `offline_${shop}` } });

      // The same signed URL with the same state cookies, as an attacker who captured both would send it.
      const replay = await fetch(steps.callbackUrl, { redirect: 'manual', headers: { 'User-Agent': BROWSER_UA, Cookie: steps.stateCookies } });
      expect(replay.status).toBe(403);
      expect(await replay.text()).toContain('already used');
      expect(replay.headers.getSetCookie().some((c) => c.startsWith('flex_merchant_session='))).toBe(false);
      expect(oauthTokens(shop)).toHaveLength(1); // no second token exchange
      expect(await h.prisma.session.findUniqueOrThrow({ where: { id: `offline_${shop}` } })).toEqual(tokenRow);
    });
  });
});
