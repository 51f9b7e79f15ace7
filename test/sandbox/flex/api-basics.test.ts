// Auth, modes, validation and the control API over HTTP.
import { FlexSandbox, type FlexAccount } from '../../../sandbox/flex';
import { FlexTestBed, type Json, type Shop } from './helpers';

const t = new FlexTestBed();
const { call, makeShop, createSession } = t;

describe('auth and modes', () => {
  it('refuses missing, unknown and revoked keys with 401', async () => {
    const account = t.flex.createAccount();
    const expected = { error: { code: 'unauthorized', message: 'Invalid API key' } };
    expect(await call(undefined, 'GET', '/v1/products')).toMatchObject({ status: 401, body: expected });
    expect(await call('fsk_test_nope', 'GET', '/v1/products')).toMatchObject({ status: 401, body: expected });
    expect((await call(account.testKey, 'GET', '/v1/products')).status).toBe(200);
    t.flex.revokeKey(account.testKey);
    expect(await call(account.testKey, 'GET', '/v1/products')).toMatchObject({ status: 401, body: expected });
    expect((await call(account.liveKey, 'GET', '/v1/products')).status).toBe(200);
  });

  it('keeps live and test objects, and accounts, apart', async () => {
    const shop = await makeShop({ webhook: false });
    expect(shop.account.liveKey).toMatch(/^fsk_(?!test_)/);
    expect(shop.account.testKey).toMatch(/^fsk_test_/);
    const session = await createSession(shop);
    expect(session.test_mode).toBe(true);
    expect(session.checkout_session_id).toMatch(/^fcs_/);

    const live = await call(shop.account.liveKey, 'GET', `/v1/checkout/sessions/${session.checkout_session_id}`);
    expect(live).toMatchObject({ status: 404, body: { detail: 'not_found' } });
    const other = t.flex.createAccount();
    const foreign = await call(other.testKey, 'GET', `/v1/checkout/sessions/${session.checkout_session_id}`);
    expect(foreign).toMatchObject({ status: 404, body: { detail: 'not_found' } });
    // A test-mode price cannot be used in live mode either.
    const liveCreate = await call(shop.account.liveKey, 'POST', '/v1/checkout/sessions', {
      checkout_session: { line_items: [{ price: shop.eligiblePrice, quantity: 1 }], success_url: 'https://shop.example/ok' },
    });
    expect(liveCreate.status).toBe(422);
    expect(liveCreate.body.detail[0]).toEqual({ loc: ['price'], msg: 'price_not_found: One or more prices are not valid', type: 'price_not_found' });

    const liveShop = await makeShop({ live: true, webhook: false });
    const liveSession = await createSession(liveShop);
    expect(liveSession.test_mode).toBe(false);
  });
});

describe('validation', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await makeShop({ webhook: false });
  });

  it('answers 422 in the FastAPI shape', async () => {
    const res = await call(shop.key, 'POST', '/v1/checkout/sessions', { checkout_session: { success_url: 'nope', capture_method: 'later' } });
    expect(res.status).toBe(422);
    const byLoc = Object.fromEntries(res.body.detail.map((d: Json) => [d.loc.join('.'), d.type]));
    expect(byLoc).toEqual({
      'checkout_session.line_items': 'missing',
      'checkout_session.success_url': 'url_parsing',
      'checkout_session.capture_method': 'enum',
    });
    const noEnvelope = await call(shop.key, 'POST', '/v1/checkout/sessions', { line_items: [] });
    expect(noEnvelope.body.detail).toEqual([{ loc: ['checkout_session'], msg: 'Field required', type: 'missing' }]);
    const stringAmount = await call(shop.key, 'POST', '/v1/prices', { price: { product: 'fprod_x', unit_amount: '100' } });
    expect(stringAmount.body.detail.map((d: Json) => d.type).sort()).toEqual(['int_type', 'product_not_found']);
  });

  it('answers 400 for malformed JSON, 404 for unknown routes and objects', async () => {
    const bad = await call(shop.key, 'POST', '/v1/checkout/sessions', '{"checkout_session":');
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    expect(await call(shop.key, 'GET', '/v1/nothing-here')).toMatchObject({ status: 404, body: { detail: 'Not Found' } });
    expect(await call(shop.key, 'GET', '/v1/refunds/fre_missing')).toMatchObject({ status: 404, body: { detail: 'not_found' } });
  });

  it('refuses totals below the minimum and unknown coupons', async () => {
    const cheap = await call(shop.key, 'POST', '/v1/checkout/sessions', {
      checkout_session: {
        line_items: [{ price: shop.plainPrice, quantity: 1 }],
        success_url: 'https://shop.example/ok',
        discounts: [{ coupon_data: { name: 'all', amount_off: 1490 } }],
      },
    });
    expect(cheap.status).toBe(422);
    expect(cheap.body.detail[0].type).toBe('checkout_amount_too_low');
    const zeroCoupon = await call(shop.key, 'POST', '/v1/checkout/sessions', {
      checkout_session: {
        line_items: [{ price: shop.plainPrice, quantity: 1 }],
        success_url: 'https://shop.example/ok',
        discounts: [{ coupon_data: { amount_off: 0 } }],
      },
    });
    expect(zeroCoupon.body.detail[0].type).toBe('coupon_amount_must_be_positive');
  });
});

