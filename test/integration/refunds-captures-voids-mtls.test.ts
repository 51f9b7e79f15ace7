import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, Harness, type RegisteredShop } from '../support/harness';
import { startCheckout } from '../support/buyer';

/** The refund, capture and void routes answer only over mutual TLS, like payment sessions. */
describe('mutual TLS on refund, capture and void routes', () => {
  let dir: string;
  let h: Harness;
  let shop: RegisteredShop;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flex-mtls-followups-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ca = (name: string) => openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
    const leaf = (name: string, caName: string, extensions: string) => {
      writeFileSync(path.join(dir, `${name}.ext`), extensions);
      openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
    };
    ca('shopify-ca');
    ca('server-ca');
    leaf('server', 'server-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    leaf('client', 'shopify-ca', 'extendedKeyUsage=clientAuth\n');
    const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
    h = await Harness.start({
      env: {
        PAYMENTS_MTLS_CA: path.join(dir, 'shopify-ca.crt'),
        PAYMENTS_MTLS_CERT: path.join(dir, 'server.crt'),
        PAYMENTS_MTLS_KEY: path.join(dir, 'server.key'),
        PAYMENTS_MTLS_PORT: String(await freePort()),
      },
      shopifyClientTls: { cert: read('client.crt'), key: read('client.key'), ca: read('server-ca.crt') },
    });
    shop = await h.registerShop();
  });
  afterAll(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses requests without the client certificate and stores nothing; serves them with it', async () => {
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
