// The Shopify simulator over real HTTP, seen from a tiny Express "app" that receives its session
// requests and webhooks. Signatures are checked both independently and with @shopify/shopify-api.
import '@shopify/shopify-api/adapters/node';
import { execFileSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { ApiVersion, LogSeverity, shopifyApi, type Shopify } from '@shopify/shopify-api';
import { setAbstractFetchFunc } from '@shopify/shopify-api/runtime';
import express, { type Request, type Response } from 'express';
import { ShopifySimulator } from '../../sandbox/shopify';

const API_KEY = 'test-client-id';
const API_SECRET = 'test-client-secret';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  raw: string;
}

/** The payments app stand-in: records what arrives, answers what the test says. */
class TinyApp {
  received: Received[] = [];
  sessionAnswer: (req: Request, res: Response) => void = (req, res) => {
    res.status(200).json({ redirect_url: `https://flex.example/pay/${req.body.id}` });
  };
  followUpAnswer: (req: Request, res: Response) => void = (_req, res) => {
    res.status(201).json({});
  };
  webhookAnswer: (req: Request, res: Response) => void = (_req, res) => {
    res.status(200).end();
  };
  server!: http.Server;
  url = '';
  readonly express = express();

  constructor() {
    const record = (req: Request, raw: string) => {
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // keep the text
      }
      this.received.push({ path: req.path, headers: req.headers, body, raw });
      req.body = body;
    };
    const text = express.text({ type: () => true });
    this.express.post('/payments/sessions', text, (req, res) => {
      record(req, req.body as string);
      this.sessionAnswer(req, res);
    });
    this.express.post(['/payments/refunds', '/payments/captures', '/payments/voids'], text, (req, res) => {
      record(req, req.body as string);
      this.followUpAnswer(req, res);
    });
    this.express.post('/webhooks/shopify/*topic', text, (req, res) => {
      record(req, req.body as string);
      this.webhookAnswer(req, res);
    });
  }

  async start(): Promise<void> {
    this.server = http.createServer(this.express);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  last(pathPrefix: string): Received {
    const found = this.received.filter((r) => r.path.startsWith(pathPrefix)).at(-1);
    if (!found) throw new Error(`nothing received on ${pathPrefix}`);
    return found;
  }
}

const PAYMENT_FIELDS = `
  paymentSession {
    id
    state {
      __typename
      ... on PaymentSessionStateResolved { code }
      ... on PaymentSessionStateRejected { code reason merchantMessage }
      ... on PaymentSessionStatePending { code pendingReason: reason }
      ... on PaymentSessionStateRedirecting { code }
    }
    nextAction { action context { ... on PaymentSessionActionsRedirect { redirectUrl } } }
    authorizationExpiresAt
    pendingExpiresAt
  }`;

const RESOLVE = `mutation Resolve($id: ID!, $authorizationExpiresAt: DateTime) {
  paymentSessionResolve(id: $id, authorizationExpiresAt: $authorizationExpiresAt) { ${PAYMENT_FIELDS} userErrors { field message } } }`;
const REJECT = `mutation Reject($id: ID!, $reason: PaymentSessionRejectionReasonInput!) {
  paymentSessionReject(id: $id, reason: $reason) { ${PAYMENT_FIELDS} userErrors { field message } } }`;
const PENDING = `mutation Pending($id: ID!, $pendingExpiresAt: DateTime!, $reason: PaymentSessionStatePendingReason!) {
  paymentSessionPending(id: $id, pendingExpiresAt: $pendingExpiresAt, reason: $reason) { ${PAYMENT_FIELDS} userErrors { field message code } } }`;
const REFUND_RESOLVE = `mutation($id: ID!) { refundSessionResolve(id: $id) {
  refundSession { id state { ... on RefundSessionStateResolved { code } ... on RefundSessionStateRejected { code reason merchantMessage } } }
  userErrors { field message code } } }`;
const REFUND_REJECT = `mutation($id: ID!, $reason: RefundSessionRejectionReasonInput!) { refundSessionReject(id: $id, reason: $reason) {
  refundSession { id state { ... on RefundSessionStateResolved { code } ... on RefundSessionStateRejected { code reason merchantMessage } } }
  userErrors { field message code } } }`;
const CAPTURE_REJECT = `mutation($id: ID!, $reason: CaptureSessionRejectionReasonInput!) { captureSessionReject(id: $id, reason: $reason) {
  captureSession { id state { ... on CaptureSessionStateRejected { code reason merchantMessage } } } userErrors { field message code } } }`;
const VOID_RESOLVE = `mutation($id: ID!) { voidSessionResolve(id: $id) {
  voidSession { id state { ... on VoidSessionStateResolved { code } } } userErrors { field message code } } }`;

let shopify: ShopifySimulator;
let app: TinyApp;
let shop: { domain: string; accessToken: string };

