// Idempotency keys, injected faults and rate limits.
import { FlexSandbox } from '../../../sandbox/flex';
import { FlexTestBed, sleep, type Shop } from './helpers';

const t = new FlexTestBed();
const { call, makeShop, createSession } = t;

describe('idempotency', () => {
  let shop: Shop;
  const body = (shop: Shop, ref: string) => ({
    checkout_session: { line_items: [{ price: shop.plainPrice, quantity: 1 }], success_url: 'https://shop.example/ok', client_reference_id: ref },
  });
  beforeAll(async () => {
    shop = await makeShop({ webhook: false });
  });

  it('replays the stored answer for the same request and does nothing again', async () => {
    const first = await call(shop.key, 'POST', '/v1/checkout/sessions', body(shop, 'idem-1'), { 'idempotency-key': 'k1' });
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // Same body with its keys in another order: canonical JSON makes it the same request.
    const reordered = { checkout_session: { client_reference_id: 'idem-1', success_url: 'https://shop.example/ok', line_items: [{ quantity: 1, price: shop.plainPrice }] } };
    const again = await call(shop.key, 'POST', '/v1/checkout/sessions', reordered, { 'idempotency-key': 'k1' });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    const list = await call(shop.key, 'GET', '/v1/checkout/sessions?client_reference_id=idem-1');
    expect(list.body.checkout_sessions).toHaveLength(1);
    const records = t.flex.requests.filter((r) => r.idempotencyKey === 'k1');
    expect(records.map((r) => [r.status, r.replayed, r.mode])).toEqual([
      [200, false, 'test'],
      [200, true, 'test'],
    ]);
  });

  it('refuses a key reused for a different body or path with 400', async () => {
    await call(shop.key, 'POST', '/v1/checkout/sessions', body(shop, 'idem-2'), { 'idempotency-key': 'k2' });
    const otherBody = await call(shop.key, 'POST', '/v1/checkout/sessions', body(shop, 'idem-2b'), { 'idempotency-key': 'k2' });
    expect(otherBody).toMatchObject({ status: 400, body: { error: { code: 'idempotency_key_reused' } } });
    const otherPath = await call(shop.key, 'POST', '/v1/products', { product: { name: 'x' } }, { 'idempotency-key': 'k2' });
    expect(otherPath).toMatchObject({ status: 400, body: { error: { code: 'idempotency_key_reused' } } });
  });

  it('scopes keys per account and mode', async () => {
    const live = await makeShop({ live: true, webhook: false });
    const other = await makeShop({ webhook: false });
    for (const s of [shop, live, other]) {
      const res = await call(s.key, 'POST', '/v1/checkout/sessions', body(s, 'idem-scope'), { 'idempotency-key': 'shared-key' });
      expect(res.status).toBe(200);
      expect(res.headers.get('idempotent-replayed')).toBeNull();
    }
  });

  it('answers 409 while the first request with the key is still running', async () => {
    // Long enough that the second call arrives while the first is held, however busy the machine.
    t.flex.faults.set({ latencyMs: 2_000 });
    try {
      const [a, b] = await Promise.all([
        call(shop.key, 'POST', '/v1/checkout/sessions', body(shop, 'idem-3'), { 'idempotency-key': 'k3' }),
        sleep(30).then(() => call(shop.key, 'POST', '/v1/checkout/sessions', body(shop, 'idem-3'), { 'idempotency-key': 'k3' })),
      ]);
      expect(a.status).toBe(200);
      expect(b).toMatchObject({ status: 409, body: { error: { code: 'idempotency_request_in_progress' } } });
    } finally {
      t.flex.faults.set({ latencyMs: 0 });
    }
    const c = await call(shop.key, 'POST', '/v1/checkout/sessions', body(shop, 'idem-3'), { 'idempotency-key': 'k3' });
    expect(c.headers.get('idempotent-replayed')).toBe('true');
  });

  it('does not store validation failures, so a corrected request can use the key', async () => {
    const bad = await call(shop.key, 'POST', '/v1/checkout/sessions', { checkout_session: { line_items: [] } }, { 'idempotency-key': 'k4' });
    expect(bad.status).toBe(422);
    const good = await call(shop.key, 'POST', '/v1/checkout/sessions', body(shop, 'idem-4'), { 'idempotency-key': 'k4' });
    expect(good.status).toBe(200);
  });
});

