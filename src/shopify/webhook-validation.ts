import type { IncomingMessage } from 'node:http';
import type { Shopify } from '@shopify/shopify-api';

export type ShopifyWebhookValidation =
  | { valid: true; topic: string; shopDomain: string; webhookId: string; apiVersion: string }
  | { valid: false; reason: 'invalid_hmac' | 'missing_headers'; missingHeaders?: string[] };

/**
 * Verifies a Shopify webhook with `@shopify/shopify-api`'s own validation: the base64 HMAC-SHA256
 * of the raw body with the app's secret (`X-Shopify-Hmac-Sha256`, compared in constant time), then
 * the headers every webhook carries. Only the body is signed: topic, shop and webhook id are checked
 * against the body by the caller.
 */
export class ShopifyWebhookValidator {
  constructor(private readonly api: Shopify) {}

  async validate(rawBody: Buffer, request: IncomingMessage): Promise<ShopifyWebhookValidation> {
    const result = await this.api.webhooks.validate({ rawBody: rawBody.toString('utf8'), rawRequest: shopifyHeadersOnly(request), rawResponse: {} });
    if (!result.valid) {
      return 'missingHeaders' in result && result.reason === 'missing_headers'
        ? { valid: false, reason: 'missing_headers', missingHeaders: result.missingHeaders }
        : { valid: false, reason: 'invalid_hmac' };
    }
    // The library reports the topic in its storage form (APP_UNINSTALLED); the header has Shopify's.
    const header = request.headers['x-shopify-topic'];
    const topic = (Array.isArray(header) ? header[0] : header)?.trim() ?? '';
    return { valid: true, topic, shopDomain: result.domain, webhookId: result.webhookId, apiVersion: result.apiVersion };
  }
}

/** What the library reads of a request (its node adapter: headers, method, URL). */
type RequestView = Pick<IncomingMessage, 'headers' | 'method' | 'url'> & { originalUrl?: string };

/**
 * The request as the library sees it, with only Shopify's headers: `X-Shopify-*` for webhooks,
 * `Shopify-*` for events, the only ones its validation reads. The library canonicalizes every
 * header's name with a regular expression, once per header for each header it looks up (about ten
 * per webhook): with the simulator's 16 headers a validation cost 240–305 µs of CPU, with its 7
 * Shopify headers 165–205 µs (2026-12-02, bench/README-queries.md "Fifteenth round"). Behind a proxy
 * that adds its own headers the saving grows.
 */
export function shopifyHeadersOnly(request: IncomingMessage): RequestView {
  const headers: IncomingMessage['headers'] = {};
  // Node gives header names in lower case.
  for (const name of Object.keys(request.headers)) if (name.startsWith('x-shopify-') || name.startsWith('shopify-')) headers[name] = request.headers[name];
  return { headers, method: request.method, url: request.url, originalUrl: (request as RequestView).originalUrl };
}