async function gql(
  token: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
  { version = '2026-10', signal }: { version?: string; signal?: AbortSignal } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${shopify.url}/payments_apps/api/${version}/graphql.json`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { 'X-Shopify-Access-Token': token } : {}) },
    body: JSON.stringify({ query, variables }),
    signal,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body };
}

function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString();
}

beforeAll(async () => {
  app = new TinyApp();
  await app.start();
  // Started before the app knows anything, then configured: the usual order in integration tests.
  shopify = new ShopifySimulator({ port: 0, apiVersion: '2026-10' });
  await shopify.start();
  shopify.configureApp({ url: app.url, apiKey: API_KEY, apiSecret: API_SECRET, name: 'Flex HSA/FSA' });
  shop = shopify.createShop('demo.myshopify.com');
});

afterAll(async () => {
  await shopify.stop();
  await app.stop();
});

beforeEach(() => {
  shopify.faults.reset();
});

describe('session requests to the app', () => {
  it('sends a payment session with Shopify headers and the documented body', async () => {
    const sent = await shopify.sendPaymentSession(shop.domain, { amount: '123.00', kind: 'sale' });
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({ redirect_url: `https://flex.example/pay/${sent.session.id}` });
    expect(sent.session.redirectUrl).toBe(`https://flex.example/pay/${sent.session.id}`);

    const got = app.last('/payments/sessions');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['shopify-shop-domain']).toBe('demo.myshopify.com');
    expect(got.headers['shopify-api-version']).toBe('2026-10');
    expect(got.headers['shopify-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(got.headers['shopify-request-id']).toBe(sent.requestId);

    const body = got.body;
    expect(Object.keys(body).sort()).toEqual(
      ['amount', 'currency', 'customer', 'gid', 'group', 'id', 'kind', 'merchant_locale', 'payment_method', 'proposed_at', 'session_id', 'test'].sort(),
    );
    expect(body.id).toMatch(/^[0-9A-Za-z]{24}$/);
    expect(body.gid).toBe(`gid://shopify/PaymentSession/${body.id}`);
    expect(body).toMatchObject({ amount: '123.00', currency: 'USD', test: false, merchant_locale: 'en', kind: 'sale' });
    expect(body.payment_method).toEqual({
      type: 'offsite',
      data: { cancel_url: `${shopify.url}/checkouts/${encodeURIComponent(body.group)}/cancel` },
    });
    expect(new Date(body.proposed_at).toISOString().slice(0, 19)).toBe(body.proposed_at.slice(0, 19));
    expect(body.customer).toMatchObject({ email: 'buyer@example.com', phone_number: expect.any(String), locale: 'en' });
    expect(body.customer.billing_address).toMatchObject({ given_name: 'Alice', country_code: 'US' });
    expect(body.customer.shipping_address).toMatchObject({ line1: expect.any(String) });
  });

  it('lets the test override body fields and headers, and re-delivers a known id with a fresh request id', async () => {
    const first = await shopify.sendPaymentSession(shop.domain, {
      amount: 50,
      currency: 'CAD',
      kind: 'authorization',
      test: true,
      customer: null,
      body: { merchant_locale: 'fr' },
      headers: { 'Shopify-Api-Version': null, 'X-Extra': 'yes' },
    });
    const got = app.last('/payments/sessions');
    expect(got.body).toMatchObject({ amount: '50.00', currency: 'CAD', kind: 'authorization', test: true, merchant_locale: 'fr' });
    expect(got.body.customer).toBeUndefined();
    expect(got.headers['shopify-api-version']).toBeUndefined();
    expect(got.headers['x-extra']).toBe('yes');

    const again = await shopify.sendPaymentSession(shop.domain, { id: first.session.id, amount: '1.00' });
    const redelivered = app.last('/payments/sessions');
    expect(redelivered.raw).toBe(got.raw);
    expect(again.requestId).not.toBe(first.requestId);
    expect(again.session).toBe(first.session);

    await shopify.sendPaymentSession(shop.domain, { amount: '1.00', body: (b) => ({ ...b, amount: 'not-a-number' }) });
    expect(app.last('/payments/sessions').body.amount).toBe('not-a-number');
  });

  it('reports the app failure and retries with the same body when asked', async () => {
    let calls = 0;
    app.sessionAnswer = (req, res) => {
      calls += 1;
      if (calls < 3) res.status(503).json({ error: 'busy' });
      else res.status(201).json({ redirect_url: `https://flex.example/pay/${req.body.id}` });
    };
    try {
      const sent = await shopify.sendPaymentSession(shop.domain, { amount: '10.00', retries: 2 });
      expect(sent.status).toBe(201);
      expect(sent.session.answers.map((a) => a.status)).toEqual([503, 503, 201]);
      const ids = app.received.slice(-3).map((r) => r.headers['shopify-request-id']);
      expect(new Set(ids).size).toBe(3);
      expect(new Set(app.received.slice(-3).map((r) => r.raw)).size).toBe(1);
    } finally {
      app.sessionAnswer = (req, res) => res.status(200).json({ redirect_url: `https://flex.example/pay/${req.body.id}` });
    }
  });

  it('sends refund, capture and void sessions', async () => {
    const payment = await shopify.sendPaymentSession(shop.domain, { amount: '80.00', kind: 'authorization' });
    const refund = await shopify.sendRefundSession(shop.domain, { paymentId: payment.session.id, amount: '30.00' });
    expect(refund.status).toBe(201);
    expect(refund.body).toEqual({});
    const refundBody = app.last('/payments/refunds').body;
    expect(refundBody).toEqual({
      id: refund.session.id,
      gid: `gid://shopify/RefundSession/${refund.session.id}`,
      payment_id: payment.session.id,
      amount: '30.00',
      currency: 'USD',
      test: false,
      merchant_locale: 'en',
      proposed_at: expect.any(String),
    });

    const capture = await shopify.sendCaptureSession(shop.domain, { paymentId: payment.session.id });
    expect(app.last('/payments/captures').body).toMatchObject({
      gid: `gid://shopify/CaptureSession/${capture.session.id}`,
      payment_id: payment.session.id,
      amount: '80.00',
    });

    const voided = await shopify.sendVoidSession(shop.domain, { paymentId: payment.session.id });
    const voidBody = app.last('/payments/voids').body;
    expect(voidBody.gid).toBe(`gid://shopify/VoidSession/${voided.session.id}`);
    expect(voidBody.amount).toBeUndefined();
    expect(app.last('/payments/voids').headers['shopify-shop-domain']).toBe(shop.domain);
  });

  it('returns status 0 and an error when the app does not answer in time', async () => {
    app.sessionAnswer = () => {
      // never answers
    };
    try {
      const sent = await shopify.sendPaymentSession(shop.domain, { amount: '1.00', timeoutMs: 150 });
      expect(sent.status).toBe(0);
      expect(sent.error).toMatch(/timed out/);
    } finally {
      app.sessionAnswer = (req, res) => res.status(200).json({ redirect_url: `https://flex.example/pay/${req.body.id}` });
    }
  });
});