describe('faults', () => {
  let shop: Shop;
  const refundOnce = (id: string, key: string) =>
    call(shop.key, 'POST', `/v1/checkout/sessions/${id}/refund`, { checkout_session: { amount: 500 } }, { 'idempotency-key': key });
  beforeAll(async () => {
    shop = await makeShop({ webhook: false });
  });
  const paidSession = async () => {
    const session = await createSession(shop);
    t.flex.pay(session.checkout_session_id, 'hsa_fsa');
    return session.checkout_session_id as string;
  };

  it('before: fails without doing the work; the retry does it', async () => {
    const id = await paidSession();
    t.flex.faults.failNext({ path: 'POST /v1/checkout/sessions/:id/refund', status: 503 });
    const failed = await refundOnce(id, 'f-before');
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('1');
    expect(t.flex.refunds({ checkoutSessionId: id })).toHaveLength(0);
    const retry = await refundOnce(id, 'f-before');
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(t.flex.refunds({ checkoutSessionId: id })).toHaveLength(1);
  });

  it('after: does the work, answers the error, and the retry replays the real result', async () => {
    const id = await paidSession();
    t.flex.faults.failNext({ method: 'POST', path: `/v1/checkout/sessions/${id}/refund`, when: 'after' });
    const failed = await refundOnce(id, 'f-after');
    expect(failed.status).toBe(500);
    expect(t.flex.refunds({ checkoutSessionId: id })).toHaveLength(1);
    const retry = await refundOnce(id, 'f-after');
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.refunds[0].refund_id).toBe(t.flex.refunds({ checkoutSessionId: id })[0].refund_id);
    expect(t.flex.requests.filter((r) => r.idempotencyKey === 'f-after').map((r) => [r.status, r.fault, r.replayed])).toEqual([
      [500, 'after', false],
      [200, null, true],
    ]);
  });

  it('hang: never answers; after the work is done the retry replays it', async () => {
    const id = await paidSession();
    t.flex.faults.failNext({ path: /\/refund$/, when: 'after', hang: true });
    await expect(
      fetch(`${t.flex.url}/v1/checkout/sessions/${id}/refund`, {
        method: 'POST',
        headers: { authorization: `Bearer ${shop.key}`, 'content-type': 'application/json', 'idempotency-key': 'f-hang' },
        body: JSON.stringify({ checkout_session: { amount: 500 } }),
        signal: AbortSignal.timeout(150),
      }),
    ).rejects.toThrow();
    expect(t.flex.refunds({ checkoutSessionId: id })).toHaveLength(1);
    const retry = await refundOnce(id, 'f-hang');
    expect(retry.headers.get('idempotent-replayed')).toBe('true');

    t.flex.faults.failNext({ path: '/v1/checkout/sessions/:id', hang: true });
    await expect(
      fetch(`${t.flex.url}/v1/checkout/sessions/${id}`, { headers: { authorization: `Bearer ${shop.key}` }, signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    expect(t.flex.requests.at(-1)).toMatchObject({ status: null, fault: 'hang', route: '/v1/checkout/sessions/:id' });
  });

  it('errorRate fails API calls but never the control API or the hosted page', async () => {
    const session = await createSession(shop);
    t.flex.faults.set({ errorRate: 1 });
    expect((await call(shop.key, 'GET', '/v1/products')).status).toBe(500);
    expect((await fetch(session.redirect_url)).status).toBe(200);
    expect((await fetch(`${t.flex.url}/__sandbox/state`)).status).toBe(200);
    t.flex.faults.set({ errorRate: 0 });
    expect((await call(shop.key, 'GET', '/v1/products')).status).toBe(200);
  });

  it('can be set over HTTP', async () => {
    const failNext = await fetch(`${t.flex.url}/__sandbox/faults/fail-next`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: 'GET /v1/products', status: 429, times: 2 }),
    });
    expect(failNext.status).toBe(200);
    expect((await call(shop.key, 'GET', '/v1/products')).status).toBe(429);
    expect((await call(shop.key, 'GET', '/v1/products')).status).toBe(429);
    expect((await call(shop.key, 'GET', '/v1/products')).status).toBe(200);
    const bad = await fetch(`${t.flex.url}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 2 }),
    });
    expect(bad.status).toBe(400);
  });
});

describe('rate limits', () => {
  /** A client that waits out `Retry-After` on 429, as the app's sync and reconciler must. */
  const politely = async <R extends { status: number; headers: Headers }>(send: () => Promise<R>): Promise<{ res: R; waited: number }> => {
    let waited = 0;
    for (;;) {
      const res = await send();
      if (res.status !== 429) return { res, waited };
      const seconds = Number(res.headers.get('retry-after'));
      expect(seconds).toBeGreaterThanOrEqual(1);
      waited++;
      await sleep(seconds * 1000);
    }
  };

  it('answers 429 with Retry-After over the limit, doing nothing and keeping the idempotency key free', async () => {
    // One token a second: the calls below must use up the bucket faster than it refills, which holds
    // on a busy machine too (at 50 a second a slow call refilled it, and nothing was ever limited).
    const limited = await new FlexSandbox({ rateLimit: { requestsPerSecond: 1, burst: 2 } }).start();
    try {
      const account = limited.createAccount();
      const post = (key: string, name: string, idempotencyKey: string) =>
        fetch(`${limited.url}/v1/products`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
          body: JSON.stringify({ product: { name } }),
        });
      expect((await post(account.testKey, 'A', 'a')).status).toBe(200);
      expect((await post(account.testKey, 'B', 'b')).status).toBe(200);
      const refused = await post(account.testKey, 'C', 'c');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(await refused.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('retry after 1 s') } });
      expect(limited.requests.at(-1)).toMatchObject({ status: 429, rateLimited: true, fault: null, idempotencyKey: 'c', mode: 'test' });
      // A limited call uses up no fault rule either: the next call that gets through meets it.
      limited.faults.failNext({ path: 'POST /v1/products', status: 503 });
      expect((await post(account.testKey, 'D', 'd')).status).toBe(429);
      expect(limited.summary()).toMatchObject({ accounts: [{ test: { products: 2 } }] });
      // Live mode and other accounts have buckets of their own.
      expect((await post(account.liveKey, 'Live', 'c')).status).toBe(503);
      expect((await post(limited.createAccount().testKey, 'Other', 'c')).status).toBe(200);
      // The key was not stored: once a token is back, the retry does the work.
      await sleep(1_100);
      const retry = await post(account.testKey, 'C', 'c');
      expect(retry.status).toBe(200);
      expect(retry.headers.get('idempotent-replayed')).toBeNull();
      // faults.reset() comes back to the constructor's limit, not to none.
      limited.faults.reset();
      expect(limited.faults.settings.rateLimit).toEqual({ requestsPerSecond: 1, burst: 2 });
    } finally {
      await limited.stop();
    }
  });

  it('can be switched on and off at run time, and a client that honours Retry-After gets through', async () => {
    const { testKey: key } = t.flex.createAccount();
    // One token a second (see above): six calls meet the limit however slowly the machine runs them.
    const set = await t.control('POST', '/faults', { rateLimit: { requestsPerSecond: 1, burst: 4 } });
    expect(set.body.rateLimit).toEqual({ requestsPerSecond: 1, burst: 4 });
    expect((await t.control('POST', '/faults', { rateLimit: { requestsPerSecond: 0 } })).status).toBe(400);
    const started = t.flex.requests.length;
    let retries = 0;
    for (let i = 0; i < 6; i++) {
      const { res, waited } = await politely(() => call(key, 'POST', '/v1/products', { product: { name: `Item ${i}` } }, { 'idempotency-key': `sync-${i}` }));
      expect(res.status).toBe(200);
      retries += waited;
    }
    expect(retries).toBeGreaterThanOrEqual(1);
    const records = t.flex.requests.slice(started);
    expect(records.filter((r) => r.rateLimited).every((r) => r.status === 429)).toBe(true);
    const listed = await politely(() => call(key, 'GET', '/v1/products?limit=100'));
    expect(listed.res.body.products).toHaveLength(6);
    // The control API and the hosted page are never limited.
    for (let i = 0; i < 10; i++) expect((await t.control('GET', '/state')).status).toBe(200);
    t.flex.faults.set({ rateLimit: null });
    for (let i = 0; i < 10; i++) expect((await call(key, 'GET', '/v1/products')).status).toBe(200);
  });
});
