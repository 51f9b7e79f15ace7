import { rmSync } from 'node:fs';
import { startCheckout } from '../support/buyer';
import { freePort, useHarness } from '../support/harness';
import { makePki, type Pki } from '../support/pki';

/**
 * Shopify sends session requests over mutual TLS. With PAYMENTS_MTLS_* configured, session routes are
 * served over HTTPS and only to a client certificate signed by the configured CA.
 */

describe('mutual TLS on session routes', () => {
  let pki: Pki;
  const { h, shop } = useHarness(async () => {
    pki = makePki();
    return {
      env: {
        PAYMENTS_MTLS_CA: pki.shopifyCa,
        PAYMENTS_MTLS_CERT: pki.server.cert,
        PAYMENTS_MTLS_KEY: pki.server.key,
        PAYMENTS_MTLS_PORT: String(await freePort()),
      },
      shopifyClientTls: { ...pki.client, ca: pki.serverCa },
    };
  });
  afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));

  const stored = () => h.prisma.paymentSession.count();

  it('serves Shopify’s request with a certificate from the configured CA', async () => {
    expect(h.app.servers.sessionsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const sent = await h.shopify.sendPaymentSession(shop.domain, { amount: '10.00' });
    expect(sent.status).toBe(201);
    expect((sent.body as any).redirect_url).toMatch(/\/pay\/[0-9a-f-]{36}$/);
  });

  it('refuses a request without a client certificate, storing nothing', async () => {
    const before = await stored();
    const sent = await h.shopify.sendPaymentSession(shop.domain, { amount: '10.00', tls: false });
    expect(sent.status).toBe(401);
    expect((sent.body as any).error.code).toBe('client_certificate_required');
    expect(await stored()).toBe(before);
  });

  it('refuses a certificate signed by another CA, storing nothing', async () => {
    const before = await stored();
    h.shopify.configureApp({ clientTls: { ...pki.rogueClient, ca: pki.serverCa } });
    try {
      const sent = await h.shopify.sendPaymentSession(shop.domain, { amount: '10.00' });
      expect(sent.status).toBe(401);
      expect((sent.body as any).error.message).toMatch(/client certificate refused/);
    } finally {
      h.shopify.configureApp({ clientTls: { ...pki.client, ca: pki.serverCa } });
    }
    expect(await stored()).toBe(before);
  });

  it('refuses session requests on the plain HTTP listener', async () => {
    const before = await stored();
    const res = await fetch(`${h.app.servers.httpUrl}/payments/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'shopify-shop-domain': shop.domain, 'shopify-api-version': '2026-10' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(await stored()).toBe(before);
  });

  it('keeps buyer pages and webhooks on plain HTTP', async () => {
    const res = await fetch(`${h.app.servers.httpUrl}/healthz`);
    expect(res.status).toBe(200);
    const webhook = await fetch(`${h.app.servers.httpUrl}/webhooks/flex?shop=${shop.domain}&mode=live`, { method: 'POST', body: '{}' });
    expect(webhook.status).toBe(401); // reached the handler: unsigned, so refused
  });

  it('refuses refund, capture and void requests without the client certificate and stores nothing; serves them with it', async () => {
    const { session } = await startCheckout(h, shop, { amount: '10.00', kind: 'authorization' });
    for (const send of [
      () => h.shopify.sendRefundSession(shop.domain, { paymentId: session.id, amount: '1.00', tls: false }),
      () => h.shopify.sendCaptureSession(shop.domain, { paymentId: session.id, amount: '1.00', tls: false }),
      () => h.shopify.sendVoidSession(shop.domain, { paymentId: session.id, tls: false }),
    ]) {
      const refused = await send();
      expect(refused.status).toBe(401);
      expect((refused.body as any).error.code).toBe('client_certificate_required');
    }
    // The plain HTTP listener does not serve them either.
    const plain = await fetch(`${h.app.servers.httpUrl}/payments/refunds`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(plain.status).toBe(401);
    expect((await h.prisma.refundSession.count()) + (await h.prisma.captureSession.count()) + (await h.prisma.voidSession.count())).toBe(0);

    const accepted = await h.shopify.sendVoidSession(shop.domain, { paymentId: session.id });
    expect(accepted.status).toBe(201);
    expect(await h.prisma.voidSession.count()).toBe(1);
  });
});