describe('GraphQL authentication and versions', () => {
  const INVALID = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };

  it('answers 401 without a valid token, 404 for an unsupported version', async () => {
    expect(await gql(undefined, '{ publicApiVersions { handle } }')).toMatchObject({ status: 401, body: INVALID });
    expect(await gql('shpat_nope', '{ publicApiVersions { handle } }')).toMatchObject({ status: 401, body: INVALID });
    expect((await gql(shop.accessToken, '{ publicApiVersions { handle } }', undefined, { version: '2023-01' })).status).toBe(404);
    const versions = await gql(shop.accessToken, '{ publicApiVersions { handle supported } }');
    expect(versions.body.data.publicApiVersions.map((v: { handle: string }) => v.handle)).toEqual(
      expect.arrayContaining(['2025-10', '2026-01', '2026-04', '2026-07', '2026-10']),
    );
  });

  it('refuses a token used for another shop when the URL names the shop', async () => {
    const url = `${shopify.url}/payments_apps/api/2026-10/graphql.json`;
    const call = (shopParam: string) =>
      fetch(`${url}?shop=${shopParam}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': shop.accessToken },
        body: JSON.stringify({ query: '{ publicApiVersions { handle } }' }),
      });
    expect((await call('demo.myshopify.com')).status).toBe(200);
    expect((await call('other.myshopify.com')).status).toBe(401);
    expect(shopify.mutations.at(-1)).toMatchObject({ shop: null, name: 'publicApiVersions', httpStatus: 401, failed: true });
  });

  it('rejects revoked tokens', async () => {
    const other = shopify.createShop('revoked.myshopify.com');
    expect((await gql(other.accessToken, '{ publicApiVersions { handle } }')).status).toBe(200);
    shopify.revokeToken(other.accessToken);
    expect((await gql(other.accessToken, '{ publicApiVersions { handle } }')).status).toBe(401);
  });

  it('answers syntax and validation errors with HTTP 200 and top-level errors', async () => {
    const syntax = await gql(shop.accessToken, 'mutation { paymentSessionResolve(id: ');
    expect(syntax.status).toBe(200);
    expect(syntax.body.errors[0].message).toMatch(/Syntax Error/);
    const unknown = await gql(shop.accessToken, 'mutation { paymentSessionFrobnicate(id: "x") { userErrors { message } } }');
    expect(unknown.status).toBe(200);
    expect(unknown.body.data).toBeUndefined();
    expect(unknown.body.errors[0].message).toMatch(/paymentSessionFrobnicate/);
    // The two `reason` fields have different enum types, so GraphQL's field-merging rule forbids
    // selecting both under one response name: alias one of them.
    const clash = await gql(
      shop.accessToken,
      `mutation { paymentSessionResolve(id: "x") { paymentSession { state {
        ... on PaymentSessionStateRejected { reason } ... on PaymentSessionStatePending { reason } } } userErrors { message } } }`,
    );
    expect(clash.body.errors[0].message).toMatch(/conflict/);
    const viaInterface = await gql(
      shop.accessToken,
      'mutation { paymentSessionResolve(id: "x") { paymentSession { state { ... on PaymentSessionState { code } } } userErrors { message } } }',
    );
    expect(viaInterface.body.errors).toBeUndefined();
    const badDate = await gql(shop.accessToken, PENDING, { id: 'gid://shopify/PaymentSession/x', pendingExpiresAt: 'tomorrow', reason: 'BUYER_ACTION_REQUIRED' });
    expect(badDate.body.errors[0].message).toMatch(/DateTime/);
  });

  it.each([
    ['2026-04', 'INSUFFICIENT_FUNDS', false],
    ['2026-07', 'INSUFFICIENT_FUNDS', true],
    ['2025-10', 'PROCESSING_ERROR', true],
    ['2026-10', 'CARD_TESTING', true],
  ])('in %s the rejection reason %s is valid: %s', async (version, code, valid) => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '5.00' });
    const res = await gql(shop.accessToken, REJECT, { id: session.gid, reason: { code, merchantMessage: 'no' } }, { version });
    expect(res.status).toBe(200);
    if (valid) {
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.paymentSessionReject.paymentSession.state).toMatchObject({ code: 'REJECTED', reason: code });
    } else {
      expect(res.body.errors[0].message).toMatch(/INSUFFICIENT_FUNDS/);
      expect(shopify.paymentSession(session.id)!.status).toBe('redirecting');
    }
  });

  it('knows reason.source from 2026-04 and MERCHANT_ACTION_REQUIRED from 2025-07', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '5.00' });
    const reason = { code: 'PROCESSING_ERROR', source: 'PROVIDER' };
    expect((await gql(shop.accessToken, REJECT, { id: session.gid, reason }, { version: '2026-01' })).body.errors).toBeDefined();
    const ok = await gql(shop.accessToken, REJECT, { id: session.gid, reason }, { version: '2026-04' });
    expect(ok.body.data.paymentSessionReject.userErrors).toEqual([]);
    expect(shopify.paymentSession(session.id)!.rejection).toMatchObject({ code: 'PROCESSING_ERROR', source: 'PROVIDER' });

    const pending = await shopify.sendPaymentSession(shop.domain, { amount: '5.00' });
    const vars = { id: pending.session.gid, pendingExpiresAt: inDays(1), reason: 'MERCHANT_ACTION_REQUIRED' };
    expect((await gql(shop.accessToken, PENDING, vars, { version: '2025-04' })).body.errors).toBeDefined();
    expect((await gql(shop.accessToken, PENDING, vars, { version: '2025-07' })).body.data.paymentSessionPending.userErrors).toEqual([]);
  });
});

describe('payment session mutation rules', () => {
  it('first finalizing mutation wins; repeats are idempotent; conflicts are user errors', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '20.00', kind: 'authorization' });
    const expiresAt = '2030-01-01T00:00:00Z';
    const first = await gql(shop.accessToken, RESOLVE, { id: session.gid, authorizationExpiresAt: expiresAt });
    const payload = first.body.data.paymentSessionResolve;
    expect(payload.userErrors).toEqual([]);
    expect(payload.paymentSession).toEqual({
      id: session.gid,
      state: { __typename: 'PaymentSessionStateResolved', code: 'RESOLVED' },
      nextAction: {
        action: 'REDIRECT',
        context: {
          redirectUrl: `${shopify.url}/checkouts/${encodeURIComponent(session.group)}/thank-you?payment_session=${session.id}`,
        },
      },
      authorizationExpiresAt: expiresAt,
      pendingExpiresAt: null,
    });

    const repeat = await gql(shop.accessToken, RESOLVE, { id: session.gid });
    expect(repeat.body.data.paymentSessionResolve).toEqual(payload);

    const conflict = await gql(shop.accessToken, REJECT, { id: session.gid, reason: { code: 'PROCESSING_ERROR' } });
    expect(conflict.body.data.paymentSessionReject.userErrors).toEqual([
      { field: ['id'], message: 'The payment session has already been resolved' },
    ]);
    expect(conflict.body.data.paymentSessionReject.paymentSession.state.code).toBe('RESOLVED');
    expect(shopify.paymentSession(session.id)).toMatchObject({ status: 'resolved', authorizationExpiresAt: expiresAt });

    const record = shopify.mutations.at(-1)!;
    expect(record).toMatchObject({ shop: shop.domain, version: '2026-10', name: 'paymentSessionReject', httpStatus: 200, failed: false });
    expect(record.userErrors).toHaveLength(1);
    expect(record.variables).toEqual({ id: session.gid, reason: { code: 'PROCESSING_ERROR' } });
  });

  it('rejects: a repeated reject succeeds with the first reason; resolve after reject conflicts', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '20.00' });
    const first = await gql(shop.accessToken, REJECT, { id: session.gid, reason: { code: 'CARD_DECLINED', merchantMessage: 'declined' } });
    const payload = first.body.data.paymentSessionReject;
    expect(payload.paymentSession.state).toEqual({
      __typename: 'PaymentSessionStateRejected',
      code: 'REJECTED',
      reason: 'CARD_DECLINED',
      merchantMessage: 'declined',
    });
    expect(payload.paymentSession.nextAction.context.redirectUrl).toBe(
      `${shopify.url}/checkouts/${encodeURIComponent(session.group)}?payment_error=CARD_DECLINED`,
    );
    // Shopify: "Subsequent paymentSessionReject mutation attempts will succeed, but the
    // RejectionReasonInput argument will be ignored."
    const same = await gql(shop.accessToken, REJECT, { id: session.gid, reason: { code: 'CARD_DECLINED', merchantMessage: 'again' } });
    expect(same.body.data.paymentSessionReject).toEqual(payload);
    const other = await gql(shop.accessToken, REJECT, { id: session.gid, reason: { code: 'PROCESSING_ERROR' } });
    expect(other.body.data.paymentSessionReject).toEqual(payload);
    const resolve = await gql(shop.accessToken, RESOLVE, { id: session.gid });
    expect(resolve.body.data.paymentSessionResolve.userErrors).toEqual([
      { field: ['id'], message: 'The payment session has already been rejected' },
    ]);
    expect(resolve.body.data.paymentSessionResolve.paymentSession.state.code).toBe('REJECTED');
    expect(shopify.paymentSession(session.id)!.rejection).toMatchObject({ code: 'CARD_DECLINED', merchantMessage: 'declined' });
  });

  it('pending: expiry must be in the future and within 3 days, only before a final state', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '20.00' });
    const pend = (pendingExpiresAt: string) =>
      gql(shop.accessToken, PENDING, { id: session.gid, pendingExpiresAt, reason: 'PARTNER_ACTION_REQUIRED' });

    const past = await pend(inDays(-0.01));
    expect(past.body.data.paymentSessionPending.userErrors).toEqual([
      { field: ['pendingExpiresAt'], message: expect.any(String), code: 'EXPIRED_PENDING_EXPIRES_AT' },
    ]);
    expect(past.body.data.paymentSessionPending.paymentSession.state.code).toBe('REDIRECTING');
    const far = await pend(inDays(3.1));
    expect(far.body.data.paymentSessionPending.userErrors[0].code).toBe('OUT_OF_RANGE_PENDING_EXPIRES_AT');

    const expiresAt = inDays(2);
    const ok = await pend(expiresAt);
    const payload = ok.body.data.paymentSessionPending;
    expect(payload.userErrors).toEqual([]);
    expect(payload.paymentSession.state).toEqual({
      __typename: 'PaymentSessionStatePending',
      code: 'PENDING',
      pendingReason: 'PARTNER_ACTION_REQUIRED',
    });
    expect(payload.paymentSession.pendingExpiresAt).toBe(expiresAt.replace(/\.\d{3}Z$/, 'Z'));
    expect(payload.paymentSession.nextAction.context.redirectUrl).toBe(
      `${shopify.url}/checkouts/${encodeURIComponent(session.group)}/processing?payment_session=${session.id}`,
    );

    const resolved = await gql(shop.accessToken, RESOLVE, { id: session.gid });
    expect(resolved.body.data.paymentSessionResolve.userErrors).toEqual([]);
    const late = await pend(inDays(1));
    expect(late.body.data.paymentSessionPending.userErrors[0].code).toBe('PENDING_INVALID_STATE');
    expect(late.body.data.paymentSessionPending.paymentSession.state.code).toBe('RESOLVED');
  });

  it('NOT_FOUND for sessions never sent, and for sessions of another shop', async () => {
    const unknown = await gql(shop.accessToken, RESOLVE, { id: 'gid://shopify/PaymentSession/doesnotexist' });
    expect(unknown.body.data.paymentSessionResolve).toEqual({
      paymentSession: null,
      userErrors: [{ field: ['id'], message: 'The payment session could not be found' }],
    });
    const pendingUnknown = await gql(shop.accessToken, PENDING, {
      id: 'gid://shopify/PaymentSession/doesnotexist',
      pendingExpiresAt: inDays(1),
      reason: 'BUYER_ACTION_REQUIRED',
    });
    expect(pendingUnknown.body.data.paymentSessionPending.userErrors[0].code).toBe('NOT_FOUND');

    const otherShop = shopify.createShop('other.myshopify.com');
    const { session } = await shopify.sendPaymentSession(otherShop.domain, { amount: '9.00' });
    const cross = await gql(shop.accessToken, RESOLVE, { id: session.gid });
    expect(cross.body.data.paymentSessionResolve.paymentSession).toBeNull();
    expect(shopify.paymentSession(session.id)!.status).toBe('redirecting');
    const own = await gql(otherShop.accessToken, RESOLVE, { id: session.gid });
    expect(own.body.data.paymentSessionResolve.userErrors).toEqual([]);
  });

  it('refund, capture and void sessions: first wins, typed user error codes', async () => {
    const payment = await shopify.sendPaymentSession(shop.domain, { amount: '40.00', kind: 'authorization' });
    const refund = (await shopify.sendRefundSession(shop.domain, { paymentId: payment.session.id })).session;
    const resolved = await gql(shop.accessToken, REFUND_RESOLVE, { id: refund.gid });
    expect(resolved.body.data.refundSessionResolve).toEqual({
      refundSession: { id: refund.gid, state: { code: 'RESOLVED' } },
      userErrors: [],
    });
    expect((await gql(shop.accessToken, REFUND_RESOLVE, { id: refund.gid })).body.data.refundSessionResolve.userErrors).toEqual([]);
    const conflict = await gql(shop.accessToken, REFUND_REJECT, { id: refund.gid, reason: { code: 'PROCESSING_ERROR' } });
    expect(conflict.body.data.refundSessionReject.userErrors[0].code).toBe('REFUND_SESSION_INVALID_STATE');
    expect(conflict.body.data.refundSessionReject.refundSession.state.code).toBe('RESOLVED');
    const missing = await gql(shop.accessToken, REFUND_RESOLVE, { id: 'gid://shopify/RefundSession/nope' });
    const refund2 = (await shopify.sendRefundSession(shop.domain, { paymentId: payment.session.id, amount: '1.00' })).session;
    const rejected2 = await gql(shop.accessToken, REFUND_REJECT, { id: refund2.gid, reason: { code: 'PROCESSING_ERROR', merchantMessage: 'x' } });
    expect(rejected2.body.data.refundSessionReject.refundSession.state).toEqual({ code: 'REJECTED', reason: 'PROCESSING_ERROR', merchantMessage: 'x' });
    const rejectedAgain = await gql(shop.accessToken, REFUND_REJECT, { id: refund2.gid, reason: { code: 'PROCESSING_ERROR' } });
    expect(rejectedAgain.body.data.refundSessionReject.userErrors).toEqual([]);
    const resolveAfterReject = await gql(shop.accessToken, REFUND_RESOLVE, { id: refund2.gid });
    expect(resolveAfterReject.body.data.refundSessionResolve.userErrors[0].code).toBe('REFUND_SESSION_INVALID_STATE');
    expect(missing.body.data.refundSessionResolve.userErrors[0].code).toBe('REFUND_SESSION_NOT_FOUND');
    // A payment gid is not a refund session.
    const wrongType = await gql(shop.accessToken, REFUND_RESOLVE, { id: payment.session.gid });
    expect(wrongType.body.data.refundSessionResolve.userErrors[0].code).toBe('REFUND_SESSION_NOT_FOUND');

    const capture = (await shopify.sendCaptureSession(shop.domain, { paymentId: payment.session.id })).session;
    const rejected = await gql(shop.accessToken, CAPTURE_REJECT, {
      id: capture.gid,
      reason: { code: 'AUTHORIZATION_EXPIRED', merchantMessage: 'too late' },
    });
    expect(rejected.body.data.captureSessionReject.captureSession.state).toEqual({
      code: 'REJECTED',
      reason: 'AUTHORIZATION_EXPIRED',
      merchantMessage: 'too late',
    });
    expect(shopify.captureSessions().find((c) => c.id === capture.id)!.status).toBe('rejected');

    const voided = (await shopify.sendVoidSession(shop.domain, { paymentId: payment.session.id })).session;
    const voidOk = await gql(shop.accessToken, VOID_RESOLVE, { id: voided.gid });
    expect(voidOk.body.data.voidSessionResolve.voidSession.state.code).toBe('RESOLVED');
    await expect(shopify.waitForFollowUpSession(voided.id, { timeoutMs: 100 })).resolves.toMatchObject({ status: 'resolved' });
  });

  it('paymentsAppConfigure is stored per shop and shown in admin', async () => {
    const res = await gql(
      shop.accessToken,
      'mutation { paymentsAppConfigure(ready: true, externalHandle: "acct_demo") { paymentsAppConfiguration { externalHandle ready } userErrors { field message } } }',
    );
    expect(res.body.data.paymentsAppConfigure).toEqual({
      paymentsAppConfiguration: { externalHandle: 'acct_demo', ready: true },
      userErrors: [],
    });
    expect(shopify.paymentsAppConfiguration(shop.domain)).toMatchObject({ ready: true, externalHandle: 'acct_demo' });
    expect(shopify.paymentsAppConfiguration('other.myshopify.com')).toBeNull();
    const admin = await (await fetch(`${shopify.url}/admin?shop=${shop.domain}`)).text();
    expect(admin).toContain('acct_demo');
    expect(admin).toContain('/admin/apps/open?shop=demo.myshopify.com');
  });

  it('records the arguments of inline-literal mutations', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '1.00' });
    await gql(shop.accessToken, `mutation { paymentSessionResolve(id: "${session.gid}") { userErrors { message } } }`);
    expect(shopify.mutations.at(-1)).toMatchObject({ name: 'paymentSessionResolve', args: { id: session.gid }, variables: null });
  });
});

describe('waiting for the app', () => {
  it('waitForPaymentSession and waitForMutation resolve when the app calls back', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '4.00' });
    const waiting = shopify.waitForPaymentSession(session.id, { timeoutMs: 2000 });
    const mutation = shopify.waitForMutation((m) => m.name === 'paymentSessionResolve' && m.args?.id === session.gid);
    setTimeout(() => void gql(shop.accessToken, RESOLVE, { id: session.gid }), 20);
    await expect(waiting).resolves.toMatchObject({ id: session.id, status: 'resolved' });
    await expect(mutation).resolves.toMatchObject({ httpStatus: 200, userErrors: [] });
    await expect(shopify.waitForPaymentSession('never-sent', { timeoutMs: 50 })).rejects.toThrow(/Timed out/);
  });
});

describe('faults', () => {
  it('5xx: error status, no state change, the retry succeeds', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '3.00' });
    shopify.faults.failNext({ mutation: 'paymentSessionResolve', status: 502 });
    // Another mutation does not consume it.
    expect((await gql(shop.accessToken, '{ publicApiVersions { handle } }')).status).toBe(200);
    const failed = await gql(shop.accessToken, RESOLVE, { id: session.gid });
    expect(failed.status).toBe(502);
    expect(shopify.paymentSession(session.id)!.status).toBe('redirecting');
    expect(shopify.mutations.at(-1)).toMatchObject({ fault: 502, failed: true, httpStatus: 502, name: 'paymentSessionResolve' });
    expect((await gql(shop.accessToken, RESOLVE, { id: session.gid })).body.data.paymentSessionResolve.userErrors).toEqual([]);
  });

  it('429 with Retry-After, times: 2', async () => {
    shopify.faults.failNext({ status: 429, times: 2, retryAfterSeconds: 3 });
    for (let i = 0; i < 2; i++) {
      const res = await gql(shop.accessToken, '{ publicApiVersions { handle } }');
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBe(3);
    }
    expect((await gql(shop.accessToken, '{ publicApiVersions { handle } }')).status).toBe(200);
  });

  it('throttled: HTTP 200 with a THROTTLED error and cost extensions', async () => {
    shopify.faults.failNext({ status: 'throttled' });
    const res = await gql(shop.accessToken, '{ publicApiVersions { handle } }');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
      extensions: {
        cost: {
          requestedQueryCost: 10,
          actualQueryCost: null,
          throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 0, restoreRate: 50 },
        },
      },
    });
  });

  it('timeout: the request is held until the client gives up', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '3.00' });
    shopify.faults.failNext({ mutation: 'paymentSessionResolve', status: 'timeout' });
    await expect(gql(shop.accessToken, RESOLVE, { id: session.gid }, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    expect(shopify.paymentSession(session.id)!.status).toBe('redirecting');
    expect(shopify.mutations.at(-1)).toMatchObject({ fault: 'timeout', httpStatus: null });
    expect((await gql(shop.accessToken, RESOLVE, { id: session.gid })).status).toBe(200);
  });
});

describe('checkout pages and the human UI', () => {
  it('serves the thank-you, processing, error and cancel pages', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '12.00' });
    const res = await gql(shop.accessToken, RESOLVE, { id: session.gid });
    const thankYou = await fetch(res.body.data.paymentSessionResolve.paymentSession.nextAction.context.redirectUrl);
    expect(thankYou.status).toBe(200);
    expect(await thankYou.text()).toContain('Order confirmed');
    const cancel = await (await fetch(`${shopify.url}/checkouts/${encodeURIComponent(session.group)}/cancel`)).text();
    expect(cancel).toMatch(/choose a payment method/i);
    const error = await (await fetch(`${shopify.url}/checkouts/${encodeURIComponent(session.group)}?payment_error=CARD_DECLINED`)).text();
    expect(error).toContain('CARD_DECLINED');
  });

  it('the index checkout form sends a payment session and redirects to the app', async () => {
    const index = await (await fetch(`${shopify.url}/`)).text();
    expect(index).toContain('Checkout');
    expect(index).toContain('demo.myshopify.com');
    const res = await fetch(`${shopify.url}/checkout`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ shop: shop.domain, amount: '7.50', kind: 'authorization', test: '1' }).toString(),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    const sent = app.last('/payments/sessions').body;
    expect(sent).toMatchObject({ amount: '7.50', kind: 'authorization', test: true });
    expect(res.headers.get('location')).toBe(`https://flex.example/pay/${sent.id}`);
    expect(await (await fetch(`${shopify.url}/mutations`)).text()).toContain('paymentSessionResolve');
  });

  it('exposes controls under /__sandbox', async () => {
    const created = await fetch(`${shopify.url}/__sandbox/shops`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ domain: 'control.myshopify.com' }),
    });
    const { accessToken } = (await created.json()) as { accessToken: string };
    expect(accessToken).toMatch(/^shpat_/);
    const sent = await fetch(`${shopify.url}/__sandbox/payment-sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ shop: 'control.myshopify.com', amount: '2.00' }),
    });
    const body = (await sent.json()) as { status: number; session: { gid: string } };
    expect(body.status).toBe(200);
    expect((await gql(accessToken, RESOLVE, { id: body.session.gid })).body.data.paymentSessionResolve.userErrors).toEqual([]);
    const bad = await fetch(`${shopify.url}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ status: 418 }),
    });
    expect(bad.status).toBe(400);
  });
});

