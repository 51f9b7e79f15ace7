// The catalog: product changes with their products/* webhooks (payloads, signatures, delivery
// faults), subscriptions and scopes, and a big seeded catalog walked through the throttled Admin API.
import { createHmac } from 'node:crypto';
import type { ShopifySimulator } from '../../../sandbox/shopify';
import { API_SECRET, COMMERCE_SCOPES, type SimulatorEnv, type TinyApp, useShopifySimulator } from './helpers';

const env = useShopifySimulator({ scopes: COMMERCE_SCOPES, webhookTopics: ['products/create', 'products/update', 'products/delete'] });
let shopify: ShopifySimulator;
let app: TinyApp;
let shop: SimulatorEnv['shop'];
beforeAll(() => {
  ({ shopify, app, shop } = env);
});

describe('product changes send products/* webhooks', () => {
  it('products/create: the REST product payload, signed, with Shopify headers', async () => {
    const change = shopify.createProduct(shop.domain, {
      title: 'First Aid Kit',
      descriptionHtml: '<p>120 pieces</p>',
      productType: 'Health',
      variants: [
        { title: 'Small', price: '19.50', sku: 'FAK-S', barcode: '012345678905' },
        { title: 'Large', price: 29, sku: 'FAK-L' },
      ],
    });
    const event = await change.webhook;
    expect(event).toMatchObject({ topic: 'products/create', outcome: 'delivered' });
    const got = app.last('/webhooks/shopify/products/create');
    expect(got.headers).toMatchObject({
      'x-shopify-topic': 'products/create',
      'x-shopify-shop-domain': shop.domain,
      'x-shopify-webhook-id': event.webhookId,
      'x-shopify-api-version': '2026-10',
      'x-shopify-hmac-sha256': createHmac('sha256', API_SECRET).update(got.raw).digest('base64'),
    });
    expect(got.headers['x-shopify-triggered-at']).toBeDefined();
    expect(got.headers['x-shopify-event-id']).toBeDefined();
    expect(got.body).toMatchObject({
      id: change.product.id,
      admin_graphql_api_id: `gid://shopify/Product/${change.product.id}`,
      title: 'First Aid Kit',
      body_html: '<p>120 pieces</p>',
      handle: 'first-aid-kit',
      product_type: 'Health',
      status: 'active',
      variants: [
        { id: change.product.variants[0]!.id, product_id: change.product.id, title: 'Small', price: '19.50', sku: 'FAK-S', barcode: '012345678905', position: 1 },
        { title: 'Large', price: '29.00', sku: 'FAK-L', barcode: null, position: 2 },
      ],
    });
  });

  it('products/update carries the new state; products/delete only the id', async () => {
    const { product } = shopify.createProduct(shop.domain, { title: 'Mug', variants: [{ price: 9, sku: 'MUG' }] });
    const kept = product.variants[0]!.id;
    await shopify.updateProduct(shop.domain, product.id, {
      title: 'Coffee Mug',
      variants: [{ id: kept, price: '10.00', sku: 'MUG' }, { title: 'Large', price: '12.00', sku: 'MUG-L' }],
    }).webhook;
    const updated = app.last('/webhooks/shopify/products/update').body;
    expect(updated.title).toBe('Coffee Mug');
    expect(updated.variants.map((v: { id: number; price: string }) => [v.id === kept, v.price])).toEqual([[true, '10.00'], [false, '12.00']]);
    await shopify.deleteProduct(shop.domain, product.id).webhook;
    expect(app.last('/webhooks/shopify/products/delete').body).toEqual({ id: product.id });
    expect(shopify.product(shop.domain, product.id)).toBeUndefined();
  });

  it('can carry only the first variants (the productWebhookVariantLimit assumption), with variant_gids listing all', async () => {
    shopify.setAssumptions({ productWebhookVariantLimit: 2 });
    try {
      const change = shopify.createProduct(shop.domain, { title: 'Socks', variants: ['S', 'M', 'L'].map((t) => ({ title: t, price: '5.00' })) });
      await change.webhook;
      const body = app.last('/webhooks/shopify/products/create').body;
      expect(body.variants.map((v: { title: string }) => v.title)).toEqual(['S', 'M']);
      expect(body.variant_gids.map((g: { admin_graphql_api_id: string }) => g.admin_graphql_api_id)).toEqual(change.product.variants.map((v) => `gid://shopify/ProductVariant/${v.id}`));
      expect(() => shopify.setAssumptions({ productWebhookVariantLimit: 0 })).toThrow(/at least 1/);
    } finally {
      shopify.setAssumptions({ productWebhookVariantLimit: null });
    }
  });

  it('sends nothing for topics the app did not subscribe to, or without the scope', async () => {
    shopify.configureApp({ webhookTopics: ['orders/create'] });
    try {
      const event = await shopify.createProduct(shop.domain, { title: 'Unheard', variants: [{ price: 1 }] }).webhook;
      expect(event.outcome).toBe('not_subscribed');
    } finally {
      shopify.configureApp({ webhookTopics: ['products/create', 'products/update', 'products/delete'] });
    }
    shopify.createShop('noscope.myshopify.com');
    expect((await shopify.createProduct('noscope.myshopify.com', { title: 'X', variants: [{ price: 1 }] }).webhook).outcome).toBe('missing_scope');
  });

  it('drops, delays and duplicates deliveries per topic', async () => {
    shopify.faults.dropWebhooks({ topic: 'products/create' });
    const dropped = await shopify.createProduct(shop.domain, { title: 'Dropped', variants: [{ price: 1 }] }).webhook;
    expect(dropped).toMatchObject({ outcome: 'dropped', deliveries: [] });

    shopify.faults.duplicateWebhooks({ topic: 'products/create', copies: 2 });
    const before = app.all('/webhooks/shopify/products/create').length;
    const twice = shopify.createProduct(shop.domain, { title: 'Twice', variants: [{ price: 1 }] });
    const duplicated = await twice.webhook;
    const copies = app.all('/webhooks/shopify/products/create').slice(before);
    expect(copies).toHaveLength(3);
    expect(new Set(copies.map((c) => c.headers['x-shopify-webhook-id']))).toEqual(new Set([duplicated.webhookId]));

    shopify.faults.delayWebhooks({ topic: 'products/update', delayMs: 150 });
    const { product, webhook } = shopify.updateProduct(shop.domain, twice.product.id, { title: 'Later' });
    expect(shopify.product(shop.domain, product.id)!.title).toBe('Later'); // the change exists before the webhook arrives
    const started = Date.now();
    expect((await webhook).delayedMs).toBe(150);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });
});

