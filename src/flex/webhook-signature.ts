import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Verifies a Flex webhook (Svix format) on the raw request body.
 *
 * Flex's secrets look like "fwhsec_<base64>"; the HMAC key is the base64 after the first "_"
 * (off-the-shelf Svix libraries only strip "whsec_"). The signed content is
 * "{id}.{timestamp}.{raw body}", and the signature header lists "v1,<base64>" entries, any of
 * which may match (Svix sends several during secret rotation).
 *
 * Flex does not document a timestamp tolerance; 5 minutes is the Svix standard (README).
 */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

export type WebhookVerification =
  | { valid: true; deliveryId: string; timestamp: number }
  | { valid: false; reason: 'missing_headers' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature' | 'bad_secret' };

export function verifyFlexWebhook(
  rawBody: Buffer,
  headers: Record<string, string | string[] | undefined>,
  secret: string,
  nowSeconds: number,
): WebhookVerification {
  const header = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  // The unbranded webhook-* names are what Flex's own plugin checks first.
  const id = header('webhook-id') ?? header('svix-id');
  const timestampText = header('webhook-timestamp') ?? header('svix-timestamp');
  const signatures = header('webhook-signature') ?? header('svix-signature');
  if (!id || !timestampText || !signatures) return { valid: false, reason: 'missing_headers' };
  if (!/^\d{1,12}$/.test(timestampText)) return { valid: false, reason: 'bad_timestamp' };
  const timestamp = Number(timestampText);
  if (Math.abs(nowSeconds - timestamp) > WEBHOOK_TOLERANCE_SECONDS) return { valid: false, reason: 'stale_timestamp' };

  const separator = secret.indexOf('_');
  const key = Buffer.from(separator >= 0 ? secret.slice(separator + 1) : secret, 'base64');
  if (key.length === 0) return { valid: false, reason: 'bad_secret' };
  const expected = createHmac('sha256', key).update(`${id}.${timestampText}.`).update(rawBody).digest();

  const matches = signatures.split(' ').some((entry) => {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') return false;
    const candidate = Buffer.from(entry.slice(comma + 1), 'base64');
    return candidate.length === expected.length && timingSafeEqual(candidate, expected);
  });
  return matches ? { valid: true, deliveryId: id, timestamp } : { valid: false, reason: 'bad_signature' };
}