it('stop() releases requests held by a timeout fault and closes keep-alive connections', async () => {
  const sim = await new ShopifySimulator({ app: { url: app.url, apiKey: API_KEY, apiSecret: API_SECRET } }).start();
  const token = sim.createShop('held.myshopify.com').accessToken;
  sim.faults.failNext({ status: 'timeout' });
  const held = fetch(`${sim.url}/payments_apps/api/2026-10/graphql.json`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': token },
    body: JSON.stringify({ query: '{ publicApiVersions { handle } }' }),
  });
  await sim.waitForMutation((m) => m.fault === 'timeout');
  const started = Date.now();
  await sim.stop();
  await expect(held).rejects.toThrow();
  expect(Date.now() - started).toBeLessThan(1000);
});

// ---- OAuth ----

function verifyQueryHmac(query: URLSearchParams, secret: string): boolean {
  // Independent of the simulator: sorted key=value pairs (encoded), joined by &, without hmac.
  const message = [...query.entries()]
    .filter(([k]) => k !== 'hmac')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  const expected = createHmac('sha256', secret).update(message).digest('hex');
  return timingSafeEqual(Buffer.from(expected), Buffer.from(query.get('hmac') ?? ''.padEnd(64)));
}

function libraryFor(appUrl: string): Shopify {
  return shopifyApi({
    apiKey: API_KEY,
    apiSecretKey: API_SECRET,
    scopes: ['read_orders'],
    hostName: new URL(appUrl).host,
    hostScheme: 'http',
    apiVersion: ApiVersion.October26,
    isEmbeddedApp: false,
    logger: { level: LogSeverity.Error, log: async () => {} },
  });
}

