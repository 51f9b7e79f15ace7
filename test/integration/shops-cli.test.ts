import { visit } from '../support/buyer';
import { runCli } from '../../src/cli/cli';
import { useHarness } from '../support/harness';

/**
 * `npm run cli -- shops:add`: an operator puts a shop in service. Every Flex key is checked with
 * Flex first; a bad key is refused with a clear message and nothing is stored.
 */
describe('the shops:add command', () => {
  const { h } = useHarness({ shop: false });

  /** Runs the CLI as `npm run cli` would, with the app's environment, on the app's database. */
  async function cli(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const env = { ...process.env, ...configEnv() };
    // The embedded database belongs to one process at a time: the app steps aside while the CLI runs.
    let code = 0;
    await h.withAppStopped(async () => {
      code = await runCli(args, { env, stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
    });
    return { code, stdout: out.join(''), stderr: err.join('') };
  }

  function configEnv(): Record<string, string> {
    const c = h.config;
    return {
      DATABASE_URL: c.databaseUrl ?? '',
      DATA_DIR: c.dataDir,
      ENCRYPTION_KEY: c.encryptionKey.toString('hex'),
      APP_URL: c.appUrl,
      SHOPIFY_API_KEY: c.shopify.apiKey,
      SHOPIFY_API_SECRET: c.shopify.apiSecret,
      SHOPIFY_API_ORIGIN: c.shopify.apiOrigin ?? '',
      FLEX_API_URL: c.flex.apiUrl,
      LOG_LEVEL: 'silent',
    };
  }

  it('registers a shop: keys checked with Flex, webhook endpoints registered, secrets stored encrypted', async () => {
    const account = h.flex.createAccount({ name: 'CLI shop' });
    const installed = h.shopify.createShop('cli-shop.myshopify.com');
    const result = await cli('shops:add', '--shop', 'cli-shop.myshopify.com', '--access-token', installed.accessToken, '--flex-api-key', account.liveKey, '--flex-test-api-key', account.testKey);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Registered cli-shop.myshopify.com');
    expect(result.stdout).not.toContain(account.liveKey);
    // Shopify was told the provider is ready, as the settings page does.
    expect(result.stdout).toContain('Shopify acknowledged paymentsAppConfigure(ready: true)');
    expect(h.shopify.paymentsAppConfiguration('cli-shop.myshopify.com')).toMatchObject({ ready: true });

    const endpoints = h.flex.webhookEndpoints({ accountId: account.accountId }) as Array<Record<string, any>>;
    expect(endpoints.map((e) => e.url).sort()).toEqual([
      `${h.appUrl}/webhooks/flex?shop=cli-shop.myshopify.com&mode=live`,
      `${h.appUrl}/webhooks/flex?shop=cli-shop.myshopify.com&mode=test`,
    ]);

    // At rest, nothing is in the clear.
    const rows = await h.prisma.flexConnection.findMany({ where: { shop: { domain: 'cli-shop.myshopify.com' } } });
    expect(rows).toHaveLength(2);
    const dump = JSON.stringify(rows) + JSON.stringify(await h.prisma.session.findMany({ where: { shop: 'cli-shop.myshopify.com' } }));
    for (const secret of [account.liveKey, account.testKey, installed.accessToken, ...endpoints.map((e) => e.signing_secret as string)]) {
      expect(dump).not.toContain(secret);
    }
    // And the shop works: a payment goes through with the stored key.
    const sent = await h.shopify.sendPaymentSession('cli-shop.myshopify.com', { amount: '9.99' });
    expect(sent.status).toBe(201);
  });

  it('refuses a key Flex does not accept, with a clear message, and stores nothing', async () => {
    const account = h.flex.createAccount({ name: 'Revoked' });
    h.flex.revokeKey(account.liveKey);
    const result = await cli('shops:add', '--shop', 'bad-key.myshopify.com', '--access-token', 'shpat_x', '--flex-api-key', account.liveKey);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/nothing was stored/);
    expect(result.stderr).toMatch(/Flex refused the live API key/);
    expect(await h.prisma.shop.count({ where: { domain: 'bad-key.myshopify.com' } })).toBe(0);
    expect(await h.prisma.session.count({ where: { shop: 'bad-key.myshopify.com' } })).toBe(0);
    expect(h.flex.webhookEndpoints({ accountId: account.accountId })).toHaveLength(0);
  });

  it('refuses a good live key paired with a bad test key, keeping nothing of either', async () => {
    const account = h.flex.createAccount({ name: 'Half good' });
    const result = await cli('shops:add', '--shop', 'half.myshopify.com', '--access-token', 'shpat_x', '--flex-api-key', account.liveKey, '--flex-test-api-key', 'fsk_test_notarealkey123');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/test API key/);
    expect(await h.prisma.shop.count({ where: { domain: 'half.myshopify.com' } })).toBe(0);
    expect(h.flex.webhookEndpoints({ accountId: account.accountId })).toHaveLength(0);
  });

  it.each([
    [['shops:add', '--shop', 'x.myshopify.com', '--access-token', 't', '--flex-api-key', 'fsk_test_abcdefgh'], /live API key is a test key/],
    [['shops:add', '--shop', 'x.myshopify.com', '--access-token', 't', '--flex-api-key', 'sk_live_abc'], /does not look like a Flex secret key/],
    [['shops:add', '--shop', 'not-a-shop.com', '--access-token', 't', '--flex-api-key', 'fsk_abcdefghij'], /myshopify\.com/],
    [['shops:add', '--shop', 'x.myshopify.com', '--flex-api-key', 'fsk_abcdefghij'], /Missing --access-token/],
    [['shops:add', '--shop', 'x.myshopify.com', '--bogus'], /Unknown option/],
  ])('refuses malformed arguments %#', async (args, message) => {
    const before = h.flex.requests.length;
    const result = await cli(...args);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(await h.prisma.shop.count({ where: { domain: 'x.myshopify.com' } })).toBe(0);
    expect(h.flex.requests.length).toBe(before);
  });

  it('replaces the keys of a registered shop and retires the old webhook endpoint', async () => {
    const first = h.flex.createAccount({ name: 'Rotating' });
    const installed = h.shopify.createShop('rotate.myshopify.com');
    expect((await cli('shops:add', '--shop', 'rotate.myshopify.com', '--access-token', installed.accessToken, '--flex-api-key', first.liveKey)).code).toBe(0);
    const second = h.flex.createAccount({ name: 'Rotating, new account' });
    expect((await cli('shops:add', '--shop', 'rotate.myshopify.com', '--access-token', installed.accessToken, '--flex-api-key', second.liveKey)).code).toBe(0);
    expect(h.flex.webhookEndpoints({ accountId: first.accountId })).toHaveLength(0);
    expect(h.flex.webhookEndpoints({ accountId: second.accountId })).toHaveLength(1);
    const sent = await h.shopify.sendPaymentSession('rotate.myshopify.com', { amount: '5.00' });
    expect(sent.status).toBe(201);
    expect((await visit((sent.body as { redirect_url: string }).redirect_url)).status).toBe(303);
    expect(h.flex.checkoutSessions({ accountId: second.accountId })).toHaveLength(1);
  });

  it('lists jobs and requeues one that needs attention', async () => {
    const listed = await cli('jobs:list', '--status', 'NEEDS_ATTENTION');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/No jobs|NEEDS_ATTENTION/);
    const missing = await cli('jobs:retry', '00000000-0000-0000-0000-000000000000');
    expect(missing.code).toBe(1);
  });
});
