// The Flex sandbox over real HTTP, as our app will use it. Webhook signatures are checked with a
// verifier written here from the Svix spec, independent of the sandbox's own signing code.
import { createHmac, timingSafeEqual } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FlexSandbox, type FlexAccount } from '../../sandbox/flex';

type Json = Record<string, any>;

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: Json;
  at: number;
}

/** A webhook receiver whose answer each test can script. */
class Receiver {
  readonly received: Received[] = [];
  respond: (delivery: Received) => number | 'hang' = () => 200;
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const delivery = { headers: req.headers, raw, body: JSON.parse(raw) as Json, at: Date.now() };
      this.received.push(delivery);
      const answer = this.respond(delivery);
      if (answer === 'hang') return;
      res.statusCode = answer;
      res.end('ok');
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhooks/flex`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  ofType(type: string): Received[] {
    return this.received.filter((r) => r.body.event_type === type);
  }
}

/** Svix verification as our app must do it: key = base64-decode(secret after the first `_`). */
function verifySvix(raw: string, headers: IncomingHttpHeaders, secret: string): boolean {
  const id = headers['svix-id'];
  const ts = headers['svix-timestamp'];
  const signatures = headers['svix-signature'];
  if (typeof id !== 'string' || typeof ts !== 'string' || typeof signatures !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const key = Buffer.from(secret.slice(secret.indexOf('_') + 1), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${raw}`).digest();
  return signatures.split(' ').some((entry) => {
    const [version, b64] = entry.split(',');
    const got = Buffer.from(b64 ?? '', 'base64');
    return version === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let flex: FlexSandbox;
let receiver: Receiver;

async function call(
  key: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(`${flex.url}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
}

interface Shop {
  account: FlexAccount;
  key: string;
  /** A $25.00 HSA/FSA-eligible product and a $15.00 ineligible one. */
  eligiblePrice: string;
  plainPrice: string;
  secret: string;
}

async function makeShop(opts: { live?: boolean; webhook?: boolean } = {}): Promise<Shop> {
  const account = flex.createAccount({ name: 'Demo Store' });
  const key = opts.live ? account.liveKey : account.testKey;
  const price = async (name: string, eligibility: string, unitAmount: number): Promise<string> => {
    const product = await call(key, 'POST', '/v1/products', { product: { name, hsa_fsa_eligibility: eligibility } });
    expect(product.status).toBe(200);
    const created = await call(key, 'POST', '/v1/prices', { price: { product: product.body.product.product_id, unit_amount: unitAmount } });
    expect(created.status).toBe(200);
    return created.body.price.price_id as string;
  };
  const eligiblePrice = await price('Thermometer', 'auto_substantiation', 2500);
  const plainPrice = await price('Sunglasses', 'not_eligible', 1500);
  let secret = '';
  if (opts.webhook !== false) {
    const hook = await call(key, 'POST', '/v1/webhooks', { webhook: { url: receiver.url, events: ['*'] } });
    expect(hook.status).toBe(200);
    secret = hook.body.webhook.signing_secret;
  }
  return { account, key, eligiblePrice, plainPrice, secret };
}

async function createSession(shop: Shop, extra: Json = {}, headers: Record<string, string> = {}): Promise<Json> {
  const res = await call(
    shop.key,
    'POST',
    '/v1/checkout/sessions',
    {
      checkout_session: {
        line_items: [
          { price: shop.eligiblePrice, quantity: 2 },
          { price: shop.plainPrice, quantity: 1 },
        ],
        success_url: 'https://shop.example/thanks?cs={CHECKOUT_SESSION_ID}',
        cancel_url: 'https://shop.example/checkout',
        client_reference_id: `ref-${Math.random().toString(36).slice(2)}`,
        ...extra,
      },
    },
    headers,
  );
  expect(res.status).toBe(200);
  return res.body.checkout_session;
}

/** The buyer presses a button on the hosted page. */
async function buyerChooses(sessionId: string, outcome: string): Promise<Response> {
  return fetch(`${flex.url}/pay/c/${sessionId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ outcome }).toString(),
    redirect: 'manual',
  });
}

async function getSession(shop: Shop, id: string, query = ''): Promise<Json> {
  const res = await call(shop.key, 'GET', `/v1/checkout/sessions/${id}${query}`);
  expect(res.status).toBe(200);
  return res.body.checkout_session;
}

beforeAll(async () => {
  receiver = new Receiver();
  await receiver.start();
  flex = await new FlexSandbox({
    webhookRetryDelaysMs: [0, 40, 80],
    webhookTimeoutMs: 300,
    refundSettleDelayMs: 30,
    checkoutSessionLifetimeSeconds: 3600,
    authorizationLifetimeSeconds: 7 * 86400,
  }).start();
});

afterAll(async () => {
  await flex.stop();
  await receiver.stop();
});

afterEach(async () => {
  flex.faults.reset();
  flex.setRefundBehaviour('auto_succeed');
  receiver.respond = () => 200;
  await flex.waitForDeliveries({ timeoutMs: 5000 });
  receiver.received.length = 0;
});