describe('OAuth', () => {
  it('installUrl is signed so that @shopify/shopify-api accepts it', async () => {
    shopify.addShop('fresh.myshopify.com');
    const url = new URL(shopify.installUrl('fresh.myshopify.com'));
    expect(url.origin + url.pathname).toBe(`${app.url}/`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      embedded: '0',
      shop: 'fresh.myshopify.com',
      host: Buffer.from('admin.shopify.com/store/fresh').toString('base64url'),
      timestamp: expect.stringMatching(/^\d+$/),
    });
    expect(verifyQueryHmac(url.searchParams, API_SECRET)).toBe(true);
    const lib = libraryFor(app.url);
    await expect(lib.utils.validateHmac(Object.fromEntries(url.searchParams))).resolves.toBe(true);
    url.searchParams.set('shop', 'evil.myshopify.com');
    await expect(lib.utils.validateHmac(Object.fromEntries(url.searchParams))).resolves.toBe(false);
  });

  it('authorize page → Install → signed callback → single-use code → working token', async () => {
    const authorize = new URL(`${shopify.url}/admin/oauth/authorize`);
    authorize.search = new URLSearchParams({
      client_id: API_KEY,
      scope: 'read_orders',
      redirect_uri: `${app.url}/auth/callback`,
      state: '12345',
      'grant_options[]': '',
      shop: 'merchant.myshopify.com',
    }).toString();
    const page = await fetch(authorize);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Install');
    expect(html).toContain('merchant.myshopify.com');

    const install = await fetch(`${shopify.url}/admin/oauth/authorize`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: authorize.searchParams.toString(),
      redirect: 'manual',
    });
    expect(install.status).toBe(302);
    const callback = new URL(install.headers.get('location')!);
    expect(callback.origin + callback.pathname).toBe(`${app.url}/auth/callback`);
    expect([...callback.searchParams.keys()].sort()).toEqual(['code', 'hmac', 'host', 'shop', 'state', 'timestamp']);
    expect(callback.searchParams.get('state')).toBe('12345');
    expect(verifyQueryHmac(callback.searchParams, API_SECRET)).toBe(true);
    await expect(libraryFor(app.url).utils.validateHmac(Object.fromEntries(callback.searchParams))).resolves.toBe(true);

    const exchange = (body: Record<string, string>) =>
      fetch(`${shopify.url}/admin/oauth/access_token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
      });
    const code = callback.searchParams.get('code')!;
    const wrongSecret = await exchange({ client_id: API_KEY, client_secret: 'nope', code });
    expect(wrongSecret.status).toBe(401);
    const ok = await exchange({ client_id: API_KEY, client_secret: API_SECRET, code, expiring: '0' });
    expect(ok.status).toBe(200);
    const token = (await ok.json()) as { access_token: string; scope: string; expires_in?: number };
    expect(token.access_token).toMatch(/^shpat_/);
    expect(token.scope.split(',')).toEqual(expect.arrayContaining(['read_orders', 'write_payment_sessions', 'write_payment_gateways']));
    expect(token.expires_in).toBeUndefined();
    const reused = await exchange({ client_id: API_KEY, client_secret: API_SECRET, code });
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ error: 'invalid_request' });

    expect((await gql(token.access_token, '{ publicApiVersions { handle } }')).status).toBe(200);
    expect(shopify.shop('merchant.myshopify.com')).toMatchObject({ installed: true });
  });

  it('refuses a wrong client_id or a foreign redirect_uri, and expired codes', async () => {
    const params = {
      client_id: API_KEY,
      scope: '',
      redirect_uri: `${app.url}/auth/callback`,
      state: 's',
      shop: 'strict.myshopify.com',
    };
    const get = (p: Record<string, string>) => fetch(`${shopify.url}/admin/oauth/authorize?${new URLSearchParams(p)}`);
    expect((await get({ ...params, client_id: 'other' })).status).toBe(400);
    expect((await get({ ...params, redirect_uri: 'https://attacker.example/cb' })).status).toBe(400);

    const install = await fetch(`${shopify.url}/admin/oauth/authorize`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
      redirect: 'manual',
    });
    const code = new URL(install.headers.get('location')!).searchParams.get('code')!;
    shopify.advanceClock(601);
    try {
      const res = await fetch(`${shopify.url}/admin/oauth/access_token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: API_KEY, client_secret: API_SECRET, code }).toString(),
      });
      expect(res.status).toBe(400);
    } finally {
      shopify.advanceClock(-601);
    }
  });

  it('completes a real @shopify/shopify-api begin/callback flow, with expiring tokens and refresh', async () => {
    const lib = libraryFor(app.url);
    // The app sends https://{shop}/… to the simulator, path unchanged.
    setAbstractFetchFunc(async (input, init) => {
      const url = new URL(String(input));
      return fetch(`${shopify.url}${url.pathname}${url.search}`, init);
    });
    let sessionSeen: any;
    app.express.get('/auth', async (req, res) => {
      await lib.auth.begin({ shop: String(req.query.shop), callbackPath: '/auth/callback', isOnline: false, rawRequest: req, rawResponse: res });
    });
    app.express.get('/auth/callback', async (req, res) => {
      const { session } = await lib.auth.callback({ rawRequest: req, rawResponse: res, expiring: true });
      sessionSeen = session;
      res.status(200).send('installed');
    });

    // The library refuses bots, and Node's fetch says "node".
    const browser = { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36' };
    const begin = await fetch(`${app.url}/auth?shop=library.myshopify.com`, { redirect: 'manual', headers: browser });
    expect(begin.status).toBe(302);
    const cookies = begin.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const location = new URL(begin.headers.get('location')!);
    expect(location.host).toBe('library.myshopify.com');
    const authorize = `${shopify.url}${location.pathname}${location.search}&shop=library.myshopify.com`;

    const page = await (await fetch(authorize)).text();
    const fields = Object.fromEntries([...page.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]!.replace(/&amp;/g, '&')]));
    const install = await fetch(`${shopify.url}/admin/oauth/authorize`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
    const callback = await fetch(install.headers.get('location')!, { headers: { ...browser, Cookie: cookies } });
    expect(await callback.text()).toBe('installed');
    expect(sessionSeen).toMatchObject({ shop: 'library.myshopify.com', isOnline: false });
    expect(sessionSeen.refreshToken).toMatch(/^shprt_/);
    expect(sessionSeen.expires.getTime()).toBeGreaterThan(Date.now() + 3500_000);
    expect((await gql(sessionSeen.accessToken, '{ publicApiVersions { handle } }')).status).toBe(200);

    const refreshed = await lib.auth.refreshToken({ shop: 'library.myshopify.com', refreshToken: sessionSeen.refreshToken });
    expect(refreshed.session.accessToken).not.toBe(sessionSeen.accessToken);
    expect((await gql(refreshed.session.accessToken, '{ publicApiVersions { handle } }')).status).toBe(200);
    await expect(lib.auth.refreshToken({ shop: 'library.myshopify.com', refreshToken: sessionSeen.refreshToken })).rejects.toThrow();

    // Already installed with these scopes: Shopify skips the consent page.
    const again = await fetch(authorize, { redirect: 'manual' });
    expect(again.status).toBe(302);
    expect(again.headers.get('location')).toContain('/auth/callback?code=');
  });
});

