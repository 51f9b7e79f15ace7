import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Shopify signs each webhook with the app's client secret: `X-Shopify-Hmac-Sha256` is the base64
 * HMAC-SHA256 of the raw request body. Checked on the bytes as received, before anything is parsed,
 * with a constant-time compare. Only the body is signed; the headers (topic, shop, webhook id) are not.
 */
export function verifyShopifyWebhookHmac(rawBody: Buffer, header: string | string[] | undefined, secret: string): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value || !/^[A-Za-z0-9+/]+={0,2}$/.test(value.trim())) return false;
  const received = Buffer.from(value.trim(), 'base64');
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return received.length === expected.length && timingSafeEqual(received, expected);
}
