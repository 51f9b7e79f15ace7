import { visit } from '../support/buyer';
import { runCliBesideApp } from '../support/cli';
import { useHarness } from '../support/harness';

/**
 * `npm run cli -- shops:add`: an operator puts a shop in service. Every Flex key is checked with
 * Flex first; a bad key is refused with a clear message and nothing is stored. Secrets come from
 * the environment or standard input, never from command-line flags (visible in `ps` and the shell's
 * history).
 */
describe('the shops:add command', () => {
  const { h } = useHarness({ shop: false });

  /** shops:add for a shop, its secrets in the environment. */
  const addShop = (shop: string, secrets: { SHOP_ACCESS_TOKEN?: string; FLEX_API_KEY?: string; FLEX_TEST_API_KEY?: string }) =>
    runCliBesideApp(h, ['shops:add', '--shop', shop], { env: secrets as Record<string, string> });

  const shopCount = (domain: string) => h.prisma.shop.count({ where: { domain } });

  it('registers a shop with secrets from the environment: keys checked with Flex, webhook endpoints registered, secrets stored encrypted', async () => {
    const account = h.flex.createAccount({ name: 'CLI shop' });
    const installed = h.shopify.createShop('cli-shop.myshopify.com');
    const result = await addShop('cli-shop.myshopify.com', { SHOP_ACCESS_TOKEN: installed.accessToken, FLEX_API_KEY: account.liveKey, FLEX_TEST_API_KEY: account.testKey });
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

  it('reads the secrets from standard input with --secrets-from-stdin', async () => {
    const account = h.flex.createAccount({ name: 'Stdin shop' });
    const installed = h.shopify.createShop('stdin-shop.myshopify.com');
    const stdin = `# from the vault\nSHOP_ACCESS_TOKEN=${installed.accessToken}\n\nFLEX_API_KEY="${account.liveKey}"\r\nFLEX_TEST_API_KEY=${account.testKey}\n`;
    const result = await runCliBesideApp(h, ['shops:add', '--shop', 'stdin-shop.myshopify.com', '--secrets-from-stdin'], { stdin });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Flex live key fsk_…\w{4}/);
    expect(result.stdout).toMatch(/Flex test key fsk_test_…\w{4}/);
    expect((await h.components.tokens.forShop('stdin-shop.myshopify.com'))?.reveal()).toBe(installed.accessToken);
    const sent = await h.shopify.sendPaymentSession('stdin-shop.myshopify.com', { amount: '4.99', test: true });
    expect(sent.status).toBe(201);
    expect((await visit((sent.body as { redirect_url: string }).redirect_url)).status).toBe(303);
    expect(h.flex.checkoutSessions({ accountId: account.accountId })).toHaveLength(1);
  });

  it.each([
    [['--access-token', 'shpat_visible_in_ps'], '--access-token', 'SHOP_ACCESS_TOKEN'],
    [['--flex-api-key=fsk_visible_in_ps'], '--flex-api-key', 'FLEX_API_KEY'],
    [['--flex-test-api-key', 'fsk_test_visible_in_ps'], '--flex-test-api-key', 'FLEX_TEST_API_KEY'],
  ])('refuses a secret given as a command-line flag (%j) with exit code 64, and does nothing', async (flags, flag, variable) => {
    const account = h.flex.createAccount({ name: 'Flags' });
    const before = h.flex.requests.length;
    // Even with every secret also in the environment: the flag alone is refused.
    const result = await runCliBesideApp(h, ['shops:add', '--shop', 'flags.myshopify.com', ...flags], {
      env: { SHOP_ACCESS_TOKEN: 'shpat_from_env', FLEX_API_KEY: account.liveKey, FLEX_TEST_API_KEY: account.testKey },
    });
    expect(result.code).toBe(64);
    expect(result.stderr).toContain(`Refused: ${flag} would put a secret on the command line`);
    expect(result.stderr).toContain(`Set ${variable} in the environment`);
    expect(result.stderr).toContain('--secrets-from-stdin');
    expect(result.stderr + result.stdout).not.toContain('visible_in_ps');
    expect(await shopCount('flags.myshopify.com')).toBe(0);
    expect(h.flex.requests.length).toBe(before);
  });

  it('refuses a key Flex does not accept, with a clear message, and stores nothing', async () => {
    const account = h.flex.createAccount({ name: 'Revoked' });
    h.flex.revokeKey(account.liveKey);
    const result = await addShop('bad-key.myshopify.com', { SHOP_ACCESS_TOKEN: 'shpat_x', FLEX_API_KEY: account.liveKey });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/nothing was stored/);
    expect(result.stderr).toMatch(/Flex refused the live API key/);
    expect(await shopCount('bad-key.myshopify.com')).toBe(0);
    expect(await h.prisma.session.count({ where: { shop: 'bad-key.myshopify.com' } })).toBe(0);
    expect(h.flex.webhookEndpoints({ accountId: account.accountId })).toHaveLength(0);
  });

  it('refuses a good live key paired with a bad test key, keeping nothing of either', async () => {
    const account = h.flex.createAccount({ name: 'Half good' });
    const result = await addShop('half.myshopify.com', { SHOP_ACCESS_TOKEN: 'shpat_x', FLEX_API_KEY: account.liveKey, FLEX_TEST_API_KEY: 'fsk_test_notarealkey123' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/test API key/);
    expect(await shopCount('half.myshopify.com')).toBe(0);
    expect(h.flex.webhookEndpoints({ accountId: account.accountId })).toHaveLength(0);
  });

  it.each([
    [['--shop', 'x.myshopify.com'], { SHOP_ACCESS_TOKEN: 't', FLEX_API_KEY: 'fsk_test_abcdefgh' }, undefined, /live API key is a test key/],
    [['--shop', 'x.myshopify.com'], { SHOP_ACCESS_TOKEN: 't', FLEX_API_KEY: 'sk_live_abc' }, undefined, /does not look like a Flex secret key/],
    [['--shop', 'not-a-shop.com'], { SHOP_ACCESS_TOKEN: 't', FLEX_API_KEY: 'fsk_abcdefghij' }, undefined, /myshopify\.com/],
    [['--shop', 'x.myshopify.com'], { FLEX_API_KEY: 'fsk_abcdefghij' }, undefined, /Missing the shop's offline Shopify access token \(SHOP_ACCESS_TOKEN\)/],
    [['--shop', 'x.myshopify.com'], {}, undefined, /SHOP_ACCESS_TOKEN\) and the Flex live secret key \(FLEX_API_KEY\)/],
    [['--shop', 'x.myshopify.com', '--bogus'], {}, undefined, /Unknown option/],
    [['--shop', 'x.myshopify.com', 'shpat_pasted_in_the_wrong_place'], {}, undefined, /takes no arguments besides its options/],
    [['--shop', 'x.myshopify.com', '--secrets-from-stdin'], {}, 'SHOP_ACCESS_TOKEN=t\nshpat_no_name_given\n', /line 2: expected NAME=value/],
    [['--shop', 'x.myshopify.com', '--secrets-from-stdin'], {}, 'SHOP_ACCESS_TOKEN=t\nSHOP_ACCESS_TOKEN=u\nFLEX_API_KEY=fsk_abcdefghij\n', /SHOP_ACCESS_TOKEN is given twice/],
    [['--shop', 'x.myshopify.com', '--secrets-from-stdin'], { FLEX_API_KEY: 'fsk_abcdefghij' }, 'SHOP_ACCESS_TOKEN=t\nFLEX_API_KEY=fsk_otherabcdef\n', /FLEX_API_KEY is set in the environment and given on standard input/],
  ])('refuses malformed input %#: a clear message, nothing stored, Flex not called', async (args, env, stdin, message) => {
    const before = h.flex.requests.length;
    const result = await runCliBesideApp(h, ['shops:add', ...args], { env: env as Record<string, string>, stdin });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/shpat_pasted|shpat_no_name|fsk_otherabcdef/);
    expect(await shopCount('x.myshopify.com')).toBe(0);
    expect(h.flex.requests.length).toBe(before);
  });

  it('replaces the keys of a registered shop and retires the old webhook endpoint', async () => {
    const first = h.flex.createAccount({ name: 'Rotating' });
    const installed = h.shopify.createShop('rotate.myshopify.com');
    expect((await addShop('rotate.myshopify.com', { SHOP_ACCESS_TOKEN: installed.accessToken, FLEX_API_KEY: first.liveKey })).code).toBe(0);
    const second = h.flex.createAccount({ name: 'Rotating, new account' });
    expect((await addShop('rotate.myshopify.com', { SHOP_ACCESS_TOKEN: installed.accessToken, FLEX_API_KEY: second.liveKey })).code).toBe(0);
    expect(h.flex.webhookEndpoints({ accountId: first.accountId })).toHaveLength(0);
    expect(h.flex.webhookEndpoints({ accountId: second.accountId })).toHaveLength(1);
    const sent = await h.shopify.sendPaymentSession('rotate.myshopify.com', { amount: '5.00' });
    expect(sent.status).toBe(201);
    expect((await visit((sent.body as { redirect_url: string }).redirect_url)).status).toBe(303);
    expect(h.flex.checkoutSessions({ accountId: second.accountId })).toHaveLength(1);
  });

  it('lists jobs and requeues one that needs attention', async () => {
    const listed = await runCliBesideApp(h, ['jobs:list', '--status', 'NEEDS_ATTENTION']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/No jobs|NEEDS_ATTENTION/);
    const missing = await runCliBesideApp(h, ['jobs:retry', '00000000-0000-0000-0000-000000000000']);
    expect(missing.code).toBe(1);
  });
});