// ---- webhooks ----

describe('webhooks', () => {
  it('signs the raw body; the app can verify independently and with @shopify/shopify-api', async () => {
    const delivery = await shopify.sendWebhook(shop.domain, 'customers/redact', undefined, { webhookId: 'wh-1' });
    expect(delivery.status).toBe(200);
    const got = app.last('/webhooks/shopify/customers/redact');
    const expected = createHmac('sha256', API_SECRET).update(got.raw).digest('base64');
    expect(got.headers['x-shopify-hmac-sha256']).toBe(expected);
    expect(got.headers).toMatchObject({
      'x-shopify-topic': 'customers/redact',
      'x-shopify-shop-domain': shop.domain,
      'x-shopify-webhook-id': 'wh-1',
      'x-shopify-api-version': '2026-10',
      'x-shopify-event-id': expect.any(String),
      'x-shopify-triggered-at': expect.any(String),
    });
    expect(got.body).toMatchObject({
      shop_id: expect.any(Number),
      shop_domain: shop.domain,
      customer: { id: expect.any(Number), email: 'buyer@example.com', phone: expect.any(String) },
      orders_to_redact: expect.any(Array),
    });

    const lib = libraryFor(app.url);
    const fakeReq = { headers: got.headers, method: 'POST', url: got.path } as unknown as http.IncomingMessage;
    const fakeRes = {} as http.ServerResponse;
    const check = await lib.webhooks.validate({ rawBody: got.raw, rawRequest: fakeReq, rawResponse: fakeRes });
    expect(check).toMatchObject({ valid: true, topic: 'CUSTOMERS_REDACT', domain: shop.domain, webhookId: 'wh-1' });

    await shopify.sendWebhook(shop.domain, 'customers/redact', undefined, { webhookId: 'wh-1', tamperHmac: true });
    const tampered = app.last('/webhooks/shopify/customers/redact');
    expect(tampered.headers['x-shopify-webhook-id']).toBe('wh-1');
    expect(tampered.headers['x-shopify-hmac-sha256']).not.toBe(createHmac('sha256', API_SECRET).update(tampered.raw).digest('base64'));
  });

  it('has default payloads for the compliance topics', async () => {
    await shopify.sendWebhook(shop.domain, 'customers/data_request');
    expect(app.last('/webhooks/shopify/customers/data_request').body).toMatchObject({
      shop_id: expect.any(Number),
      shop_domain: shop.domain,
      orders_requested: expect.any(Array),
      customer: { email: expect.any(String) },
      data_request: { id: expect.any(Number) },
    });
    await shopify.sendWebhook(shop.domain, 'shop/redact');
    expect(app.last('/webhooks/shopify/shop/redact').body).toEqual({
      shop_id: shopify.shop(shop.domain)!.shopId,
      shop_domain: shop.domain,
    });
  });

  it('uninstallApp revokes tokens and sends app/uninstalled', async () => {
    const doomed = shopify.createShop('doomed.myshopify.com');
    const delivery = await shopify.uninstallApp('doomed.myshopify.com');
    expect(delivery).toMatchObject({ topic: 'app/uninstalled', status: 200 });
    expect(app.last('/webhooks/shopify/app/uninstalled').body).toMatchObject({ myshopify_domain: 'doomed.myshopify.com' });
    expect((await gql(doomed.accessToken, '{ publicApiVersions { handle } }')).status).toBe(401);
    expect(shopify.shop('doomed.myshopify.com')!.installed).toBe(false);
  });
});

