import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createLogger } from '../../src/lib/logger';
import { ShopifyOAuth } from '../../src/shopify/oauth';
import { ShopifyWebhookValidator, shopifyHeadersOnly } from '../../src/shopify/webhook-validation';
import type { Shopify } from '@shopify/shopify-api';

/** Shopify webhooks are checked with @shopify/shopify-api's own validation, on the raw body. */
describe('Shopify webhook validation', () => {
  const secret = 'app-secret';
  const oauth = new ShopifyOAuth({
    apiKey: 'key',
    apiSecret: secret,
    appUrl: 'https://app.example',
    apiVersion: '2026-10',
    apiOrigin: undefined,
    timeoutMs: 1000,
    logger: createLogger({ level: 'silent' }),
  });
  const validator = new ShopifyWebhookValidator(oauth.api);
  const body = Buffer.from('{"shop_domain":"a.myshopify.com"}');
  const sign = (raw: Buffer, key = secret) => createHmac('sha256', key).update(raw).digest('base64');
  const request = (hmac: string | undefined, extra: Record<string, string> = {}) =>
    ({
      method: 'POST',
      url: '/webhooks/shopify/shop/redact',
      headers: {
        'content-type': 'application/json',
        ...(hmac === undefined ? {} : { 'x-shopify-hmac-sha256': hmac }),
        'x-shopify-topic': 'shop/redact',
        'x-shopify-shop-domain': 'a.myshopify.com',
        'x-shopify-api-version': '2026-10',
        'x-shopify-webhook-id': 'wh-1',
        ...extra,
      },
    }) as unknown as IncomingMessage;

  it('accepts the base64 HMAC-SHA256 of the raw body and reports the headers', async () => {
    expect(await validator.validate(body, request(sign(body)))).toEqual({
      valid: true,
      topic: 'shop/redact',
      shopDomain: 'a.myshopify.com',
      webhookId: 'wh-1',
      apiVersion: '2026-10',
    });
  });

  it.each([
    ['another key', sign(body, 'other')],
    ['another body', sign(Buffer.from('{"shop_domain":"b.myshopify.com"}'))],
    ['hex instead of base64', createHmac('sha256', secret).update(body).digest('hex')],
    ['truncated', sign(body).slice(0, 20)],
    ['empty', ''],
    ['not base64', '!!!'],
    ['missing', undefined],
  ])('refuses %s', async (_name, header) => {
    expect(await validator.validate(body, request(header))).toEqual({ valid: false, reason: 'invalid_hmac' });
  });

  it('names the missing headers of a correctly signed webhook', async () => {
    const req = request(sign(body));
    delete (req.headers as Record<string, string>)['x-shopify-webhook-id'];
    expect(await validator.validate(body, req)).toMatchObject({ valid: false, reason: 'missing_headers' });
  });

  it('accepts a signed webhook whatever other headers a proxy added', async () => {
    const proxied = request(sign(body), { 'x-forwarded-for': '203.0.113.9', 'x-request-id': 'r-1', authorization: 'Bearer nope', cookie: 'a=b', 'user-agent': 'Shopify-Captain-Hook' });
    expect(await validator.validate(body, proxied)).toMatchObject({ valid: true, topic: 'shop/redact', webhookId: 'wh-1' });
  });

  it('hands the library only Shopify headers, of both families, with the method and URL', async () => {
    const seen: unknown[] = [];
    const api = { webhooks: { validate: async (args: { rawRequest: unknown }) => (seen.push(args.rawRequest), { valid: false, reason: 'invalid_hmac' }) } } as unknown as Shopify;
    const req = request(sign(body), { 'shopify-hmac-sha256': 'x', 'shopify-topic': 'shop/redact', 'x-forwarded-for': '203.0.113.9', cookie: 'a=b' });
    await new ShopifyWebhookValidator(api).validate(body, req);
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/webhooks/shopify/shop/redact',
        originalUrl: undefined,
        headers: {
          'x-shopify-hmac-sha256': sign(body),
          'x-shopify-topic': 'shop/redact',
          'x-shopify-shop-domain': 'a.myshopify.com',
          'x-shopify-api-version': '2026-10',
          'x-shopify-webhook-id': 'wh-1',
          'shopify-hmac-sha256': 'x',
          'shopify-topic': 'shop/redact',
        },
      },
    ]);
    // Express's originalUrl (the library prefers it) is kept.
    expect(shopifyHeadersOnly(Object.assign(req, { originalUrl: '/a/b' })).originalUrl).toBe('/a/b');
  });
});
