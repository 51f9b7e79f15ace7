// Webhooks sent on request (sendWebhook): signatures, default payloads, app/uninstalled.
import '@shopify/shopify-api/adapters/node';
import { createHmac } from 'node:crypto';
import type http from 'node:http';
import type { ShopifySimulator } from '../../../sandbox/shopify';
import { API_SECRET, type SimulatorEnv, type TinyApp, libraryFor, useShopifySimulator } from './helpers';

const env = useShopifySimulator();
let shopify: ShopifySimulator;
let app: TinyApp;
let shop: SimulatorEnv['shop'];
beforeAll(() => {
  ({ shopify, app, shop } = env);
});
const gql: SimulatorEnv['gql'] = (...args) => env.gql(...args);

describe('webhooks', () => {
  it('signs the raw body; the app can verify independently and with @shopify/shopify-api', async () => {
    const delivery = await shopify.sendWebhook(shop.domain, 'customers/redact', undefined, { webhookId: 'wh-1' });
    expect(delivery.status).toBe(200);
    const got = app.last('/webhooks/shopify/customers/redact');
    const expected = createHmac('sha256', API_SECRET).update(got.raw).digest('base64');
    expect(got.headers['x-shopify-hmac-sha256']).toBe(expected);
    expect(got.headers).toMatchObject({
      'x-shopify-topic': 'customers/redact',
      'x-shopify-shop-domain': shop.domain,
      'x-shopify-webhook-id': 'wh-1',
      'x-shopify-api-version': '2026-10',
      'x-shopify-event-id': expect.any(String),
      'x-shopify-triggered-at': expect.any(String),
    });
    expect(got.body).toMatchObject({
      shop_id: expect.any(Number),
      shop_domain: shop.domain,
      customer: { id: expect.any(Number), email: 'buyer@example.com', phone: expect.any(String) },
      orders_to_redact: expect.any(Array),
    });

    const lib = libraryFor(app.url);
    const fakeReq = { headers: got.headers, method: 'POST', url: got.path } as unknown as http.IncomingMessage;
    const fakeRes = {} as http.ServerResponse;
    const check = await lib.webhooks.validate({ rawBody: got.raw, rawRequest: fakeReq, rawResponse: fakeRes });
    expect(check).toMatchObject({ valid: true, topic: 'CUSTOMERS_REDACT', domain: shop.domain, webhookId: 'wh-1' });

    await shopify.sendWebhook(shop.domain, 'customers/redact', undefined, { webhookId: 'wh-1', tamperHmac: true });
    const tampered = app.last('/webhooks/shopify/customers/redact');
    expect(tampered.headers['x-shopify-webhook-id']).toBe('wh-1');
    expect(tampered.headers['x-shopify-hmac-sha256']).not.toBe(createHmac('sha256', API_SECRET).update(tampered.raw).digest('base64'));
  });

  it('has default payloads for the compliance topics', async () => {
    await shopify.sendWebhook(shop.domain, 'customers/data_request');
    expect(app.last('/webhooks/shopify/customers/data_request').body).toMatchObject({
      shop_id: expect.any(Number),
      shop_domain: shop.domain,
      orders_requested: expect.any(Array),
      customer: { email: expect.any(String) },
      data_request: { id: expect.any(Number) },
    });
    await shopify.sendWebhook(shop.domain, 'shop/redact');
    expect(app.last('/webhooks/shopify/shop/redact').body).toEqual({
      shop_id: shopify.shop(shop.domain)!.shopId,
      shop_domain: shop.domain,
    });
  });

  it('uninstallApp revokes tokens and sends app/uninstalled', async () => {
    const doomed = shopify.createShop('doomed.myshopify.com');
    const delivery = await shopify.uninstallApp('doomed.myshopify.com');
    expect(delivery).toMatchObject({ topic: 'app/uninstalled', status: 200 });
    expect(app.last('/webhooks/shopify/app/uninstalled').body).toMatchObject({ myshopify_domain: 'doomed.myshopify.com' });
    expect((await gql(doomed.accessToken, '{ publicApiVersions { handle } }')).status).toBe(401);
    expect(shopify.shop('doomed.myshopify.com')!.installed).toBe(false);
  });
});