describe('control API over HTTP', () => {
  const post = (path: string, body: Json = {}) =>
    fetch(`${t.flex.url}/__sandbox${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('creates accounts, pays, advances the clock and reports state', async () => {
    const created = await post('/accounts', { name: 'HTTP Store' });
    expect(created.status).toBe(200);
    const account = (await created.json()) as FlexAccount;
    expect(account).toMatchObject({ name: 'HTTP Store', liveKey: expect.stringMatching(/^fsk_/), testKey: expect.stringMatching(/^fsk_test_/) });
    const shop: Shop = { account, key: account.testKey, eligiblePrice: '', plainPrice: '', secret: '' };
    const product = await call(shop.key, 'POST', '/v1/products', { product: { name: 'Gauze' } });
    shop.plainPrice = (await call(shop.key, 'POST', '/v1/prices', { price: { product: product.body.product.product_id, unit_amount: 700 } })).body.price.price_id;
    shop.eligiblePrice = shop.plainPrice;
    const session = await createSession(shop);

    const paid = await post(`/checkout-sessions/${session.checkout_session_id}/pay`, { type: 'split', hsaFsaAmount: 700 });
    expect(paid.status).toBe(200);
    const result = (await paid.json()) as Json;
    expect(result.redirectTo).toBe(`https://shop.example/thanks?cs=${session.checkout_session_id}`);
    expect(result.checkoutSession.status).toBe('complete');
    const twice = await post(`/checkout-sessions/${session.checkout_session_id}/pay`, { type: 'hsa_fsa' });
    expect(twice.status).toBe(409);
    expect((await post('/checkout-sessions/fcs_nope/pay', { type: 'hsa_fsa' })).status).toBe(404);

    const before = t.flex.now();
    const advanced = (await (await post('/clock/advance', { seconds: 120 })).json()) as Json;
    expect(advanced.now - before).toBeGreaterThanOrEqual(120);

    const state = (await (await fetch(`${t.flex.url}/__sandbox/state`)).json()) as Json;
    const mine = state.accounts.find((a: Json) => a.accountId === account.accountId);
    expect(mine.test).toMatchObject({ products: 1, prices: 1, checkoutSessions: 1 });
    const malformed = await fetch(`${t.flex.url}/__sandbox/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(malformed.status).toBe(400);
  });

  it('serves a developer dashboard listing accounts and keys', async () => {
    const account = t.flex.createAccount({ name: 'Dashboard <Store>' });
    const html = await (await fetch(`${t.flex.url}/`)).text();
    expect(html).toContain('Dashboard &lt;Store&gt;');
    expect(html).toContain(account.testKey);
    expect((await fetch(`${t.flex.url}/__sandbox`)).headers.get('content-type')).toMatch(/text\/html/);
  });
});

describe('state of the money settings', () => {
  it('reports fees, payout schedule, rate limit and ledger counts, and changes them over HTTP', async () => {
    const account = t.flex.createAccount({ name: 'Summary Store' });
    const state = (await t.control('GET', '/state')).body;
    expect(state.fees).toEqual({ transactionPercent: 2.9, transactionFixed: 30, interchangePercent: 0, letterFee: 500, hsaFsa: {} });
    expect(state.payoutSchedule).toEqual({ availableAfterDays: 2, arrivalAfterDays: 1, automatic: true });
    expect(state.faults.rateLimit).toBeNull();
    expect(state.accounts.find((a: Json) => a.accountId === account.accountId).test).toMatchObject({ balanceTransactions: 0, payouts: 0 });
    expect((await t.control('GET', '/fees')).body).toEqual(state.fees);
    expect((await t.control('POST', '/payout-schedule', { arrivalAfterDays: 2 })).body).toEqual({ availableAfterDays: 2, arrivalAfterDays: 2, automatic: true });
    expect((await t.control('POST', '/payout-schedule', { availableAfterDays: 1.5 })).status).toBe(400);
    expect((await t.control('GET', '/payout-schedule')).body.arrivalAfterDays).toBe(2);
    expect(() => new FlexSandbox({ payouts: { arrivalAfterDays: -1 } })).toThrow(/arrivalAfterDays/);
    // Every request record says whether the rate limit refused it.
    await call(account.testKey, 'GET', '/v1/payouts');
    expect(t.flex.requests.at(-1)).toMatchObject({ route: '/v1/payouts', status: 200, rateLimited: false });
  });
});

describe('more keys for one account', () => {
  const bed = t;

  it('a second key of an account sees the same objects; a key of another account does not', async () => {
    const account = bed.flex.createAccount({ name: 'Rotating' });
    const other = bed.flex.createAccount({ name: 'Other' });
    const created = await fetch(`${bed.flex.url}/v1/products`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${account.liveKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ product: { name: 'Thermometer' } }),
    });
    const { product } = (await created.json()) as { product: { product_id: string } };
    const read = (key: string) => fetch(`${bed.flex.url}/v1/products/${product.product_id}`, { headers: { Authorization: `Bearer ${key}` } });
    expect((await read(bed.flex.addKey(account.accountId))).status).toBe(200);
    expect((await read(other.liveKey)).status).toBe(404);
    expect(bed.flex.addKey(account.accountId, { testMode: true })).toMatch(/^fsk_test_/);
  });
});
