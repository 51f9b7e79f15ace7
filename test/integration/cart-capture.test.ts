import { randomUUID } from 'node:crypto';
import { eventually, useHarness } from '../support/harness';

/**
 * Cart capture (issue 10.2): the app activates its web pixel on each shop, the pixel's posts and
 * the checkouts/* webhooks become cart snapshots keyed by every token they carry, and the public
 * pixel endpoint treats whatever reaches it as hostile.
 */
describe('cart capture', () => {
  const { h, shop } = useHarness({ tuning: { pixelLimits: { perClientPerMinute: 400, perShopPerMinute: 5_000 } } });

  const snapshots = async (domain: string) =>
    h.prisma.cartSnapshot.findMany({ where: { shop: { domain } }, orderBy: { receivedAt: 'asc' } });
  const pixelActive = (domain: string) => eventually(async () => h.shopify.webPixel(domain), 15_000, 'the cart pixel activated');
  const pixelPost = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${h.appUrl}/pixel/checkout`, { method: 'POST', headers: { 'Content-Type': 'text/plain', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  async function shopPixelKey(domain: string): Promise<string> {
    await pixelActive(domain);
    return (await h.prisma.shop.findUniqueOrThrow({ where: { domain } })).pixelKey!;
  }

  function post(domain: string, key: string, overrides: Record<string, unknown> = {}) {
    return {
      v: 1,
      shop: domain,
      key,
      event: {
        id: `sh-${randomUUID()}`,
        name: 'payment_info_submitted',
        seq: 5,
        timestamp: new Date().toISOString(),
        location: `https://${domain}/checkouts/cn/c1-${randomUUID().replace(/-/g, '')}`,
        checkout: {
          token: randomUUID().replace(/-/g, ''),
          currencyCode: 'USD',
          totalPrice: { amount: 35.08, currencyCode: 'USD' },
          subtotalPrice: { amount: 28.25, currencyCode: 'USD' },
          totalTax: { amount: 2.83, currencyCode: 'USD' },
          shippingLine: { price: { amount: 4, currencyCode: 'USD' } },
          discountsAmount: { amount: 2, currencyCode: 'USD' },
          lineItems: [
            {
              id: '1',
              quantity: 2,
              title: 'Digital Thermometer',
              variant: { id: '44000000000001', sku: 'T-1', price: { amount: 12.5, currencyCode: 'USD' }, product: { id: '8000000000001', title: 'Digital Thermometer' } },
              discountAllocations: [{ amount: { amount: 1.65, currencyCode: 'USD' } }],
            },
          ],
        },
        ...overrides,
      },
    };
  }

  it('activates the pixel after install with the shop key and our endpoint in its settings', async () => {
    const pixel = await pixelActive(shop.domain);
    const settings = JSON.parse(pixel.settings as string) as Record<string, string>;
    // Shopify has the pixel as soon as webPixelCreate runs; the app keeps its id once the answer is back.
    const row = await eventually(async () => {
      const stored = await h.prisma.shop.findUniqueOrThrow({ where: { domain: shop.domain } });
      return stored.webPixelId ? stored : undefined;
    }, 15_000, 'the pixel id kept');
    expect(settings).toEqual({ shopKey: row.pixelKey, endpoint: `${h.appUrl}/pixel/checkout` });
    expect(row.webPixelId).toBe(pixel.gid);
    expect(row.pixelProblem).toBeNull();
  });

  it("keeps what a real checkout's pixel and webhooks say, under every token they carry", async () => {
    await pixelActive(shop.domain);
    const { product } = h.shopify.createProduct(shop.domain, { title: 'Digital Thermometer', variants: [{ price: '12.50', barcode: '036000291452' }] });
    const run = await h.shopify.runCheckout(shop.domain, { lines: [{ variantId: product.variants[0]!.id, quantity: 2 }], shipping: { price: '4.00' }, tax: { rate: 0.08 }, skip: ['session'] });
    await h.shopify.idle();
    expect(run.pixelEvents.length).toBeGreaterThan(0);
    const kept = await snapshots(shop.domain);
    const pixel = kept.find((s) => s.source === 'PIXEL')!;
    const webhook = kept.find((s) => s.source === 'WEBHOOK')!;
    expect(pixel).toMatchObject({ checkoutToken: run.checkout.token, currency: 'USD' });
    expect(pixel.urlToken).toBe(new URL(run.checkout.checkoutUrl).pathname.split('/')[3]);
    expect(webhook).toMatchObject({ checkoutToken: run.checkout.token, cartToken: run.checkout.cartToken });
    // The newest description of each: the last pixel event and checkouts/update, with shipping and tax.
    const total = run.checkout.totalCents;
    expect(Number(pixel.totalMinor)).toBe(total);
    expect(Number(webhook.totalMinor)).toBe(total);
    expect(Number(webhook.shippingMinor)).toBe(400);
    expect(webhook.lines).toEqual([{ variantId: String(product.variants[0]!.id).split('/').pop(), productId: String(product.id).split('/').pop(), title: 'Digital Thermometer', quantity: 2, discountMinor: 0 }]);
    // The webhook's delivery row keeps no buyer data.
    const delivery = await h.prisma.shopifyWebhookDelivery.findFirstOrThrow({ where: { shopDomain: shop.domain, topic: 'checkouts/update' } });
    expect(JSON.stringify(delivery.payload)).not.toMatch(/@/);
  });

  it('answers cross-origin text/plain posts without credentials, and the preflight', async () => {
    const key = await shopPixelKey(shop.domain);
    const answer = await pixelPost(post(shop.domain, key), { Origin: 'null' });
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    const preflight = await fetch(`${h.appUrl}/pixel/checkout`, { method: 'OPTIONS', headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('ignores posts for unknown shops or with the wrong key, with the same answer, storing nothing', async () => {
    const key = await shopPixelKey(shop.domain);
    const before = await h.prisma.cartSnapshot.count();
    for (const body of [post('nobody.myshopify.com', key), post(shop.domain, `${key}x`), post(shop.domain, ''), post('not a domain', key)]) {
      const answer = await pixelPost(body);
      expect(answer.status).toBe(204);
      expect(await answer.text()).toBe('');
    }
    expect(await h.prisma.cartSnapshot.count()).toBe(before);
  });

  it('refuses malformed, oversized and out-of-bounds posts with a clear error, storing nothing', async () => {
    const key = await shopPixelKey(shop.domain);
    const before = await h.prisma.cartSnapshot.count();
    const valid = post(shop.domain, key);
    const cases: Array<[unknown, number, RegExp]> = [
      ['not json', 400, /JSON/i],
      [{ ...valid, v: 2 }, 400, /v/],
      [{ ...valid, event: { ...valid.event, checkout: { ...valid.event.checkout, lineItems: Array.from({ length: 251 }, () => ({ quantity: 1, variant: null })) } } }, 400, /lineItems/],
      [{ ...valid, event: { ...valid.event, checkout: { ...valid.event.checkout, totalPrice: { amount: -1, currencyCode: 'USD' } } } }, 400, /totalPrice/],
      [{ ...valid, event: { ...valid.event, checkout: { ...valid.event.checkout, lineItems: [{ ...valid.event.checkout.lineItems[0], quantity: 1.5 }] } } }, 400, /quantity/],
      ['['.repeat(40) + ']'.repeat(40), 400, /nested/i],
      [`{"v":1,"shop":"${shop.domain}","key":"${key}","event":{"id":"a\\u0000"}}`, 400, /NUL|null character/i],
    ];
    for (const [body, status, message] of cases) {
      const answer = await pixelPost(body);
      expect(answer.status).toBe(status);
      expect(JSON.stringify(await answer.json())).toMatch(message);
    }
    const huge = await pixelPost({ ...valid, padding: 'x'.repeat(70 * 1024) });
    expect(huge.status).toBe(413);
    expect(await h.prisma.cartSnapshot.count()).toBe(before);
  });

  it('keeps the newest description when posts arrive out of order; an event without a cart keeps nothing', async () => {
    const key = await shopPixelKey(shop.domain);
    const newer = post(shop.domain, key);
    const token = newer.event.checkout.token;
    const older = post(shop.domain, key, {
      timestamp: new Date(Date.now() - 60_000).toISOString(),
      checkout: { ...newer.event.checkout, token, totalPrice: { amount: 20, currencyCode: 'USD' } },
    });
    expect((await pixelPost(newer)).status).toBe(204);
    expect((await pixelPost(older)).status).toBe(204);
    const kept = await h.prisma.cartSnapshot.findMany({ where: { checkoutToken: token } });
    expect(kept).toHaveLength(1);
    expect(Number(kept[0]!.totalMinor)).toBe(3508);
    // A pixel event that is not about a cart being paid for.
    const completed = post(shop.domain, key, { name: 'checkout_completed', checkout: { ...newer.event.checkout, token: 'f'.repeat(32) } });
    expect((await pixelPost(completed)).status).toBe(204);
    expect(await h.prisma.cartSnapshot.count({ where: { checkoutToken: 'f'.repeat(32) } })).toBe(0);
  });

  it('a snapshot expires after a day: the retention task deletes it', async () => {
    const key = await shopPixelKey(shop.domain);
    const body = post(shop.domain, key);
    expect((await pixelPost(body)).status).toBe(204);
    const token = body.event.checkout.token;
    expect(await h.prisma.cartSnapshot.count({ where: { checkoutToken: token } })).toBe(1);
    h.clock.advance(25 * 60 * 60 * 1000);
    const counts = await h.components.retention.runOnce();
    expect(counts.cartSnapshots).toBeGreaterThanOrEqual(1);
    expect(await h.prisma.cartSnapshot.count({ where: { checkoutToken: token } })).toBe(0);
  });

  it('rate-limits a flood per client address with 429', async () => {
    const key = await shopPixelKey(shop.domain);
    let limited = 0;
    for (let i = 0; i < 420 && limited === 0; i++) {
      const answer = await pixelPost(post(shop.domain, key), { 'X-Forwarded-For': '203.0.113.77' });
      if (answer.status === 429) limited++;
    }
    expect(limited).toBe(1);
    // Another client is not held back by it.
    expect((await pixelPost(post(shop.domain, key), { 'X-Forwarded-For': '203.0.113.78' })).status).toBe(204);
  });

  it('refuses a checkouts/update with a bad HMAC, storing nothing; a redelivery changes nothing', async () => {
    const token = randomUUID().replace(/-/g, '');
    const body = { token, cart_token: `c1-${token}`, currency: 'USD', updated_at: new Date().toISOString(), line_items: [{ variant_id: 1, product_id: 2, title: 'x', quantity: 1 }], total_price: '5.00', subtotal_price: '5.00', total_tax: '0.00', total_discounts: '0.00', shipping_lines: [] };
    const forged = await h.shopify.sendWebhook(shop.domain, 'checkouts/update', body, { tamperHmac: true });
    expect(forged.status).toBe(401);
    expect(await h.prisma.cartSnapshot.count({ where: { checkoutToken: token } })).toBe(0);
    const first = await h.shopify.sendWebhook(shop.domain, 'checkouts/update', body);
    expect(first.status).toBe(200);
    // Shopify redelivers the same body under the same webhook id; a newer description of the same
    // checkout stored meanwhile is not overwritten by it.
    const newer = await h.shopify.sendWebhook(shop.domain, 'checkouts/update', { ...body, total_price: '9.00', updated_at: new Date(Date.parse(body.updated_at) + 1_000).toISOString() });
    expect(newer.status).toBe(200);
    const again = await h.shopify.sendWebhook(shop.domain, 'checkouts/update', body, { webhookId: first.webhookId });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'duplicate' });
    const kept = await h.prisma.cartSnapshot.findMany({ where: { checkoutToken: token } });
    expect(kept.map((k) => Number(k.totalMinor))).toEqual([900]);
    expect(await h.prisma.shopifyWebhookDelivery.count({ where: { webhookId: first.webhookId } })).toBe(1);
  });

  it('answers each checkout webhook with what it did: stored, older than stored, no exact cart, shop not installed', async () => {
    const token = randomUUID().replace(/-/g, '');
    const at = Date.now();
    const body = (updatedAt: number, total = '5.00') => ({ token, cart_token: `c2-${token}`, currency: 'USD', updated_at: new Date(updatedAt).toISOString(), line_items: [{ variant_id: 1, product_id: 2, title: 'x', quantity: 1 }], total_price: total, subtotal_price: total, total_tax: '0.00', total_discounts: '0.00', shipping_lines: [] });
    const stored = await h.shopify.sendWebhook(shop.domain, 'checkouts/update', body(at, '7.00'));
    expect(stored.body).toMatchObject({ outcome: 'cart_snapshot_stored' });
    // An older description of the same checkout, under another webhook id, arriving late.
    const older = await h.shopify.sendWebhook(shop.domain, 'checkouts/update', body(at - 5_000, '3.00'));
    expect(older.body).toMatchObject({ outcome: 'cart_snapshot_older_than_stored' });
    const inexact = await h.shopify.sendWebhook(shop.domain, 'checkouts/update', { ...body(at + 5_000), total_price: '1.005' });
    expect(inexact.body).toMatchObject({ outcome: 'ignored_no_exact_cart' });
    const kept = await h.prisma.cartSnapshot.findMany({ where: { checkoutToken: token } });
    expect(kept.map((k) => Number(k.totalMinor))).toEqual([700]);
    // The delivery rows keep the same outcomes (the stored one is recorded in the statement that stores
    // the snapshot, the older one corrected after it).
    const recorded = async (webhookId: string) => (await h.prisma.shopifyWebhookDelivery.findUniqueOrThrow({ where: { webhookId } })).outcome;
    expect(await recorded(stored.webhookId)).toBe('cart_snapshot_stored');
    expect(await recorded(older.webhookId)).toBe('cart_snapshot_older_than_stored');
    expect(await recorded(inexact.webhookId)).toBe('ignored_no_exact_cart');

    const stranger = `not-installed-${token.slice(0, 8)}.myshopify.com`;
    h.shopify.createShop(stranger);
    for (const sent of [await h.shopify.sendWebhook(stranger, 'checkouts/create', body(at)), await h.shopify.sendWebhook(stranger, 'checkouts/create', { ...body(at), total_price: '1.005' })]) {
      expect(sent.status).toBe(200);
      expect(sent.body).toMatchObject({ outcome: 'ignored_shop_not_installed' });
      expect(await recorded(sent.webhookId)).toBe('ignored_shop_not_installed');
    }
    expect(await h.prisma.cartSnapshot.count({ where: { checkoutToken: token } })).toBe(1);
  });

  it('stores a checkout once when Shopify sends copies of one webhook at the same time', async () => {
    const token = randomUUID().replace(/-/g, '');
    const body = { token, cart_token: `c3-${token}`, currency: 'USD', updated_at: new Date().toISOString(), line_items: [{ variant_id: 1, product_id: 2, title: 'x', quantity: 1 }], total_price: '6.00', subtotal_price: '6.00', total_tax: '0.00', total_discounts: '0.00', shipping_lines: [] };
    const first = await h.shopify.sendWebhook(shop.domain, 'checkouts/create', body);
    expect(first.body).toMatchObject({ outcome: 'cart_snapshot_stored' });
    const before = await h.prisma.cartSnapshot.findFirstOrThrow({ where: { checkoutToken: token } });
    // Racing copies of a second webhook id, then copies of the first again: one applies, the rest change nothing.
    const second = { ...body, total_price: '8.00', subtotal_price: '8.00', updated_at: new Date(Date.parse(body.updated_at) + 1_000).toISOString() };
    const webhookId = `race-${token}`;
    const racing = await Promise.all([1, 2, 3, 4].map(() => h.shopify.sendWebhook(shop.domain, 'checkouts/update', second, { webhookId })));
    expect(racing.map((r) => (r.body as { outcome: string }).outcome).sort()).toEqual(['cart_snapshot_stored', 'duplicate', 'duplicate', 'duplicate']);
    const after = await h.prisma.cartSnapshot.findFirstOrThrow({ where: { checkoutToken: token } });
    expect(Number(after.totalMinor)).toBe(800);
    // A replay of the stored description itself would refresh the row (its receipt and expiry) if applied.
    const replayed = [await h.shopify.sendWebhook(shop.domain, 'checkouts/create', body, { webhookId: first.webhookId }), await h.shopify.sendWebhook(shop.domain, 'checkouts/update', second, { webhookId })];
    expect(replayed.map((r) => (r.body as { outcome: string }).outcome)).toEqual(['duplicate', 'duplicate']);
    const unchanged = await h.prisma.cartSnapshot.findFirstOrThrow({ where: { checkoutToken: token } });
    expect({ ...unchanged, totalMinor: Number(unchanged.totalMinor) }).toEqual({ ...after, totalMinor: 800 });
    expect(before.id).toBe(after.id);
    expect(await h.prisma.shopifyWebhookDelivery.count({ where: { webhookId: { in: [first.webhookId, webhookId] } } })).toBe(2);
  });
});