describe('auth and modes', () => {
  it('refuses missing, unknown and revoked keys with 401', async () => {
    const account = flex.createAccount();
    const expected = { error: { code: 'unauthorized', message: 'Invalid API key' } };
    expect(await call(undefined, 'GET', '/v1/products')).toMatchObject({ status: 401, body: expected });
    expect(await call('fsk_test_nope', 'GET', '/v1/products')).toMatchObject({ status: 401, body: expected });
    expect((await call(account.testKey, 'GET', '/v1/products')).status).toBe(200);
    flex.revokeKey(account.testKey);
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
    const other = flex.createAccount();
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

describe('products and prices', () => {
  it('creates, reads, updates and lists them', async () => {
    const { testKey: key } = flex.createAccount();
    const created = await call(key, 'POST', '/v1/products', {
      product: { name: 'Blood pressure monitor', gtin: '00012345678905', hsa_fsa_eligibility: 'letter_of_medical_necessity', metadata: { sku: 'BPM-1' } },
    });
    expect(created.body.product).toMatchObject({ name: 'Blood pressure monitor', active: true, hsa_fsa_eligibility: 'letter_of_medical_necessity', test_mode: true });
    const productId = created.body.product.product_id;
    expect(productId).toMatch(/^fprod_/);
    const patched = await call(key, 'PATCH', `/v1/products/${productId}`, { product: { description: 'Upper arm', active: false } });
    expect(patched.body.product).toMatchObject({ description: 'Upper arm', active: false, gtin: '00012345678905' });

    const price = await call(key, 'POST', '/v1/prices', { price: { product: productId, unit_amount: 4999 } });
    expect(price.body.price).toMatchObject({ unit_amount: 4999, type: 'one_time', product: productId, active: true });
    const priceId = price.body.price.price_id;
    expect(priceId).toMatch(/^fprice_/);
    const expanded = await call(key, 'GET', `/v1/prices/${priceId}?expand_product=true`);
    expect(expanded.body.price.product.product_id).toBe(productId);
    const list = await call(key, 'GET', '/v1/products');
    expect(list.body.products.map((p: Json) => p.product_id)).toEqual([productId]);

    // A deactivated price can no longer be sold (the plugin replaces prices this way).
    const off = await call(key, 'POST', `/v1/prices/${priceId}`, { price: { active: false } });
    expect(off.body.price.active).toBe(false);
    const session = await call(key, 'POST', '/v1/checkout/sessions', {
      checkout_session: { line_items: [{ price: priceId, quantity: 1 }], success_url: 'https://shop.example/ok' },
    });
    expect(session.status).toBe(422);
    expect(session.body.detail[0].type).toBe('price_not_found');
  });
});

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
    const records = flex.requests.filter((r) => r.idempotencyKey === 'k1');
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
    flex.faults.set({ latencyMs: 150 });
    const [a, b] = await Promise.all([
      call(shop.key, 'POST', '/v1/checkout/sessions', body(shop, 'idem-3'), { 'idempotency-key': 'k3' }),
      sleep(30).then(() => call(shop.key, 'POST', '/v1/checkout/sessions', body(shop, 'idem-3'), { 'idempotency-key': 'k3' })),
    ]);
    expect(a.status).toBe(200);
    expect(b).toMatchObject({ status: 409, body: { error: { code: 'idempotency_request_in_progress' } } });
    flex.faults.set({ latencyMs: 0 });
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

describe('checkout sessions', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await makeShop({ webhook: false });
  });

  it('computes amount_total and fills the documented fields', async () => {
    const session = await createSession(shop, {
      tax_rate: { amount: 312 },
      shipping_options: { shipping_rate_data: { display_name: 'Ground', amount: 500 } },
      fees: [{ amount: 3, fee_type: 'custom', name: 'Rounding adjustment' }],
      discounts: [{ coupon_data: { name: 'SAVE', amount_off: 200 } }],
      metadata: { shop: 'demo.myshopify.com' },
    });
    expect(session).toMatchObject({
      status: 'open',
      mode: 'payment',
      amount_subtotal: 6500,
      amount_total: 6500 + 312 + 500 + 3 - 200,
      amount_received: 0,
      total_details: { amount_tax: 312, amount_shipping: 500, amount_discount: 200 },
      capture_method: 'automatic',
      payment_intents: [],
      redirect_url: `${flex.url}/pay/c/${session.checkout_session_id}`,
      metadata: { shop: 'demo.myshopify.com' },
      hsa_fsa_eligible: true,
    });
    expect(Number.isInteger(session.created_at)).toBe(true);
    expect(session.expires_at - session.created_at).toBe(3600);
    expect(Math.abs(session.created_at - flex.now())).toBeLessThanOrEqual(1);

    const lines = await call(shop.key, 'GET', `/v1/checkout/sessions/${session.checkout_session_id}/line_items`);
    expect(lines.body.line_items.map((l: Json) => [l.description, l.quantity, l.amount_total, l.eligibility])).toEqual([
      ['Thermometer', 2, 5000, 'auto_substantiation'],
      ['Sunglasses', 1, 1500, 'not_eligible'],
    ]);
  });

  it('lists by client_reference_id and status, newest first', async () => {
    const first = await createSession(shop, { client_reference_id: 'gid://shopify/PaymentSession/1' });
    const second = await createSession(shop, { client_reference_id: 'gid://shopify/PaymentSession/1' });
    await createSession(shop, { client_reference_id: 'gid://shopify/PaymentSession/2' });
    flex.pay(second.checkout_session_id, 'hsa_fsa');
    const ref = encodeURIComponent('gid://shopify/PaymentSession/1');
    const all = await call(shop.key, 'GET', `/v1/checkout/sessions?client_reference_id=${ref}`);
    expect(all.body.checkout_sessions.map((s: Json) => s.checkout_session_id)).toEqual([second.checkout_session_id, first.checkout_session_id]);
    const complete = await call(shop.key, 'GET', `/v1/checkout/sessions?client_reference_id=${ref}&status=complete&expand_payment_intent=true`);
    expect(complete.body.checkout_sessions).toHaveLength(1);
    expect(complete.body.checkout_sessions[0].payment_intents[0]).toMatchObject({ status: 'succeeded', payment_card_type: 'hsa_fsa' });
    const limited = await call(shop.key, 'GET', '/v1/checkout/sessions?limit=1');
    expect(limited.body.checkout_sessions).toHaveLength(1);
    expect((await call(shop.key, 'GET', '/v1/checkout/sessions?limit=0')).status).toBe(422);
  });

  it('takes inline price_data, and a refused request leaves no price behind', async () => {
    const productId = (await call(shop.key, 'GET', '/v1/products')).body.products[0].product_id;
    const pricesBefore = (await call(shop.key, 'GET', '/v1/prices?limit=100')).body.prices.length;
    const refused = await call(shop.key, 'POST', '/v1/checkout/sessions', {
      checkout_session: { line_items: [{ price_data: { product: productId, unit_amount: 4500 } }] },
    });
    expect(refused.status).toBe(422);
    expect((await call(shop.key, 'GET', '/v1/prices?limit=100')).body.prices).toHaveLength(pricesBefore);
    const session = await createSession(shop, { line_items: [{ price_data: { product: productId, unit_amount: 4500 }, quantity: 2 }] });
    expect(session.amount_total).toBe(9000);
  });

  it('reads an open session past expires_at as expired', async () => {
    const session = await createSession(shop);
    flex.advanceClock(3601);
    expect((await getSession(shop, session.checkout_session_id)).status).toBe('expired');
    const page = await fetch(`${flex.url}/pay/c/${session.checkout_session_id}`);
    expect(await page.text()).toContain('This checkout session has expired');
  });
});

describe('the hosted checkout page', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await makeShop();
  });

  it('shows the shop, amount, items, test banner and the five outcome buttons', async () => {
    const session = await createSession(shop);
    const res = await fetch(session.redirect_url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('Demo Store');
    expect(html).toContain('$65.00');
    expect(html).toContain('Thermometer');
    expect(html).toContain('Test mode');
    for (const [value, label] of [
      ['hsa_fsa', 'Pay with HSA/FSA card'],
      ['split', 'Split: HSA/FSA card + regular card'],
      ['decline', 'Card declined'],
      ['abandon', 'Cancel and return to store'],
      ['processing', 'Processing (completes later)'],
    ]) {
      expect(html).toContain(`name="outcome" value="${value}"`);
      expect(html).toContain(`>${label}</button>`);
    }
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=/);
  });

  it('hsa_fsa: completes the session, redirects with the id and sends signed webhooks', async () => {
    const session = await createSession(shop);
    const id = session.checkout_session_id;
    const res = await buyerChooses(id, 'hsa_fsa');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`https://shop.example/thanks?cs=${id}`);

    const after = await getSession(shop, id, '?expand_payment_intent=true');
    expect(after).toMatchObject({ status: 'complete', amount_received: 6500 });
    expect(after.payment_intents).toHaveLength(1);
    expect(after.payment_intents[0]).toMatchObject({
      status: 'succeeded',
      payment_card_type: 'hsa_fsa',
      amount: 6500,
      amount_received: 6500,
      capture_method: 'automatic',
      test_mode: true,
    });
    expect(after.payment_intents[0].payment_intent_id).toMatch(/^fpi_/);

    await flex.waitForDeliveries();
    const types = receiver.received.map((r) => r.body.event_type);
    expect(types).toEqual(['payment_intent.succeeded', 'checkout.session.completed']);
    for (const delivery of receiver.received) {
      expect(verifySvix(delivery.raw, delivery.headers, shop.secret)).toBe(true);
      expect(verifySvix(delivery.raw, delivery.headers, 'fwhsec_' + Buffer.alloc(32).toString('base64'))).toBe(false);
      expect(delivery.headers['svix-id']).toMatch(/^msg_/);
    }
    const completed = receiver.ofType('checkout.session.completed')[0].body;
    expect(completed).toMatchObject({ test_mode: true, object: { checkout_session: { checkout_session_id: id, status: 'complete' } } });
    expect(Number.isInteger(completed.event_dt)).toBe(true);
    expect(typeof completed.event_id).toBe('string');
  });

  it('split: two intents, HSA/FSA card for the eligible part, two payment_intent.succeeded', async () => {
    const session = await createSession(shop);
    const res = await buyerChooses(session.checkout_session_id, 'split');
    expect(res.status).toBe(303);
    const after = await getSession(shop, session.checkout_session_id, '?expand_payment_intent=true');
    expect(after.status).toBe('complete');
    expect(after.payment_intents.map((pi: Json) => [pi.payment_card_type, pi.amount, pi.status])).toEqual([
      ['hsa_fsa', 5000, 'succeeded'],
      ['primary', 1500, 'succeeded'],
    ]);
    await flex.waitForDeliveries();
    expect(receiver.ofType('payment_intent.succeeded')).toHaveLength(2);
    expect(receiver.ofType('checkout.session.completed')).toHaveLength(1);
  });

  it('split: half of the total when no product is eligible, or the amount the test names', async () => {
    const plain = await createSession(shop, { line_items: [{ price: shop.plainPrice, quantity: 3 }] });
    flex.pay(plain.checkout_session_id, 'split');
    const intents = flex.paymentIntents({ checkoutSessionId: plain.checkout_session_id });
    expect(intents.map((pi) => [pi.payment_card_type, pi.amount]).sort()).toEqual([
      ['hsa_fsa', 2250],
      ['primary', 2250],
    ]);
    const named = await createSession(shop);
    flex.pay(named.checkout_session_id, { type: 'split', hsaFsaAmount: 1234 });
    const amounts = flex.checkoutSession(named.checkout_session_id).payment_intents as Json[];
    expect(amounts.map((pi) => pi.amount)).toEqual([1234, 6500 - 1234]);
    const bad = await createSession(shop);
    expect(() => flex.pay(bad.checkout_session_id, { type: 'split', hsaFsaAmount: 6500 })).toThrow(/hsaFsaAmount/);
  });

  it('decline: cancels the session, sends no webhook, and offers only "Return to store"', async () => {
    const session = await createSession(shop);
    const res = await buyerChooses(session.checkout_session_id, 'decline');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Your card was declined');
    expect(html).toContain('<a href="https://shop.example/checkout">Return to store</a>');
    expect(html).not.toContain('name="outcome"');
    const after = await getSession(shop, session.checkout_session_id, '?expand_payment_intent=true');
    expect(after.status).toBe('canceled');
    expect(after.payment_intents[0]).toMatchObject({
      status: 'canceled',
      last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds' },
    });
    await flex.waitForDeliveries();
    expect(receiver.received).toHaveLength(0);
  });

  it('abandon: back to cancel_url, the session stays open until it expires', async () => {
    const session = await createSession(shop);
    const res = await buyerChooses(session.checkout_session_id, 'abandon');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('https://shop.example/checkout');
    expect((await getSession(shop, session.checkout_session_id)).status).toBe('open');
    flex.expireCheckoutSession(session.checkout_session_id);
    expect((await getSession(shop, session.checkout_session_id)).status).toBe('expired');
  });

  it('processing: redirects at once, completes (with webhooks) only on completeProcessing', async () => {
    const session = await createSession(shop);
    const id = session.checkout_session_id;
    const res = await buyerChooses(id, 'processing');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`https://shop.example/thanks?cs=${id}`);
    const pending = await getSession(shop, id, '?expand_payment_intent=true');
    expect(pending.status).toBe('open');
    expect(pending.payment_intents[0].status).toBe('processing');
    // Processing sessions do not expire under the buyer.
    flex.advanceClock(7200);
    expect((await getSession(shop, id)).status).toBe('open');
    await flex.waitForDeliveries();
    expect(receiver.received).toHaveLength(0);

    const control = await fetch(`${flex.url}/__sandbox/checkout-sessions/${id}/complete-processing`, { method: 'POST' });
    expect(control.status).toBe(200);
    expect((await getSession(shop, id)).status).toBe('complete');
    await flex.waitForDeliveries();
    expect(receiver.received.map((r) => r.body.event_type)).toEqual(['payment_intent.succeeded', 'checkout.session.completed']);
  });

  it('processing can also end in a decline', async () => {
    const session = await createSession(shop);
    flex.pay(session.checkout_session_id, 'processing');
    expect(() => flex.pay(session.checkout_session_id, 'hsa_fsa')).toThrow(/processing/);
    const after = flex.completeProcessing(session.checkout_session_id, { result: 'declined', declineCode: 'do_not_honor' });
    expect(after.status).toBe('canceled');
    const [intent] = flex.paymentIntents({ checkoutSessionId: session.checkout_session_id });
    expect(intent).toMatchObject({ status: 'canceled', last_payment_error: { decline_code: 'do_not_honor' } });
    await flex.waitForDeliveries();
    expect(receiver.received).toHaveLength(0);
  });

  it('shows a clear message for sessions that cannot be paid any more', async () => {
    const session = await createSession(shop);
    flex.pay(session.checkout_session_id, 'hsa_fsa');
    const page = await (await fetch(session.redirect_url)).text();
    expect(page).toContain('This checkout is already complete');
    expect(page).not.toContain('name="outcome"');
    const again = await buyerChooses(session.checkout_session_id, 'hsa_fsa');
    expect(again.status).toBe(409);
    expect(() => flex.pay(session.checkout_session_id, 'hsa_fsa')).toThrow(/complete/);
    expect((await fetch(`${flex.url}/pay/c/fcs_unknown`)).status).toBe(404);
  });
});