// ---- mTLS ----

describe('mutual TLS on session requests', () => {
  let dir: string;
  let tlsServer: https.Server;
  let tlsUrl: string;
  let ca: string;
  let client: { cert: string; key: string };
  const seen: Array<{ authorized: boolean; subject?: string | string[] }> = [];

  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shopify-mtls-'));
    writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=Test Payments Platform CA');
    for (const name of ['server', 'client']) {
      const cn = name === 'server' ? '127.0.0.1' : 'payments.shopify.test';
      openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
    }
    const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
    ca = read('ca.crt');
    client = { cert: read('client.crt'), key: read('client.key') };
    const mtlsApp = express();
    mtlsApp.post('/payments/sessions', express.json(), (req, res) => {
      const socket = req.socket as TLSSocket;
      seen.push({ authorized: socket.authorized, subject: socket.getPeerCertificate()?.subject?.CN });
      res.json({ redirect_url: `https://flex.example/pay/${req.body.id}` });
    });
    tlsServer = https.createServer({ key: read('server.key'), cert: read('server.crt'), ca, requestCert: true, rejectUnauthorized: true }, mtlsApp);
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    tlsUrl = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    shopify.configureApp({ paymentsUrl: undefined, clientTls: undefined });
    await new Promise<void>((resolve) => {
      tlsServer.close(() => resolve());
      tlsServer.closeAllConnections();
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it('presents the client certificate to the app’s mTLS listener (paymentsUrl)', async () => {
    shopify.configureApp({ paymentsUrl: tlsUrl, clientTls: { ...client, ca } });
    const sent = await shopify.sendPaymentSession(shop.domain, { amount: '15.00' });
    expect(sent.status).toBe(200);
    expect(seen.at(-1)).toEqual({ authorized: true, subject: 'payments.shopify.test' });

    const withoutCert = await shopify.sendPaymentSession(shop.domain, { amount: '15.00', tls: false });
    expect(withoutCert.status).toBe(0);
    expect(withoutCert.error).toBeDefined();
    expect(seen).toHaveLength(1);
  });
});
