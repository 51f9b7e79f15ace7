import { createLogger } from '../../src/lib/logger';
import { Secret } from '../../src/lib/secret';
import { ShopifyPaymentsApiClient } from '../../src/shopify/payments-api-client';

/** How Shopify's answers are classified for the outbox (a fake fetch stands in for the network). */
describe('ShopifyPaymentsApiClient outcome classification', () => {
  const token = new Secret('shpat_token');
  const client = (respond: () => Response | Promise<Response>) =>
    new ShopifyPaymentsApiClient({
      apiVersion: '2026-10',
      apiOrigin: 'http://shopify.test',
      timeoutMs: 1000,
      logger: createLogger({ level: 'silent' }),
      fetch: (async () => respond()) as typeof fetch,
    });
  const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
  const resolvePayload = (state: string, userErrors: unknown[] = []) => ({
    data: { paymentSessionResolve: { paymentSession: { id: 'gid://shopify/PaymentSession/1', state: { code: state }, nextAction: { action: 'REDIRECT', context: { redirectUrl: 'https://shop/thanks' } } }, userErrors } },
  });

  it('acknowledges a clean answer and hands back the next action', async () => {
    const outcome = await client(() => json(resolvePayload('RESOLVED'))).mutate('s.myshopify.com', token, 'paymentSessionResolve', { id: 'gid' });
    expect(outcome).toMatchObject({ kind: 'acknowledged', alreadyInState: false, subject: { nextAction: { context: { redirectUrl: 'https://shop/thanks' } } } });
  });

  it('counts user errors on a session already in the requested state as done', async () => {
    const outcome = await client(() => json(resolvePayload('RESOLVED', [{ field: ['id'], message: 'already resolved' }]))).mutate('s.myshopify.com', token, 'paymentSessionResolve', { id: 'gid' });
    expect(outcome).toMatchObject({ kind: 'acknowledged', alreadyInState: true });
  });

  it('fails for good on user errors from a conflicting state', async () => {
    const outcome = await client(() => json(resolvePayload('REJECTED', [{ field: ['id'], message: 'already rejected' }]))).mutate('s.myshopify.com', token, 'paymentSessionResolve', { id: 'gid' });
    expect(outcome).toMatchObject({ kind: 'failed' });
  });

  it.each([
    ['HTTP 500', () => json({ errors: 'boom' }, 500)],
    ['HTTP 503', () => json({}, 503)],
    ['HTTP 429', () => json({ errors: 'slow down' }, 429, { 'retry-after': '3' })],
    ['throttled', () => json({ errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }] })],
    ['an internal error', () => json({ errors: [{ message: 'oops', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] })],
    ['a token being replaced (401)', () => json({ errors: 'invalid token' }, 401)],
    ['a body that is not JSON', () => new Response('<html>', { status: 200 })],
    ['a network error', () => Promise.reject(new TypeError('fetch failed'))],
  ])('retries on %s', async (_name, respond) => {
    const outcome = await client(respond as () => Response).mutate('s.myshopify.com', token, 'paymentSessionResolve', { id: 'gid' });
    expect(outcome.kind).toBe('retry');
  });

  it('passes Retry-After on', async () => {
    const outcome = await client(() => json({}, 429, { 'retry-after': '3' })).mutate('s.myshopify.com', token, 'paymentSessionResolve', { id: 'gid' });
    expect(outcome).toEqual({ kind: 'retry', reason: expect.any(String), retryAfterMs: 3000 });
  });

  it('fails for good on a document Shopify cannot accept', async () => {
    const outcome = await client(() => json({ errors: [{ message: 'Field "x" does not exist' }] })).mutate('s.myshopify.com', token, 'paymentSessionResolve', { id: 'gid' });
    expect(outcome.kind).toBe('failed');
  });
});