describe('manual capture and cancel', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await makeShop({ webhook: false });
  });
  const authorized = async (outcome: 'hsa_fsa' | 'split' = 'hsa_fsa') => {
    const session = await createSession(shop, { capture_method: 'manual' });
    flex.pay(session.checkout_session_id, outcome);
    return session.checkout_session_id as string;
  };
  const capture = (id: string, body: Json = {}) => call(shop.key, 'POST', `/v1/checkout/sessions/${id}/capture`, { checkout_session: body });

  it('authorizes without taking money, then captures in full', async () => {
    const id = await authorized();
    const held = await getSession(shop, id, '?expand_payment_intent=true');
    expect(held).toMatchObject({ status: 'complete', amount_received: 0, capture_method: 'manual' });
    expect(held.payment_intents[0]).toMatchObject({ status: 'requires_capture', amount_capturable: 6500, amount_received: 0 });
    expect(Date.parse(held.payment_intents[0].authorization_expires_at)).toBeGreaterThan(Date.now() + 6 * 86400_000);

    const res = await capture(id);
    expect(res.status).toBe(200);
    expect(res.body.checkout_session).toMatchObject({ amount_received: 6500 });
    expect(res.body.checkout_session.captures).toHaveLength(1);
    expect(res.body.checkout_session.captures[0]).toMatchObject({ amount_captured: 6500, test_mode: true });
    expect(res.body.checkout_session.captures[0].capture_id).toMatch(/^fcap_/);
    const again = await capture(id);
    expect(again.status).toBe(422);
    expect(again.body.detail[0].type).toBe('already_captured');
  });

  it('captures part, HSA/FSA card first, and releases the rest on a final capture', async () => {
    const id = await authorized('split');
    const res = await capture(id, { amount: 5500 });
    expect(res.status).toBe(200);
    const intents = flex.checkoutSession(id).payment_intents as Json[];
    expect(intents.map((pi) => [pi.payment_card_type, pi.amount_received, pi.amount_capturable, pi.status])).toEqual([
      ['hsa_fsa', 5000, 0, 'succeeded'],
      ['primary', 500, 0, 'succeeded'],
    ]);
    expect(res.body.checkout_session.captures[0].items.map((i: Json) => i.amount_captured)).toEqual([5000, 500]);
  });

  it('allows several captures with final_capture: false', async () => {
    const id = await authorized();
    expect((await capture(id, { amount: 1000, final_capture: false })).status).toBe(200);
    const pi = (flex.checkoutSession(id).payment_intents as Json[])[0];
    expect(pi).toMatchObject({ status: 'requires_capture', amount_received: 1000, amount_capturable: 5500 });
    const over = await capture(id, { amount: 5501 });
    expect(over.status).toBe(422);
    expect(over.body.detail[0]).toMatchObject({ type: 'amount_exceeds_capturable', loc: ['checkout_session', 'amount'] });
    expect((await capture(id, { amount: 5500 })).body.checkout_session.amount_received).toBe(6500);
  });

  it('captures by line items (amount_to_capture + tax + shipping - discount)', async () => {
    const id = await authorized();
    const res = await capture(id, {
      line_items: [{ price: shop.eligiblePrice, amount_to_capture: 2500 }, { price: shop.plainPrice }],
      amount_tax: 100,
      amount_discount: 50,
      capture_metadata: { shopify_capture: 'gid://shopify/Capture/1' },
    });
    expect(res.status).toBe(200);
    expect(res.body.checkout_session.captures[0]).toMatchObject({
      amount_captured: 2500 + 1500 + 100 - 50,
      amount_tax_captured: 100,
      amount_discount_captured: 50,
      metadata: { shopify_capture: 'gid://shopify/Capture/1' },
    });
    const unknown = await capture(await authorized(), { line_items: [{ price: 'fprice_other' }] });
    expect(unknown.body.detail[0].type).toBe('line_item_not_found');
  });

  it('refuses a capture after the authorization expired', async () => {
    const id = await authorized();
    flex.advanceClock(7 * 86400 + 1);
    const res = await capture(id);
    expect(res.status).toBe(422);
    expect(res.body.detail[0].type).toBe('authorization_expired');
    expect((flex.checkoutSession(id).payment_intents as Json[])[0]).toMatchObject({ status: 'canceled', amount_capturable: 0 });
  });

  it('refuses capture on automatic sessions', async () => {
    const session = await createSession(shop);
    flex.pay(session.checkout_session_id, 'hsa_fsa');
    const res = await capture(session.checkout_session_id);
    expect(res.body.detail[0].type).toBe('checkout_session_not_capturable');
  });

  it('cancel voids the authorization; again returns it unchanged; after a capture it is refused', async () => {
    const id = await authorized('split');
    const res = await call(shop.key, 'POST', `/v1/checkout/sessions/${id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.checkout_session.status).toBe('canceled');
    expect((flex.checkoutSession(id).payment_intents as Json[]).map((pi) => pi.status)).toEqual(['canceled', 'canceled']);
    const again = await call(shop.key, 'POST', `/v1/checkout/sessions/${id}/cancel`);
    expect(again).toMatchObject({ status: 200, body: { checkout_session: { status: 'canceled' } } });
    expect((await capture(id)).body.detail[0].type).toBe('checkout_session_not_complete');

    const captured = await authorized();
    await capture(captured, { amount: 100 });
    const refused = await call(shop.key, 'POST', `/v1/checkout/sessions/${captured}/cancel`);
    expect(refused.status).toBe(422);
    expect(refused.body.detail[0].type).toBe('already_captured');
  });
});

describe('refunds', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await makeShop();
  });
  const paid = async (outcome: 'hsa_fsa' | 'split' = 'split') => {
    const session = await createSession(shop);
    flex.pay(session.checkout_session_id, outcome);
    return session.checkout_session_id as string;
  };
  const refund = (id: string, body: Json = {}) => call(shop.key, 'POST', `/v1/checkout/sessions/${id}/refund`, { checkout_session: body });

  it('creates a pending refund that settles to succeeded, with webhooks', async () => {
    const id = await paid('hsa_fsa');
    await flex.waitForDeliveries();
    receiver.received.length = 0;
    const res = await refund(id, { amount: 1000, refund_metadata: { refund_id: 'gid://shopify/Refund/9' } });
    expect(res.status).toBe(200);
    expect(res.body.refunds).toHaveLength(1);
    const created = res.body.refunds[0];
    expect(created).toMatchObject({
      amount: 1000,
      status: 'pending',
      checkout_session_id: id,
      metadata: { refund_id: 'gid://shopify/Refund/9' },
      test_mode: true,
    });
    expect(created.refund_id).toMatch(/^fre_/);
    expect(typeof created.created_at).toBe('string');

    await sleep(60);
    await flex.waitForDeliveries();
    const settled = await call(shop.key, 'GET', `/v1/refunds/${created.refund_id}`);
    expect(settled.body.refund.status).toBe('succeeded');
    expect(receiver.received.map((r) => r.body.event_type)).toEqual(['refund.created', 'refund.updated', 'charge.refund.updated']);
    expect(receiver.ofType('refund.updated')[0].body.object.refund).toMatchObject({ refund_id: created.refund_id, status: 'succeeded' });
    const session = await getSession(shop, id);
    expect(session.amount_refunded).toBe(1000);
    expect(session.refunds.map((r: Json) => r.refund_id)).toEqual([created.refund_id]);
  });

  it('allocates HSA/FSA card first, whatever the items', async () => {
    const id = await paid('split'); // HSA/FSA 5000, card 1500
    const preview = await call(shop.key, 'POST', `/v1/checkout/sessions/${id}/refund_allocation`, {
      checkout_session: { line_items: [{ price: shop.plainPrice, amount_to_refund: 1500 }] },
    });
    expect(preview.body.allocations.map((a: Json) => a.amount)).toEqual([1500, 0]);
    const first = await refund(id, { amount: 4000 });
    expect(first.body.refunds[0].items.map((i: Json) => i.amount_refunded)).toEqual([4000]);
    const second = await refund(id, { amount: 2000 });
    const intents = flex.checkoutSession(id).payment_intents as Json[];
    expect(second.body.refunds[0].items).toEqual([
      { payment_intent: intents[0].payment_intent_id, payment_method_id: intents[0].payment_method, amount_refunded: 1000 },
      { payment_intent: intents[1].payment_intent_id, payment_method_id: intents[1].payment_method, amount_refunded: 1000 },
    ]);
    const over = await refund(id, { amount: 501 });
    expect(over.status).toBe(422);
    expect(over.body.detail[0].type).toBe('amount_exceeds_refundable');
    const rest = await refund(id);
    expect(rest.body.refunds[0].amount).toBe(500);
    expect((await refund(id)).body.detail[0].type).toBe('amount_exceeds_refundable');
  });

  it('gives a failed refund back to refundable (manual settling)', async () => {
    flex.setRefundBehaviour('manual');
    const id = await paid('hsa_fsa');
    const created = (await refund(id)).body.refunds[0];
    await sleep(60);
    expect((await call(shop.key, 'GET', `/v1/refunds/${created.refund_id}`)).body.refund.status).toBe('pending');
    expect((await refund(id, { amount: 1 })).status).toBe(422);
    const settle = await fetch(`${flex.url}/__sandbox/refunds/${created.refund_id}/settle`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'failed' }),
    });
    expect(settle.status).toBe(200);
    expect((await getSession(shop, id)).amount_refunded).toBe(0);
    expect((await refund(id, { amount: 6500 })).status).toBe(200);
    expect(() => flex.settleRefund(created.refund_id, 'succeeded')).toThrow(/already failed/);
    const listed = await call(shop.key, 'GET', `/v1/refunds?checkout_session=${id}`);
    expect(listed.body.refunds.map((r: Json) => r.status)).toEqual(['pending', 'failed']);
  });

  it('refuses refunds of sessions that are not complete', async () => {
    const session = await createSession(shop);
    const res = await refund(session.checkout_session_id, { amount: 100 });
    expect(res.status).toBe(422);
    expect(res.body.detail[0].type).toBe('checkout_session_not_complete');
  });
});

describe('webhook delivery', () => {
  it('retries a failing receiver on the schedule, with the same svix-id and body', async () => {
    const shop = await makeShop();
    let calls = 0;
    receiver.respond = () => (++calls < 3 ? 500 : 200);
    const session = await createSession(shop, { line_items: [{ price: shop.plainPrice, quantity: 1 }] });
    flex.faults.dropWebhooks({ eventType: 'payment_intent.succeeded' });
    flex.pay(session.checkout_session_id, 'hsa_fsa');
    await flex.waitForDeliveries();

    const attempts = receiver.ofType('checkout.session.completed');
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.headers['svix-id'])).size).toBe(1);
    expect(new Set(attempts.map((a) => a.raw)).size).toBe(1);
    expect(attempts[2].at - attempts[0].at).toBeGreaterThanOrEqual(100);
    for (const a of attempts) expect(verifySvix(a.raw, a.headers, shop.secret)).toBe(true);

    const record = flex.deliveries.find((d) => d.svixId === attempts[0].headers['svix-id'])!;
    expect(record).toMatchObject({ eventType: 'checkout.session.completed', delivered: true, done: true, url: receiver.url });
    expect(record.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    const dropped = flex.deliveries.find((d) => d.eventType === 'payment_intent.succeeded' && d.dropped);
    expect(dropped?.attempts).toEqual([]);
  });

  it('counts a slow receiver as failed, gives up after the schedule, and can redeliver', async () => {
    const shop = await makeShop();
    receiver.respond = () => 'hang';
    const session = await createSession(shop);
    flex.pay(session.checkout_session_id, 'hsa_fsa');
    await flex.waitForDeliveries();
    const failed = flex.deliveries.filter((d) => d.url === receiver.url && d.eventType === 'checkout.session.completed').at(-1)!;
    expect(failed.delivered).toBe(false);
    expect(failed.attempts.map((a) => a.error)).toEqual(Array(3).fill('timeout after 300 ms'));

    receiver.respond = () => 204;
    receiver.received.length = 0;
    const again = flex.redeliver(failed.eventId);
    expect(again).toHaveLength(1);
    await flex.waitForDeliveries();
    expect(again[0].delivered).toBe(true);
    expect(receiver.received[0].headers['svix-id']).toBe(failed.svixId);
    expect(verifySvix(receiver.received[0].raw, receiver.received[0].headers, shop.secret)).toBe(true);
  });

  it('sends only subscribed events, to endpoints of the same account and mode', async () => {
    const shop = await makeShop({ webhook: false });
    const hook = await call(shop.key, 'POST', '/v1/webhooks', { webhook: { url: receiver.url, events: ['checkout.session.completed'] } });
    expect(hook.body.webhook).toMatchObject({ url: receiver.url, events: ['checkout.session.completed'], test_mode: true });
    expect(hook.body.webhook.webhook_id).toEqual(expect.any(String));
    expect(Buffer.from(hook.body.webhook.signing_secret.replace(/^fwhsec_/, ''), 'base64')).toHaveLength(32);
    // A live endpoint of the same account must not receive test events.
    await call(shop.account.liveKey, 'POST', '/v1/webhooks', { webhook: { url: `${receiver.url}?live`, events: ['*'] } });
    const session = await createSession(shop);
    flex.pay(session.checkout_session_id, 'split');
    await flex.waitForDeliveries();
    expect(receiver.received.map((r) => r.body.event_type)).toEqual(['checkout.session.completed']);
    expect(await call(shop.key, 'GET', '/v1/webhooks')).toMatchObject({ status: 200, body: { webhooks: [{ webhook_id: hook.body.webhook.webhook_id }] } });
    expect((await call(shop.key, 'DELETE', `/v1/webhooks/${hook.body.webhook.webhook_id}`)).status).toBe(200);
    expect((await call(shop.key, 'GET', '/v1/webhooks')).body.webhooks).toEqual([]);
  });

  it('signs every attempt afresh (new timestamp), also in the unbranded webhook-* headers', async () => {
    const other = await new FlexSandbox({ webhookRetryDelaysMs: [0, 1100], webhookHeaders: 'both' }).start();
    try {
      const account = other.createAccount();
      const headers = { authorization: `Bearer ${account.testKey}`, 'content-type': 'application/json' };
      const post = (path: string, body: Json) =>
        fetch(`${other.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) }).then((r) => r.json() as Promise<Json>);
      const hook = await post('/v1/webhooks', { webhook: { url: receiver.url, events: ['checkout.session.completed'] } });
      const product = await post('/v1/products', { product: { name: 'Bandages' } });
      const price = await post('/v1/prices', { price: { product: product.product.product_id, unit_amount: 999 } });
      const session = await post('/v1/checkout/sessions', {
        checkout_session: { line_items: [{ price: price.price.price_id, quantity: 1 }], success_url: 'https://shop.example/ok' },
      });
      let calls = 0;
      receiver.respond = () => (++calls === 1 ? 503 : 200);
      other.pay(session.checkout_session.checkout_session_id, 'hsa_fsa');
      await other.waitForDeliveries();
      const [first, second] = receiver.received;
      expect(receiver.received).toHaveLength(2);
      expect(second.headers['svix-id']).toBe(first.headers['svix-id']);
      expect(Number(second.headers['svix-timestamp'])).toBeGreaterThan(Number(first.headers['svix-timestamp']));
      expect(second.headers['svix-signature']).not.toBe(first.headers['svix-signature']);
      for (const r of [first, second]) {
        expect(verifySvix(r.raw, r.headers, hook.webhook.signing_secret)).toBe(true);
        expect([r.headers['webhook-id'], r.headers['webhook-timestamp'], r.headers['webhook-signature']]).toEqual([
          r.headers['svix-id'],
          r.headers['svix-timestamp'],
          r.headers['svix-signature'],
        ]);
      }
    } finally {
      await other.stop();
    }
  });

  it('re-sends an event through POST /v1/events/:id/retry', async () => {
    const shop = await makeShop();
    const session = await createSession(shop);
    flex.pay(session.checkout_session_id, 'hsa_fsa');
    await flex.waitForDeliveries();
    const event = receiver.ofType('checkout.session.completed')[0];
    receiver.received.length = 0;
    const webhookId = (await call(shop.key, 'GET', '/v1/webhooks')).body.webhooks[0].webhook_id;
    const retry = await call(shop.key, 'POST', `/v1/events/${event.body.event_id}/retry`, { event: { webhook_id: webhookId } });
    expect(retry).toMatchObject({ status: 200, body: { event: { event_id: event.body.event_id, event_type: 'checkout.session.completed' } } });
    await flex.waitForDeliveries();
    expect(receiver.received.map((r) => r.headers['svix-id'])).toEqual([event.headers['svix-id']]);
    expect(receiver.received[0].raw).toBe(event.raw);
    const other = flex.createAccount();
    expect((await call(other.testKey, 'POST', `/v1/events/${event.body.event_id}/retry`, {})).status).toBe(404);
  });

  it('uses the configured spelling of the completed event', async () => {
    const other = await new FlexSandbox({ checkoutSessionCompletedEventName: 'checkout_session.completed', webhookRetryDelaysMs: [0] }).start();
    try {
      const account = other.createAccount();
      const post = (path: string, body: Json) =>
        fetch(`${other.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${account.testKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then((r) => r.json() as Promise<Json>);
      await post('/v1/webhooks', { webhook: { url: receiver.url, events: ['checkout.session.completed'] } });
      const product = await post('/v1/products', { product: { name: 'Bandages' } });
      const price = await post('/v1/prices', { price: { product: product.product.product_id, unit_amount: 999 } });
      const session = await post('/v1/checkout/sessions', {
        checkout_session: { line_items: [{ price: price.price.price_id, quantity: 1 }], success_url: 'https://shop.example/ok' },
      });
      other.pay(session.checkout_session.checkout_session_id, 'hsa_fsa');
      await other.waitForDeliveries();
      expect(receiver.received.map((r) => r.body.event_type)).toEqual(['checkout_session.completed']);
    } finally {
      await other.stop();
    }
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
    flex.pay(session.checkout_session_id, 'hsa_fsa');
    return session.checkout_session_id as string;
  };

  it('before: fails without doing the work; the retry does it', async () => {
    const id = await paidSession();
    flex.faults.failNext({ path: 'POST /v1/checkout/sessions/:id/refund', status: 503 });
    const failed = await refundOnce(id, 'f-before');
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('1');
    expect(flex.refunds({ checkoutSessionId: id })).toHaveLength(0);
    const retry = await refundOnce(id, 'f-before');
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(flex.refunds({ checkoutSessionId: id })).toHaveLength(1);
  });

  it('after: does the work, answers the error, and the retry replays the real result', async () => {
    const id = await paidSession();
    flex.faults.failNext({ method: 'POST', path: `/v1/checkout/sessions/${id}/refund`, when: 'after' });
    const failed = await refundOnce(id, 'f-after');
    expect(failed.status).toBe(500);
    expect(flex.refunds({ checkoutSessionId: id })).toHaveLength(1);
    const retry = await refundOnce(id, 'f-after');
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.refunds[0].refund_id).toBe(flex.refunds({ checkoutSessionId: id })[0].refund_id);
    expect(flex.requests.filter((r) => r.idempotencyKey === 'f-after').map((r) => [r.status, r.fault, r.replayed])).toEqual([
      [500, 'after', false],
      [200, null, true],
    ]);
  });

  it('hang: never answers; after the work is done the retry replays it', async () => {
    const id = await paidSession();
    flex.faults.failNext({ path: /\/refund$/, when: 'after', hang: true });
    await expect(
      fetch(`${flex.url}/v1/checkout/sessions/${id}/refund`, {
        method: 'POST',
        headers: { authorization: `Bearer ${shop.key}`, 'content-type': 'application/json', 'idempotency-key': 'f-hang' },
        body: JSON.stringify({ checkout_session: { amount: 500 } }),
        signal: AbortSignal.timeout(150),
      }),
    ).rejects.toThrow();
    expect(flex.refunds({ checkoutSessionId: id })).toHaveLength(1);
    const retry = await refundOnce(id, 'f-hang');
    expect(retry.headers.get('idempotent-replayed')).toBe('true');

    flex.faults.failNext({ path: '/v1/checkout/sessions/:id', hang: true });
    await expect(
      fetch(`${flex.url}/v1/checkout/sessions/${id}`, { headers: { authorization: `Bearer ${shop.key}` }, signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    expect(flex.requests.at(-1)).toMatchObject({ status: null, fault: 'hang', route: '/v1/checkout/sessions/:id' });
  });

  it('errorRate fails API calls but never the control API or the hosted page', async () => {
    const session = await createSession(shop);
    flex.faults.set({ errorRate: 1 });
    expect((await call(shop.key, 'GET', '/v1/products')).status).toBe(500);
    expect((await fetch(session.redirect_url)).status).toBe(200);
    expect((await fetch(`${flex.url}/__sandbox/state`)).status).toBe(200);
    flex.faults.set({ errorRate: 0 });
    expect((await call(shop.key, 'GET', '/v1/products')).status).toBe(200);
  });

  it('can be set over HTTP', async () => {
    const failNext = await fetch(`${flex.url}/__sandbox/faults/fail-next`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: 'GET /v1/products', status: 429, times: 2 }),
    });
    expect(failNext.status).toBe(200);
    expect((await call(shop.key, 'GET', '/v1/products')).status).toBe(429);
    expect((await call(shop.key, 'GET', '/v1/products')).status).toBe(429);
    expect((await call(shop.key, 'GET', '/v1/products')).status).toBe(200);
    const bad = await fetch(`${flex.url}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 2 }),
    });
    expect(bad.status).toBe(400);
  });
});

describe('control API over HTTP', () => {
  const post = (path: string, body: Json = {}) =>
    fetch(`${flex.url}/__sandbox${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

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

    const before = flex.now();
    const advanced = (await (await post('/clock/advance', { seconds: 120 })).json()) as Json;
    expect(advanced.now - before).toBeGreaterThanOrEqual(120);

    const state = (await (await fetch(`${flex.url}/__sandbox/state`)).json()) as Json;
    const mine = state.accounts.find((a: Json) => a.accountId === account.accountId);
    expect(mine.test).toMatchObject({ products: 1, prices: 1, checkoutSessions: 1 });
    const malformed = await fetch(`${flex.url}/__sandbox/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(malformed.status).toBe(400);
  });

  it('serves a developer dashboard listing accounts and keys', async () => {
    const account = flex.createAccount({ name: 'Dashboard <Store>' });
    const html = await (await fetch(`${flex.url}/`)).text();
    expect(html).toContain('Dashboard &lt;Store&gt;');
    expect(html).toContain(account.testKey);
    expect((await fetch(`${flex.url}/__sandbox`)).headers.get('content-type')).toMatch(/text\/html/);
  });
});
