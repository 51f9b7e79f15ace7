// What the Flex sandbox tests share: a sandbox per test file, a webhook receiver whose answers a
// test can script, a Svix verifier written here from the spec (independent of the sandbox's own
// signing code), and small clients for the API, the hosted page and the control API.
import { createHmac, timingSafeEqual } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FlexSandbox, type FeeSchedule, type FlexAccount, type FlexSandboxOptions, type PayoutSchedule } from '../../../sandbox/flex';

export type Json = Record<string, any>;

export interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: Json;
  at: number;
}

/** A webhook receiver whose answer each test can script. */
export class Receiver {
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
export function verifySvix(raw: string, headers: IncomingHttpHeaders, secret: string): boolean {
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

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Shop {
  account: FlexAccount;
  key: string;
  /** A $25.00 HSA/FSA-eligible product and a $15.00 ineligible one. */
  eligiblePrice: string;
  plainPrice: string;
  secret: string;
}

export interface ApiAnswer {
  status: number;
  body: Json;
  headers: Headers;
}

/** Short lifetimes and retry delays, so a test never waits long. */
export const TEST_OPTIONS: FlexSandboxOptions = {
  webhookRetryDelaysMs: [0, 40, 80],
  webhookTimeoutMs: 300,
  refundSettleDelayMs: 30,
  checkoutSessionLifetimeSeconds: 3600,
  authorizationLifetimeSeconds: 7 * 86400,
};

/**
 * Starts a sandbox and a receiver for the test file (`beforeAll`), stops them (`afterAll`), and
 * puts back faults, refund behaviour, eligibility registry, fees and payout schedule after each test.
 */
export class FlexTestBed {
  flex!: FlexSandbox;
  receiver!: Receiver;
  private fees!: FeeSchedule;
  private payoutSchedule!: PayoutSchedule;

  constructor(options: FlexSandboxOptions = {}) {
    beforeAll(async () => {
      this.receiver = new Receiver();
      await this.receiver.start();
      this.flex = await new FlexSandbox({ ...TEST_OPTIONS, ...options }).start();
      this.fees = this.flex.feeSchedule;
      this.payoutSchedule = this.flex.payoutSchedule;
    });
    afterAll(async () => {
      await this.flex.stop();
      await this.receiver.stop();
    });
    afterEach(async () => {
      this.flex.faults.reset();
      this.flex.setRefundBehaviour('auto_succeed');
      this.flex.clearProductEligibility();
      this.flex.setFeeSchedule(this.fees);
      this.flex.setPayoutSchedule(this.payoutSchedule);
      this.receiver.respond = () => 200;
      await this.flex.waitForDeliveries({ timeoutMs: 5000 });
      this.receiver.received.length = 0;
    });
  }

  call = async (key: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> => {
    const res = await fetch(`${this.flex.url}${path}`, {
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
  };

  /** POST or GET on the control API (`/__sandbox…`); answers status and JSON. */
  control = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${this.flex.url}/__sandbox${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
  };

  /** A product and a price for it; returns both ids. */
  product = async (key: string, product: Json, unitAmount: number): Promise<{ productId: string; priceId: string; product: Json }> => {
    const created = await this.call(key, 'POST', '/v1/products', { product });
    expect(created.status).toBe(200);
    const price = await this.call(key, 'POST', '/v1/prices', { price: { product: created.body.product.product_id, unit_amount: unitAmount } });
    expect(price.status).toBe(200);
    return { productId: created.body.product.product_id, priceId: price.body.price.price_id, product: created.body.product };
  };

  makeShop = async (opts: { live?: boolean; webhook?: boolean } = {}): Promise<Shop> => {
    const account = this.flex.createAccount({ name: 'Demo Store' });
    const key = opts.live ? account.liveKey : account.testKey;
    const eligiblePrice = (await this.product(key, { name: 'Thermometer', hsa_fsa_eligibility: 'auto_substantiation' }, 2500)).priceId;
    const plainPrice = (await this.product(key, { name: 'Sunglasses', hsa_fsa_eligibility: 'not_eligible' }, 1500)).priceId;
    let secret = '';
    if (opts.webhook !== false) {
      const hook = await this.call(key, 'POST', '/v1/webhooks', { webhook: { url: this.receiver.url, events: ['*'] } });
      expect(hook.status).toBe(200);
      secret = hook.body.webhook.signing_secret;
    }
    return { account, key, eligiblePrice, plainPrice, secret };
  };

  /** Two thermometers ($50, eligible) and sunglasses ($15): $65.00, unless `extra` says otherwise. */
  createSession = async (shop: Shop, extra: Json = {}, headers: Record<string, string> = {}): Promise<Json> => {
    const res = await this.call(
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
  };

  /** The buyer presses a button on the hosted page. */
  buyerChooses = async (sessionId: string, outcome: string, extra: Record<string, string> = {}): Promise<Response> => {
    return fetch(`${this.flex.url}/pay/c/${sessionId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ outcome, ...extra }).toString(),
      redirect: 'manual',
    });
  };

  getSession = async (shop: Shop, id: string, query = ''): Promise<Json> => {
    const res = await this.call(shop.key, 'GET', `/v1/checkout/sessions/${id}${query}`);
    expect(res.status).toBe(200);
    return res.body.checkout_session;
  };
}
