import { Webhook, WebhookVerificationError } from 'svix';

/**
 * Verifies a Flex webhook, which is in Svix's format, with the `svix` package on the raw request
 * body: "{id}.{timestamp}.{body}" signed with HMAC-SHA256, any of the space-separated `v1,…`
 * signatures may match (several during secret rotation), compared in constant time, and the
 * timestamp must be within Svix's 5 minutes of now (Flex states no tolerance of its own; README).
 *
 * Flex's secrets look like "fwhsec_<base64>": the key is the base64 after the first "_", and the
 * package only strips "whsec_", so the prefix is removed here.
 */

export type WebhookVerification =
  | { valid: true; deliveryId: string }
  | { valid: false; reason: 'missing_headers' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature' | 'bad_secret' };

export function verifyFlexWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>, secret: string): WebhookVerification {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) flat[name.toLowerCase()] = first;
  }
  const separator = secret.indexOf('_');
  const key = separator >= 0 ? secret.slice(separator + 1) : secret;
  let webhook: Webhook;
  try {
    if (Buffer.from(key, 'base64').length === 0) return { valid: false, reason: 'bad_secret' };
    webhook = new Webhook(key);
  } catch {
    return { valid: false, reason: 'bad_secret' };
  }
  try {
    // The package returns the parsed body; the caller parses it again to tell a bad body (400) apart.
    webhook.verify(rawBody, flat);
  } catch (error) {
    if (error instanceof SyntaxError) return { valid: true, deliveryId: flat['svix-id'] ?? flat['webhook-id']! };
    if (!(error instanceof WebhookVerificationError)) throw error;
    return { valid: false, reason: reasonOf(error.message) };
  }
  return { valid: true, deliveryId: flat['svix-id'] ?? flat['webhook-id']! };
}

function reasonOf(message: string): Exclude<WebhookVerification, { valid: true }>['reason'] {
  if (message === 'Missing required headers') return 'missing_headers';
  if (message === 'Invalid Signature Headers') return 'bad_timestamp';
  if (message.startsWith('Message timestamp too')) return 'stale_timestamp';
  return 'bad_signature';
}
