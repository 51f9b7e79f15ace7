import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, Harness, type RegisteredShop } from '../support/harness';

/**
 * Shopify sends session requests over mutual TLS. With PAYMENTS_MTLS_* configured, session routes are
 * served over HTTPS and only to a client certificate signed by the configured CA.
 */

interface Pki {
  dir: string;
  shopifyCa: string;
  serverCa: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
  rogueClient: { cert: string; key: string };
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA standing in for Shopify's, a server CA, and certificates for the app, Shopify and an impostor. */
function makePki(): Pki {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flex-mtls-'));
  const ca = (name: string) => openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
  const leaf = (name: string, caName: string, extensions: string) => {
    writeFileSync(path.join(dir, `${name}.ext`), extensions);
    openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  };
  ca('shopify-payments-ca');
  ca('server-ca');
  ca('rogue-ca');
  leaf('server', 'server-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('shopify-client', 'shopify-payments-ca', 'extendedKeyUsage=clientAuth\n');
  leaf('rogue-client', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
  const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
  return {
    dir,
    shopifyCa: path.join(dir, 'shopify-payments-ca.crt'),
    serverCa: read('server-ca.crt'),
    server: { cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') },
    client: { cert: read('shopify-client.crt'), key: read('shopify-client.key') },
    rogueClient: { cert: read('rogue-client.crt'), key: read('rogue-client.key') },
  };
}

describe('mutual TLS on session routes', () => {
  let pki: Pki;
  let h: Harness;
  let shop: RegisteredShop;

  beforeAll(async () => {
    pki = makePki();
    h = await Harness.start({
      env: {
        PAYMENTS_MTLS_CA: pki.shopifyCa,
        PAYMENTS_MTLS_CERT: pki.server.cert,
        PAYMENTS_MTLS_KEY: pki.server.key,
        PAYMENTS_MTLS_PORT: String(await freePort()),
      },
      shopifyClientTls: { ...pki.client, ca: pki.serverCa },
    });
    shop = await h.registerShop();
  });
  afterAll(async () => {
    await h?.stop();
    rmSync(pki.dir, { recursive: true, force: true });
  });

  const stored = () => h.prisma.paymentSession.count();

  it('serves Shopify’s request with a certificate from the configured CA', async () => {
    expect(h.app.servers.mtlsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const sent = await h.shopify.sendPaymentSession(shop.domain, { amount: '10.00' });
    expect(sent.status).toBe(201);
    expect((sent.body as any).redirect_url).toContain('/pay/c/');
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
});
