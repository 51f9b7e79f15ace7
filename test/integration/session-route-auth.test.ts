import { PROXY_AUTH_HEADER } from '../../src/http/session-route-auth';
import { startCheckout } from '../support/buyer';
import { useHarness } from '../support/harness';

/**
 * Proxy mode (the harness's default): Shopify's session requests are answered only on the private
 * session listener, and only with the secret the TLS proxy sets after verifying Shopify's client
 * certificate. Anyone who merely knows a payment id gets nothing done.
 */
describe('session requests behind a TLS proxy', () => {
  const { h, shop } = useHarness();
  const stored = async () =>
    (await h.prisma.paymentSession.count()) + (await h.prisma.refundSession.count()) + (await h.prisma.captureSession.count()) + (await h.prisma.voidSession.count());
  const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'shopify-shop-domain': shop.domain, 'shopify-api-version': '2026-10', ...headers },
      body: JSON.stringify(body),
    });

  it('serves Shopify through the proxy', async () => {
    const sent = await h.shopify.sendPaymentSession(shop.domain, { amount: '10.00' });
    expect(sent.status).toBe(201);
  });

  it('refuses a refund or void sent straight to the session listener without the proxy’s secret, or with a wrong one, storing nothing', async () => {
    const { session } = await startCheckout(h, shop, { amount: '12.00', kind: 'authorization' });
    const before = await stored();
    const refund = { id: 'r-forged', gid: 'gid://shopify/RefundSession/r-forged', payment_id: session.id, amount: '12.00', currency: 'USD', test: false };
    const voidBody = { id: 'v-forged', gid: 'gid://shopify/VoidSession/v-forged', payment_id: session.id, test: false };
    const listener = h.app.servers.sessionsUrl!;
    for (const [path, body, headers] of [
      ['/payments/refunds', refund, {}],
      ['/payments/voids', voidBody, {}],
      ['/payments/refunds', refund, { [PROXY_AUTH_HEADER]: 'a'.repeat(64) }],
    ] as const) {
      const res = await post(listener, path, body, headers);
      expect(res.status).toBe(401);
      expect(((await res.json()) as any).error.code).toBe('client_certificate_required');
    }
    expect(await stored()).toBe(before);
  });

  it('does not serve session routes on the public listener, whatever header a client sends', async () => {
    const before = await stored();
    const res = await post(h.app.servers.httpUrl, '/payments/sessions', { id: 'x' }, { [PROXY_AUTH_HEADER]: 'anything' });
    expect(res.status).toBe(401);
    expect(await stored()).toBe(before);
  });
});
