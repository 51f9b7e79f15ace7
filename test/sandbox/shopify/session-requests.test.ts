// Session requests the simulator sends to the app: bodies, headers, overrides, retries, timeouts,
// and the client certificate of the mTLS listener.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import express from 'express';
import type { ShopifySimulator } from '../../../sandbox/shopify';
import { type SimulatorEnv, type TinyApp, useShopifySimulator } from './helpers';

const env = useShopifySimulator();
let shopify: ShopifySimulator;
let app: TinyApp;
let shop: SimulatorEnv['shop'];
beforeAll(() => {
  ({ shopify, app, shop } = env);
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
