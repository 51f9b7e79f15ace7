import type { AppMetrics } from '../lib/metrics';
import type { Secret } from '../lib/secret';
import { shopifyGraphql, type GraphqlOutcome } from './graphql-transport';
import { shopifyUrl } from './shopify-url';

export interface WebPixelSettings {
  shopKey: string;
  endpoint: string;
}

/**
 * - active: the app's pixel exists on the shop with these settings;
 * - retry: transient (network, throttling, 5xx, a token being replaced);
 * - failed: Shopify refused for good (missing scope, no pixel extension deployed, bad settings).
 */
export type WebPixelOutcome = { kind: 'active'; webPixelId: string } | { kind: 'retry'; reason: string; retryAfterMs?: number } | { kind: 'failed'; reason: string };

interface PixelPayload {
  webPixel?: { id: string } | null;
  userErrors?: Array<{ code?: string | null; message: string }>;
}

const CREATE = `mutation ActivateFlexCartPixel($webPixel: WebPixelInput!) {
  webPixelCreate(webPixel: $webPixel) { userErrors { code field message } webPixel { id } }
}`;
const UPDATE = `mutation UpdateFlexCartPixel($id: ID!, $webPixel: WebPixelInput!) {
  webPixelUpdate(id: $id, webPixel: $webPixel) { userErrors { code field message } webPixel { id } }
}`;
const FIND = 'query FlexCartPixel { webPixel { id } }';

/**
 * The app's web pixel on a shop (Admin GraphQL `webPixelCreate` / `webPixelUpdate`): activates the
 * extension in extensions/flex-cart-pixel with the shop's settings. One pixel per app and shop, so
 * a create that finds one (`TAKEN`) updates that one instead.
 */
export class ShopifyWebPixels {
  constructor(private readonly options: { apiVersion: string; apiOrigin: string | undefined; timeoutMs: number; fetch?: typeof fetch; metrics?: AppMetrics }) {}

  async activate(shopDomain: string, accessToken: Secret, settings: WebPixelSettings, knownId: string | null): Promise<WebPixelOutcome> {
    const webPixel = { settings: JSON.stringify(settings) };
    if (knownId) {
      const updated = await this.mutate(shopDomain, accessToken, UPDATE, { id: knownId, webPixel }, 'webPixelUpdate');
      if (updated.kind !== 'user_errors' || !updated.codes.includes('NOT_FOUND')) return settle(updated);
    }
    const created = await this.mutate(shopDomain, accessToken, CREATE, { webPixel }, 'webPixelCreate');
    if (created.kind !== 'user_errors' || !created.codes.includes('TAKEN')) return settle(created);
    const found = await this.call(shopDomain, accessToken, FIND, {});
    if (found.kind !== 'data') return found;
    const id = (found.data.webPixel as { id?: string } | null)?.id;
    if (!id) return { kind: 'retry', reason: 'Shopify says the pixel exists but did not return it' };
    return settle(await this.mutate(shopDomain, accessToken, UPDATE, { id, webPixel }, 'webPixelUpdate'));
  }

  private async mutate(
    shopDomain: string,
    accessToken: Secret,
    document: string,
    variables: Record<string, unknown>,
    field: 'webPixelCreate' | 'webPixelUpdate',
  ): Promise<WebPixelOutcome | { kind: 'user_errors'; codes: string[]; reason: string }> {
    const outcome = await this.call(shopDomain, accessToken, document, variables);
    if (outcome.kind !== 'data') return outcome;
    const payload = outcome.data[field] as PixelPayload | null | undefined;
    const errors = payload?.userErrors ?? [];
    if (errors.length > 0) return { kind: 'user_errors', codes: errors.map((e) => e.code ?? ''), reason: `${field}: ${errors.map((e) => `${e.code ?? ''} ${e.message}`.trim()).join('; ')}` };
    if (!payload?.webPixel?.id) return { kind: 'retry', reason: `${field} returned no pixel` };
    return { kind: 'active', webPixelId: payload.webPixel.id };
  }

  private async call(shopDomain: string, accessToken: Secret, document: string, variables: Record<string, unknown>): Promise<GraphqlOutcome> {
    return shopifyGraphql({
      metrics: this.options.metrics,
      url: shopifyUrl(shopDomain, `/admin/api/${this.options.apiVersion}/graphql.json`, this.options.apiOrigin),
      accessToken,
      document,
      variables,
      timeoutMs: this.options.timeoutMs,
      fetch: this.options.fetch,
    });
  }
}

function settle(outcome: WebPixelOutcome | { kind: 'user_errors'; codes: string[]; reason: string } | Exclude<GraphqlOutcome, { kind: 'data' }>): WebPixelOutcome {
  if (outcome.kind === 'user_errors') return { kind: 'failed', reason: outcome.reason };
  return outcome;
}