describe('a big catalog', () => {
  it('seeds 20,000 variants without webhooks, and a sync walks them through the throttled Admin API', async () => {
    const big = shopify.createShop('big.myshopify.com', { scopes: 'read_products' });
    const deliveriesBefore = shopify.webhookEvents.length;
    const seeded = shopify.seedCatalog(big.domain, { variants: 20_000, products: 2_000, eligibleShare: 0.3 });
    expect(seeded).toEqual({ products: 2_000, variants: 20_000 });
    expect(shopify.webhookEvents.length).toBe(deliveriesBefore);

    const QUERY = `query($after: String) { productVariants(first: 250, after: $after) {
      nodes { id sku barcode price product { id title } } pageInfo { hasNextPage endCursor } } }`;
    const seen = new Set<string>();
    let after: string | null = null;
    let throttled = 0;
    for (let guard = 0; guard < 500; guard++) {
      const res = await env.admin(big.accessToken, QUERY, { after });
      if (res.body.errors?.[0]?.extensions?.code === 'THROTTLED') {
        throttled += 1;
        // What a client does: wait for the bucket to refill (here: move the simulator's clock).
        const { requestedQueryCost, throttleStatus } = res.body.extensions.cost;
        shopify.advanceClock(Math.ceil((requestedQueryCost - throttleStatus.currentlyAvailable) / throttleStatus.restoreRate));
        continue;
      }
      for (const node of res.body.data.productVariants.nodes) seen.add(node.id);
      if (!res.body.data.productVariants.pageInfo.hasNextPage) break;
      after = res.body.data.productVariants.pageInfo.endCursor;
    }
    expect(seen.size).toBe(20_000);
    // 2 + 250 × (variant 1 + product 1) = 502 points a page against a 1000-point bucket.
    expect(throttled).toBeGreaterThan(0);
    const eligibleLooking = shopify.products(big.domain).filter((p) => p.productType === 'Health').length;
    expect(eligibleLooking).toBe(600);
  });
});
