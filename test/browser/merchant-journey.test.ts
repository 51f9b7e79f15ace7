import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { eventually, Harness } from '../support/harness';
import { BROWSER_UA, uniqueShop } from '../support/merchant';

/**
 * The merchant's path in a real browser (headless Chromium: the one scripts/test-setup.mjs found,
 * handed over as CHROMIUM_PATH), against the Shopify simulator
 * and the Flex sandbox: install from Shopify, land on the settings page, a refused key, good keys
 * and "ready", then a payment through both sandboxes, listed with its timeline. Screenshots go to
 * test-artifacts/merchant-journey/.
 */

const CHROMIUM = process.env.CHROMIUM_PATH;
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/merchant-journey');

jest.setTimeout(180_000);

describe('merchant journey in a browser', () => {
  let h: Harness;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    if (!CHROMIUM) throw new Error('CHROMIUM_PATH is not set: the browser project\'s set-up (scripts/test-setup.mjs, in jest.config.js) sets it');
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at CHROMIUM_PATH=${CHROMIUM}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    h = await Harness.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
    // Headless Chromium calls itself "HeadlessChrome", which @shopify/shopify-api turns away as a bot;
    // the merchant's own browser does not.
    context = await browser.newContext({ userAgent: BROWSER_UA, viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  });

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await h?.stop();
  });

  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
  const text = async (selector: string) => (await page.locator(selector).first().textContent()) ?? '';

  it('installs, connects Flex, and sees a payment with its timeline', async () => {
    const shop = uniqueShop('journey');
    const account = h.flex.createAccount({ name: 'Journey Store' });
    h.shopify.addShop(shop);

    // 1. Shopify opens the app; the app sends the merchant to Shopify's consent page.
    await page.goto(h.shopify.installUrl(shop));
    expect(page.url().startsWith(`${h.shopify.url}/admin/oauth/authorize`)).toBe(true);
    await page.getByRole('button', { name: 'Install' }).waitFor();
    await shot('01-shopify-consent.png');
    await page.getByRole('button', { name: 'Install' }).click();

    // 2. Back on the app, signed in, on the settings page.
    await page.waitForURL(`${h.appUrl}/settings**`);
    await page.getByText('The app is installed.').waitFor();
    expect(await text('#status')).toContain('Not connected');
    expect(await text('header.topbar')).toContain(shop);
    await shot('02-settings-installed.png');

    // 3. A key Flex refuses: a clear error, nothing stored.
    await page.fill('#live_key', 'fsk_thisKeyDoesNotExistAtFlex0000');
    await page.getByRole('button', { name: 'Connect Flex' }).click();
    await page.getByText('Flex refused the live API key').waitFor();
    expect(await text('.banner.critical')).toContain('Nothing was saved.');
    expect(await page.locator('#live_key').inputValue()).toBe('');
    expect(await h.prisma.flexConnection.count()).toBe(0);
    await shot('03-refused-key.png');

    // 4. Good keys: connected, and Shopify told the provider is ready.
    await page.fill('#live_key', account.liveKey);
    await page.fill('#test_key', account.testKey);
    await page.getByRole('button', { name: 'Connect Flex' }).click();
    await page.waitForURL(`${h.appUrl}/settings?notice=connected`);
    await page.getByText('Flex is connected').waitFor();
    await eventually(async () => {
      await page.goto(`${h.appUrl}/settings`);
      return (await text('#status')).includes('Ready');
    }, 10_000, 'ready on the settings page');
    expect(await text('#status')).toContain('live and test mode');
    expect(h.shopify.paymentsAppConfiguration(shop)).toMatchObject({ ready: true, externalHandle: expect.stringContaining(account.liveKey.slice(-4)) });
    expect(await page.content()).not.toContain(account.liveKey);
    await shot('04-connected-ready.png');

    // "Return to Shopify" leads to the store's payments settings, which show the provider ready.
    const admin = await context.newPage();
    await admin.goto((await page.getByRole('link', { name: 'Return to Shopify' }).first().getAttribute('href'))!);
    expect(await admin.locator('body').textContent()).toContain('Ready');
    await admin.screenshot({ path: path.join(ARTIFACTS, '05-shopify-admin-ready.png'), fullPage: true });
    await admin.close();

    // 5. A buyer pays: Shopify sends the session, the browser follows the redirect to Flex and pays.
    const sent = await h.shopify.sendPaymentSession(shop, { amount: '64.50' });
    expect(sent.status).toBe(201);
    await page.goto((sent.body as { redirect_url: string }).redirect_url);
    await page.getByRole('button', { name: 'Pay with HSA/FSA card' }).waitFor();
    await shot('06-flex-checkout.png');
    await page.getByRole('button', { name: 'Pay with HSA/FSA card' }).click();
    await page.waitForURL(/\/thank-you/);
    await page.getByText('Order confirmed').waitFor();
    await shot('07-order-confirmed.png');

    // 6. The merchant sees it on the settings page, with its timeline.
    await page.goto(`${h.appUrl}/settings`);
    const payment = page.locator(`article[data-payment="${sent.session.id}"]`);
    await payment.waitFor();
    const listed = (await payment.textContent()) ?? '';
    expect(listed).toContain('64.50 USD');
    expect(listed).toContain('Paid');
    expect(listed).toMatch(/Shopify session\s*→\s*Flex checkout\s*→\s*Resolved/);
    for (const step of ['Shopify started the payment', 'Flex checkout created', 'Buyer came back from Flex', 'Payment approved', 'Shopify confirmed']) {
      expect(listed).toContain(step);
    }
    await payment.scrollIntoViewIfNeeded();
    await shot('08-settings-payment-timeline.png');
  });
});
