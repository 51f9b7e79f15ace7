// OAuth install flow, checked against @shopify/shopify-api v15.
import '@shopify/shopify-api/adapters/node';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { setAbstractFetchFunc } from '@shopify/shopify-api/runtime';
import type { ShopifySimulator } from '../../../sandbox/shopify';
import { API_KEY, API_SECRET, type SimulatorEnv, type TinyApp, libraryFor, useShopifySimulator } from './helpers';

const env = useShopifySimulator();
let shopify: ShopifySimulator;
let app: TinyApp;
beforeAll(() => {
  ({ shopify, app } = env);
});
const gql: SimulatorEnv['gql'] = (...args) => env.gql(...args);

// ---- OAuth ----

function verifyQueryHmac(query: URLSearchParams, secret: string): boolean {
  // Independent of the simulator: sorted key=value pairs (encoded), joined by &, without hmac.
  const message = [...query.entries()]
    .filter(([k]) => k !== 'hmac')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  const expected = createHmac('sha256', secret).update(message).digest('hex');
  return timingSafeEqual(Buffer.from(expected), Buffer.from(query.get('hmac') ?? ''.padEnd(64)));
}


describe('OAuth', () => {
  it('installUrl is signed so that @shopify/shopify-api accepts it', async () => {
    shopify.addShop('fresh.myshopify.com');
    const url = new URL(shopify.installUrl('fresh.myshopify.com'));
    expect(url.origin + url.pathname).toBe(`${app.url}/`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      embedded: '0',
      shop: 'fresh.myshopify.com',
      host: Buffer.from('admin.shopify.com/store/fresh').toString('base64url'),
      timestamp: expect.stringMatching(/^\d+$/),
    });
    expect(verifyQueryHmac(url.searchParams, API_SECRET)).toBe(true);
    const lib = libraryFor(app.url);
    await expect(lib.utils.validateHmac(Object.fromEntries(url.searchParams))).resolves.toBe(true);
    url.searchParams.set('shop', 'evil.myshopify.com');
    await expect(lib.utils.validateHmac(Object.fromEntries(url.searchParams))).resolves.toBe(false);
  });

  it('authorize page → Install → signed callback → single-use code → working token', async () => {
    const authorize = new URL(`${shopify.url}/admin/oauth/authorize`);
    authorize.search = new URLSearchParams({
      client_id: API_KEY,
      scope: 'read_orders',
      redirect_uri: `${app.url}/auth/callback`,
      state: '12345',
      'grant_options[]': '',
      shop: 'merchant.myshopify.com',
    }).toString();
    const page = await fetch(authorize);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Install');
    expect(html).toContain('merchant.myshopify.com');

    const install = await fetch(`${shopify.url}/admin/oauth/authorize`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: authorize.searchParams.toString(),
      redirect: 'manual',
    });
    expect(install.status).toBe(302);
    const callback = new URL(install.headers.get('location')!);
    expect(callback.origin + callback.pathname).toBe(`${app.url}/auth/callback`);
    expect([...callback.searchParams.keys()].sort()).toEqual(['code', 'hmac', 'host', 'shop', 'state', 'timestamp']);
    expect(callback.searchParams.get('state')).toBe('12345');
    expect(verifyQueryHmac(callback.searchParams, API_SECRET)).toBe(true);
    await expect(libraryFor(app.url).utils.validateHmac(Object.fromEntries(callback.searchParams))).resolves.toBe(true);

    const exchange = (body: Record<string, string>) =>
      fetch(`${shopify.url}/admin/oauth/access_token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
      });
    const code = callback.searchParams.get('code')!;
    const wrongSecret = await exchange({ client_id: API_KEY, client_secret: 'nope', code });
    expect(wrongSecret.status).toBe(401);
    const ok = await exchange({ client_id: API_KEY, client_secret: API_SECRET, code, expiring: '0' });
    expect(ok.status).toBe(200);
    const token = (await ok.json()) as { access_token: string; scope: string; expires_in?: number };
    expect(token.access_token).toMatch(/^shpat_/);
    expect(token.scope.split(',')).toEqual(expect.arrayContaining(['read_orders', 'write_payment_sessions', 'write_payment_gateways']));
    expect(token.expires_in).toBeUndefined();
    const reused = await exchange({ client_id: API_KEY, client_secret: API_SECRET, code });
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ error: 'invalid_request' });

    expect((await gql(token.access_token, '{ publicApiVersions { handle } }')).status).toBe(200);
    expect(shopify.shop('merchant.myshopify.com')).toMatchObject({ installed: true });
  });

  it('refuses a wrong client_id or a foreign redirect_uri, and expired codes', async () => {
    const params = {
      client_id: API_KEY,
      scope: '',
      redirect_uri: `${app.url}/auth/callback`,
      state: 's',
      shop: 'strict.myshopify.com',
    };
    const get = (p: Record<string, string>) => fetch(`${shopify.url}/admin/oauth/authorize?${new URLSearchParams(p)}`);
    expect((await get({ ...params, client_id: 'other' })).status).toBe(400);
    expect((await get({ ...params, redirect_uri: 'https://attacker.example/cb' })).status).toBe(400);

    const install = await fetch(`${shopify.url}/admin/oauth/authorize`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
      redirect: 'manual',
    });
    const code = new URL(install.headers.get('location')!).searchParams.get('code')!;
    shopify.advanceClock(601);
    try {
      const res = await fetch(`${shopify.url}/admin/oauth/access_token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: API_KEY, client_secret: API_SECRET, code }).toString(),
      });
      expect(res.status).toBe(400);
    } finally {
      shopify.advanceClock(-601);
    }
  });

  it('completes a real @shopify/shopify-api begin/callback flow, with expiring tokens and refresh', async () => {
    const lib = libraryFor(app.url);
    // The app sends https://{shop}/… to the simulator, path unchanged.
    setAbstractFetchFunc(async (input, init) => {
      const url = new URL(String(input));
      return fetch(`${shopify.url}${url.pathname}${url.search}`, init);
    });
    let sessionSeen: any;
    app.express.get('/auth', async (req, res) => {
      await lib.auth.begin({ shop: String(req.query.shop), callbackPath: '/auth/callback', isOnline: false, rawRequest: req, rawResponse: res });
    });
    app.express.get('/auth/callback', async (req, res) => {
      const { session } = await lib.auth.callback({ rawRequest: req, rawResponse: res, expiring: true });
      sessionSeen = session;
      res.status(200).send('installed');
    });

    // The library refuses bots, and Node's fetch says "node".
    const browser = { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36' };
    const begin = await fetch(`${app.url}/auth?shop=library.myshopify.com`, { redirect: 'manual', headers: browser });
    expect(begin.status).toBe(302);
    const cookies = begin.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const location = new URL(begin.headers.get('location')!);
    expect(location.host).toBe('library.myshopify.com');
    const authorize = `${shopify.url}${location.pathname}${location.search}&shop=library.myshopify.com`;

    const page = await (await fetch(authorize)).text();
    const fields = Object.fromEntries([...page.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]!.replace(/&amp;/g, '&')]));
    const install = await fetch(`${shopify.url}/admin/oauth/authorize`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
    const callback = await fetch(install.headers.get('location')!, { headers: { ...browser, Cookie: cookies } });
    expect(await callback.text()).toBe('installed');
    expect(sessionSeen).toMatchObject({ shop: 'library.myshopify.com', isOnline: false });
    expect(sessionSeen.refreshToken).toMatch(/^shprt_/);
    expect(sessionSeen.expires.getTime()).toBeGreaterThan(Date.now() + 3500_000);
    expect((await gql(sessionSeen.accessToken, '{ publicApiVersions { handle } }')).status).toBe(200);

    const refreshed = await lib.auth.refreshToken({ shop: 'library.myshopify.com', refreshToken: sessionSeen.refreshToken });
    expect(refreshed.session.accessToken).not.toBe(sessionSeen.accessToken);
    expect((await gql(refreshed.session.accessToken, '{ publicApiVersions { handle } }')).status).toBe(200);
    await expect(lib.auth.refreshToken({ shop: 'library.myshopify.com', refreshToken: sessionSeen.refreshToken })).rejects.toThrow();

    // Already installed with these scopes: Shopify skips the consent page.
    const again = await fetch(authorize, { redirect: 'manual' });
    expect(again.status).toBe(302);
    expect(again.headers.get('location')).toContain('/auth/callback?code=');
  });
});

// ---- webhooks ----
