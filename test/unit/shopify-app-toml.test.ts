import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SHOPIFY_API_VERSION } from '../../src/config';
import { SHOPIFY_WEBHOOK_TOPICS } from '../../src/merchant/shopify-webhooks/handle-shopify-webhook';
import { ORDER_WEBHOOK_TOPICS } from '../../src/orders/order-webhooks';
import { ADMIN_API_SCOPES } from '../../src/shopify/access-scopes';
import { OAUTH_CALLBACK_PATH } from '../../src/shopify/oauth';

/** shopify.app.toml must describe the app as the code serves it. */
describe('shopify.app.toml', () => {
  const toml = readFileSync(path.resolve(__dirname, '../../shopify.app.toml'), 'utf8');
  const value = (key: string) => new RegExp(`^\\s*${key}\\s*=\\s*(.+)$`, 'm').exec(toml)?.[1]?.trim();

  it('is a non-embedded app with a client id, application URL and the OAuth callback', () => {
    expect(value('client_id')).toMatch(/^"[^"]+"$/);
    expect(value('name')).toMatch(/^".{1,30}"$/);
    expect(value('handle')).toMatch(/^"[a-z0-9-]+"$/);
    const appUrl = JSON.parse(value('application_url')!) as string;
    expect(appUrl).toMatch(/^https:\/\//);
    expect(toml).toMatch(/^embedded = false$/m);
    expect(toml).toMatch(/\[pos\]\s*\nembedded = false/);
    const redirects = JSON.parse(value('redirect_urls')!) as string[];
    expect(redirects).toEqual([`${new URL(appUrl).origin}${OAUTH_CALLBACK_PATH}`]);
    const scopes = JSON.parse(/\[access_scopes\][^[]*?\nscopes = ("[^"]*")/.exec(toml)![1]!) as string;
    expect(scopes.split(',')).toEqual([...ADMIN_API_SCOPES]);
    expect(toml).toMatch(/\[build\]/);
  });

  it('subscribes to uninstall, the checkout, order, refund and products topics and the compliance topics at the routes the app serves', () => {
    const compliance = new Set(['customers/data_request', 'customers/redact', 'shop/redact']);
    expect(JSON.parse(value('api_version')!)).toBe(DEFAULT_SHOPIFY_API_VERSION);
    const subscriptions = [...toml.matchAll(/(compliance_topics|topics) = \["([^"]+)"\]\s*\n\s*uri = "([^"]+)"/g)].map((m) => ({ kind: m[1], topic: m[2], uri: m[3] }));
    expect(subscriptions.map((s) => s.topic).sort()).toEqual([...SHOPIFY_WEBHOOK_TOPICS, ...ORDER_WEBHOOK_TOPICS].sort());
    for (const s of subscriptions) {
      expect(s.uri).toBe(`/webhooks/shopify/${s.topic}`);
      expect(s.kind).toBe(compliance.has(s.topic!) ? 'compliance_topics' : 'topics');
    }
  });
});
