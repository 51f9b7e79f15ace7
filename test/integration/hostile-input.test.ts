import { createHmac } from 'node:crypto';
import { PROXY_AUTH_HEADER } from '../../src/http/session-route-auth';
import { startCheckout } from '../support/buyer';
import { useHarness } from '../support/harness';

/**
 * Every public route, fed hostile input (issue 9.9): deeply nested and huge JSON, bytes that are not
 * UTF-8, NUL characters, prototype keys, wrong types and random garbage. Each answer is a 4xx, never
 * a 5xx, and nothing is stored. Signed webhooks get the same treatment: a body Shopify or Flex signed
 * must still be bounded before it is parsed or stored. (A signed Shopify webhook whose body is valid
 * JSON but not its topic's payload is acknowledged and its refusal recorded, so Shopify stops
 * retrying: shopify-webhooks.test.ts.) The garbage is pseudo-random with a fixed seed, so a failure
 * can be reproduced.
 */
describe('hostile input on every public route', () => {
  const { h, shop } = useHarness();

  function random(seed: number) {
    let state = seed;
    return () => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state / 0x7fffffff;
    };
  }
  const next = random(20261130);
  const garbage = (length: number) => Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)));
  const deep = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;
  const deepObject = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

  /** Bodies that are not JSON a parser can take safely (too deep, too big, not JSON, not UTF-8, NUL). */
  const MALFORMED = new Set(['deeply nested arrays', 'deeply nested objects', 'moderately nested (past the bound)', 'a huge body', 'bytes that are not UTF-8', 'a NUL character', 'a raw NUL byte', 'empty', 'truncated JSON']);
  const bodies: Array<[string, Buffer | string]> = [
    ['deeply nested arrays', deep(50_000)],
    ['deeply nested objects', deepObject(5_000)],
    ['moderately nested (past the bound)', deepObject(40)],
    ['a huge body', `{"id":"${'x'.repeat(2 * 1024 * 1024)}"}`],
    ['bytes that are not UTF-8', garbage(512)],
    ['a NUL character', '{"id":"a\\u0000b","amount":"1.00"}'],
    ['a raw NUL byte', Buffer.from('{"id":"a\u0000b"}')],
    ['prototype keys', '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'],
    ['an array', '[1,2,3]'],
    ['a bare string', '"hello"'],
    ['a bare number', '1e309'],
    ['null', 'null'],
    ['empty', ''],
    ['truncated JSON', '{"id": "abc", "amount": '],
    ['wrong types everywhere', '{"id":1,"gid":[],"amount":{},"currency":true,"test":"yes","payment_method":"offsite","kind":7}'],
    ['huge numbers and strings', `{"id":"${'9'.repeat(10_000)}","amount":"${'9'.repeat(400)}.00","currency":"USD"}`],
    ...Array.from({ length: 8 }, (_v, i): [string, Buffer] => [`random bytes #${i + 1}`, garbage(1 + Math.floor(next() * 4000))]),
  ];

  const sessionHeaders = () => ({ 'content-type': 'application/json', 'shopify-shop-domain': shop.domain, 'shopify-api-version': '2026-10', [PROXY_AUTH_HEADER]: '' });
  const routes = () => {
    const secret = (h.flex.webhookEndpoints({ accountId: shop.flexAccountId, testMode: false }) as Array<{ signing_secret: string }>)[0]!.signing_secret;
    const flexSign = (body: Buffer) => {
      const id = `msg_${Math.floor(next() * 1e9)}`;
      const ts = String(Math.floor(Date.now() / 1000));
      const key = Buffer.from(secret.slice(secret.indexOf('_') + 1), 'base64');
      return { 'svix-id': id, 'svix-timestamp': ts, 'svix-signature': `v1,${createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest('base64')}` };
    };
    const shopifySign = (body: Buffer, topic: string) => ({
      'x-shopify-hmac-sha256': createHmac('sha256', 'test-api-secret').update(body).digest('base64'),
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': shop.domain,
      'x-shopify-api-version': '2026-10',
      'x-shopify-webhook-id': `wh-${Math.floor(next() * 1e9)}`,
    });
    const sessions = h.app.servers.sessionsUrl!;
    return [
      { name: 'POST /payments/sessions', url: `${sessions}/payments/sessions`, headers: () => sessionHeaders() },
      { name: 'POST /payments/refunds', url: `${sessions}/payments/refunds`, headers: () => sessionHeaders() },
      { name: 'POST /payments/captures', url: `${sessions}/payments/captures`, headers: () => sessionHeaders() },
      { name: 'POST /payments/voids', url: `${sessions}/payments/voids`, headers: () => sessionHeaders() },
      { name: 'POST /webhooks/flex (unsigned)', url: `${h.appUrl}/webhooks/flex?shop=${shop.domain}&mode=live`, headers: () => ({ 'content-type': 'application/json' }) },
      { name: 'POST /webhooks/flex (signed)', url: `${h.appUrl}/webhooks/flex?shop=${shop.domain}&mode=live`, headers: (body: Buffer) => ({ 'content-type': 'application/json', ...flexSign(body) }) },
      { name: 'POST /webhooks/shopify (unsigned)', url: `${h.appUrl}/webhooks/shopify/customers/redact`, headers: () => ({ 'content-type': 'application/json' }) },
      { name: 'POST /webhooks/shopify (signed)', url: `${h.appUrl}/webhooks/shopify/customers/redact`, headers: (body: Buffer) => ({ 'content-type': 'application/json', ...shopifySign(body, 'customers/redact') }), malformedOnly: true },
      { name: 'POST /settings/connect (no session)', url: `${h.appUrl}/settings/connect`, headers: () => ({ 'content-type': 'application/x-www-form-urlencoded' }) },
      // Public and unauthenticated: the cart pixel posts text/plain, cross-origin, without credentials.
      { name: 'POST /pixel/checkout', url: `${h.appUrl}/pixel/checkout`, headers: () => ({ 'content-type': 'text/plain', origin: 'null' }) },
    ];
  };

  it('answers every hostile body on every POST route with a 4xx and stores nothing', async () => {
    // A real payment first, so that refunds and captures have something to aim at.
    await startCheckout(h, shop, { amount: '12.00' });
    const before = await h.storedState();
    // The session routes are behind the proxy's secret: fuzz them as the proxy would let them through.
    const proxySecret = (h.config.sessionAuth as { secret: string }).secret;
    const failures: string[] = [];
    for (const route of routes()) {
      for (const [label, body] of bodies) {
        if ('malformedOnly' in route && !MALFORMED.has(label) && !label.startsWith('random bytes')) continue;
        const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
        const headers: Record<string, string> = { ...route.headers(bytes) };
        if (PROXY_AUTH_HEADER in headers) headers[PROXY_AUTH_HEADER] = proxySecret;
        const res = await fetch(route.url, { method: 'POST', headers, body: new Uint8Array(bytes) });
        await res.arrayBuffer();
        if (res.status < 400 || res.status >= 500) failures.push(`${route.name} with ${label}: HTTP ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
    expect(await h.storedState()).toEqual(before);
  });

  it('bounds depth and refuses NUL characters inside otherwise valid requests and signed events, before storing', async () => {
    const before = await h.storedState();
    const proxySecret = (h.config.sessionAuth as { secret: string }).secret;
    const id = `hostile${Date.now()}`;
    const valid = {
      id,
      gid: `gid://shopify/PaymentSession/${id}`,
      group: 'g',
      amount: '10.00',
      currency: 'USD',
      test: false,
      kind: 'sale',
      payment_method: { type: 'offsite', data: { cancel_url: 'https://shop.example/checkouts/cn/x' } },
    };
    const sessions = [
      JSON.stringify({ ...valid, customer: { email: 'buyer\u0000@example.com' } }).replace('\\u0000', '\u0000'),
      JSON.stringify(valid).replace(/}$/, `,"extra":${deepObject(3_000)}}`),
    ];
    for (const body of sessions) {
      const res = await fetch(`${h.app.servers.sessionsUrl}/payments/sessions`, { method: 'POST', headers: { ...sessionHeaders(), [PROXY_AUTH_HEADER]: proxySecret }, body });
      expect(res.status).toBe(400);
    }
    const secret = (h.flex.webhookEndpoints({ accountId: shop.flexAccountId, testMode: false }) as Array<{ signing_secret: string }>)[0]!.signing_secret;
    const key = Buffer.from(secret.slice(secret.indexOf('_') + 1), 'base64');
    for (const body of [
      '{"event_id":"evt_1","event_type":"checkout.session.completed","object":{"checkout_session":{"checkout_session_id":"fcs_x","status":"complete","note":"a\u0000b"}}}',
      `{"event_id":"evt_2","event_type":"checkout.session.completed","object":{"checkout_session":{"checkout_session_id":"fcs_x","status":"complete","extra":${deepObject(3_000)}}}}`,
    ]) {
      const ts = String(Math.floor(Date.now() / 1000));
      const signature = `v1,${createHmac('sha256', key).update(`msg_h.${ts}.${body}`).digest('base64')}`;
      const res = await fetch(`${h.appUrl}/webhooks/flex?shop=${shop.domain}&mode=live`, { method: 'POST', headers: { 'content-type': 'application/json', 'svix-id': 'msg_h', 'svix-timestamp': ts, 'svix-signature': signature }, body });
      expect(res.status).toBe(400);
    }
    expect(await h.storedState()).toEqual(before);
  });

  it('answers hostile paths and query strings on every GET route with a 4xx or a page, never a 5xx, and stores nothing', async () => {
    const before = await h.storedState();
    const junk = ['x', '..%2f..%2fetc%2fpasswd', '%00', 'a'.repeat(5000), '00000000-0000-0000-0000-000000000000', "'; DROP TABLE \"Shop\"; --", '%E0%A4%A'];
    const failures: string[] = [];
    for (const id of junk) {
      for (const path of [`/pay/${id}`, `/payments/return/${id}`, `/payments/cancel/${id}`, `/settings/data-requests/${id}`, `/?shop=${id}&hmac=${id}&timestamp=1`, `/auth?shop=${id}`, `/auth/callback?shop=${id}&state=${id}&code=${id}&hmac=${id}`]) {
        const res = await fetch(`${h.appUrl}${path}`, { redirect: 'manual' });
        await res.arrayBuffer();
        if (res.status >= 500) failures.push(`GET ${path.slice(0, 80)}: HTTP ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
    expect(await h.storedState()).toEqual(before);
  });
});
