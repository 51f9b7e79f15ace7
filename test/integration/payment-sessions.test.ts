import { Harness, useHarness } from '../support/harness';
import { startCheckout } from '../support/buyer';

/**
 * POST /payments/sessions as Shopify sends it: the request id is the idempotency key, bad input is
 * refused with a clear 4xx and leaves nothing behind.
 */
describe('payment session requests', () => {
  const { h, shop } = useHarness();

  const checkoutCreates = () => h.flex.requests.filter((r) => r.method === 'POST' && r.path === '/v1/checkout/sessions' && r.status === 200 && !r.replayed);

  it('answers a repeat with the same redirect and creates nothing new', async () => {
    const first = await startCheckout(h, shop, { amount: '20.00' });
    const createsBefore = checkoutCreates().length;
    const again = await h.shopify.sendPaymentSession(shop.domain, { id: first.session.id, amount: '20.00' });
    expect(again.status).toBe(201);
    expect((again.body as { redirect_url: string }).redirect_url).toBe(first.redirectUrl);
    expect(checkoutCreates().length).toBe(createsBefore);
    expect(await h.prisma.paymentSession.count({ where: { shopifyId: first.session.id } })).toBe(1);
  });

  it('answers concurrent repeats with one redirect and exactly one Flex checkout session', async () => {
    const id = `concurrent${Date.now()}`;
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => h.shopify.sendPaymentSession(shop.domain, { id, amount: '77.70', group: `group-${id}` })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
    const urls = new Set(answers.map((a) => (a.body as { redirect_url: string }).redirect_url));
    expect(urls.size).toBe(1);
    expect(h.flex.checkoutSessions({ clientReferenceId: id })).toHaveLength(1);
    expect(await h.prisma.paymentSession.count({ where: { shopifyId: id } })).toBe(1);
  });

  it('serves a burst of first payments at a new amount: one Flex price, every request answered', async () => {
    const fresh = await h.registerShop();
    const answers = await Promise.all(Array.from({ length: 6 }, () => h.shopify.sendPaymentSession(fresh.domain, { amount: '88.88' })));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(201));
    const prices = await h.prisma.flexCatchAllPrice.findMany({ where: { connection: { shop: { domain: fresh.domain } } } });
    expect(prices).toHaveLength(1);
    const pricesInFlex = h.flex.requests.filter((r) => r.method === 'POST' && r.path === '/v1/prices' && r.status === 200 && !r.replayed && r.accountId === fresh.flexAccountId);
    expect(pricesInFlex).toHaveLength(1);
  });

  it('refuses an id reused with different details, leaving the stored session as it was', async () => {
    const first = await startCheckout(h, shop, { amount: '15.00' });
    const before = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: first.session.id } });
    const conflicting = await h.shopify.sendPaymentSession(shop.domain, {
      id: first.session.id,
      amount: '15.00',
      body: (b: any) => ({ ...b, amount: '1500.00' }),
    });
    expect(conflicting.status).toBe(409);
    expect((conflicting.body as any).error.code).toBe('idempotency_conflict');
    const after = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: first.session.id } });
    expect(after).toEqual(before);
  });

  it('recovers when Flex lost its answer: the retry finds the same checkout session', async () => {
    // Flex creates the session but the answer never arrives (500 after the work).
    h.flex.faults.failNext({ method: 'POST', path: '/v1/checkout/sessions', status: 500, when: 'after' });
    const id = `lost${Date.now()}`;
    const first = await h.shopify.sendPaymentSession(shop.domain, { id, amount: '33.00' });
    expect(first.status).toBe(503);
    const retry = await h.shopify.sendPaymentSession(shop.domain, { id, amount: '33.00' });
    expect(retry.status).toBe(201);
    expect(h.flex.checkoutSessions({ clientReferenceId: id })).toHaveLength(1);
  });

  it('tells Shopify to retry when Flex is down, and succeeds on the retry', async () => {
    h.flex.faults.failNext({ method: 'POST', path: '/v1/checkout/sessions', status: 503, when: 'before' });
    const id = `down${Date.now()}`;
    const first = await h.shopify.sendPaymentSession(shop.domain, { id, amount: '18.00' });
    expect(first.status).toBe(503);
    expect((first.body as any).error.code).toBe('flex_unavailable');
    const retry = await h.shopify.sendPaymentSession(shop.domain, { id, amount: '18.00' });
    expect(retry.status).toBe(201);
    expect(h.flex.checkoutSessions({ clientReferenceId: id })).toHaveLength(1);
  });

  it('reports a Flex refusal as an upstream error naming the problem', async () => {
    // Flex's minimum checkout amount is 50 cents.
    const sent = await h.shopify.sendPaymentSession(shop.domain, { amount: '0.10' });
    expect(sent.status).toBe(502);
    expect((sent.body as any).error).toMatchObject({ code: 'flex_rejected' });
    expect((sent.body as any).error.message).toMatch(/Flex rejected/);
  });

  describe('bad input: a 4xx naming the problem, nothing stored, nothing sent to Flex', () => {
    const cases: Array<[string, Parameters<Harness['shopify']['sendPaymentSession']>[1], number, RegExp]> = [
      ['no shop header', { amount: '10.00', headers: { 'Shopify-Shop-Domain': null } }, 400, /Shopify-Shop-Domain/],
      ['a shop header that is not a myshopify domain', { amount: '10.00', headers: { 'Shopify-Shop-Domain': 'evil.example.com' } }, 400, /myshopify/],
      ['no API version header', { amount: '10.00', headers: { 'Shopify-Api-Version': null } }, 400, /Shopify-Api-Version/],
      ['an amount with too many decimals', { amount: '10.00', body: (b: any) => ({ ...b, amount: '10.001' }) }, 400, /amount/],
      ['a negative amount', { amount: '10.00', body: (b: any) => ({ ...b, amount: '-10.00' }) }, 400, /amount/],
      ['a numeric amount', { amount: '10.00', body: (b: any) => ({ ...b, amount: 10 }) }, 400, /amount/],
      ['a zero amount', { amount: '10.00', body: (b: any) => ({ ...b, amount: '0.00' }) }, 400, /greater than zero/],
      ['a currency Flex does not take', { amount: '10.00', currency: 'EUR' }, 422, /USD/],
      ['an unknown kind', { amount: '10.00', body: (b: any) => ({ ...b, kind: 'layaway' }) }, 400, /kind/],
      ['a non-offsite payment method', { amount: '10.00', body: (b: any) => ({ ...b, payment_method: { type: 'credit_card', data: {} } }) }, 400, /payment_method/],
      ['a cancel_url that is not a URL', { amount: '10.00', body: (b: any) => ({ ...b, payment_method: { type: 'offsite', data: { cancel_url: 'javascript:alert(1)' } } }) }, 400, /cancel_url/],
      ['a gid for another session', { amount: '10.00', body: (b: any) => ({ ...b, gid: 'gid://shopify/PaymentSession/other' }) }, 400, /gid/],
      ['no id', { amount: '10.00', body: (b: any) => ({ ...b, id: undefined }) }, 400, /id/],
      ['a body that is not JSON', { amount: '10.00', body: () => '{"id": ' }, 400, /JSON/],
      ['a test session for a shop without a Flex test key', { amount: '10.00', test: true }, 422, /test API key/],
    ];

    it.each(cases)('%s', async (_name, input, status, message) => {
      const target = input.test ? await noTestKeyShop() : shop;
      const rowsBefore = await h.prisma.paymentSession.count();
      const flexCallsBefore = h.flex.requests.length;
      const sent = await h.shopify.sendPaymentSession(target.domain, input);
      expect(sent.status).toBe(status);
      const error = (sent.body as any).error;
      expect(error.message).toMatch(message);
      expect(typeof error.code).toBe('string');
      expect(await h.prisma.paymentSession.count()).toBe(rowsBefore);
      expect(h.flex.requests.length).toBe(flexCallsBefore);
    });

    it('refuses a shop that has not installed the app', async () => {
      h.shopify.createShop('stranger.myshopify.com');
      const rowsBefore = await h.prisma.paymentSession.count();
      const sent = await h.shopify.sendPaymentSession('stranger.myshopify.com', { amount: '10.00' });
      expect(sent.status).toBe(404);
      expect((sent.body as any).error.code).toBe('unknown_shop');
      expect(await h.prisma.paymentSession.count()).toBe(rowsBefore);
    });
  });

  let liveOnly: { domain: string } | undefined;
  async function noTestKeyShop(): Promise<{ domain: string }> {
    if (liveOnly) return liveOnly;
    const domain = 'live-only.myshopify.com';
    const account = h.flex.createAccount({ name: domain });
    const installed = h.shopify.createShop(domain);
    const result = await h.components.registerShop.execute({ shopDomain: domain, accessToken: installed.accessToken, flexApiKey: account.liveKey });
    if (!result.ok) throw new Error(result.problems.join('; '));
    liveOnly = { domain };
    return liveOnly;
  }
});
