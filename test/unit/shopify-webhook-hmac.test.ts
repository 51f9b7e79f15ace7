import { createHmac } from 'node:crypto';
import { verifyShopifyWebhookHmac } from '../../src/shopify/webhook-hmac';

describe('Shopify webhook HMAC', () => {
  const secret = 'app-secret';
  const body = Buffer.from('{"shop_domain":"a.myshopify.com"}');
  const sign = (raw: Buffer, key = secret) => createHmac('sha256', key).update(raw).digest('base64');

  it('accepts the base64 HMAC-SHA256 of the raw body', () => {
    expect(verifyShopifyWebhookHmac(body, sign(body), secret)).toBe(true);
    expect(verifyShopifyWebhookHmac(body, [sign(body)], secret)).toBe(true);
  });

  it.each([
    ['another key', sign(body, 'other')],
    ['another body', sign(Buffer.from('{"shop_domain":"b.myshopify.com"}'))],
    ['hex instead of base64', createHmac('sha256', secret).update(body).digest('hex')],
    ['truncated', sign(body).slice(0, 20)],
    ['empty', ''],
    ['not base64', '!!!'],
    ['missing', undefined],
  ])('refuses %s', (_name, header) => {
    expect(verifyShopifyWebhookHmac(body, header, secret)).toBe(false);
  });
});
