import { checkoutIdOf, visit } from '../support/buyer';
import { eventually, Harness, useHarness } from '../support/harness';
import { SlowLink } from '../support/slow-link';

/**
 * POST /payments/sessions as Shopify sends it, and the pay page the buyer lands on: the request is
 * stored and answered at once with the pay page, without asking Flex; the pay page makes the Flex
 * checkout once, however often or concurrently it is opened. The request id is the idempotency key;
 * bad input is refused with a clear 4xx and leaves nothing behind.
 */
describe('payment session requests and the pay page', () => {
  const { h, shop } = useHarness();

  const flexCalls = () => h.flex.requests.filter((r) => r.accountId === shop.flexAccountId).length;
  const checkoutsFor = (shopifyId: string) => h.flex.checkoutSessions({ clientReferenceId: shopifyId });
  const payUrlOf = (sent: { body: unknown }) => (sent.body as { redirect_url: string }).redirect_url;
  const lineItems = async (checkoutId: string) =>
    ((await (await fetch(`${h.flex.url}/v1/checkout/sessions/${checkoutId}/line_items`, { headers: { Authorization: `Bearer ${shop.liveKey}` } })).json()) as any).line_items;

  it('answers at once with the pay page, without calling Flex; a repeat gets the same page', async () => {
    const before = flexCalls();
    const first = await h.shopify.sendPaymentSession(shop.domain, { amount: '20.00' });
    expect(first.status).toBe(201);
    const row = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: first.session.id } });
    expect(payUrlOf(first)).toBe(`${h.appUrl}/pay/${row.id}`);
    const again = await h.shopify.sendPaymentSession(shop.domain, { id: first.session.id, amount: '20.00' });
    expect(again.status).toBe(201);
    expect(payUrlOf(again)).toBe(payUrlOf(first));
    expect(flexCalls()).toBe(before);
    expect(await h.prisma.paymentSession.count({ where: { shopifyId: first.session.id } })).toBe(1);
  });

  it('answers concurrent repeats with one pay page and one stored session', async () => {
    const id = `concurrent${Date.now()}`;
    const answers = await Promise.all(Array.from({ length: 8 }, () => h.shopify.sendPaymentSession(shop.domain, { id, amount: '77.70', group: `group-${id}` })));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
    expect(new Set(answers.map(payUrlOf)).size).toBe(1);
    expect(await h.prisma.paymentSession.count({ where: { shopifyId: id } })).toBe(1);
  });

  it('the pay page opened twice, or concurrently, makes exactly one Flex checkout session', async () => {
    const sent = await h.shopify.sendPaymentSession(shop.domain, { amount: '61.00' });
    const opened = await Promise.all(Array.from({ length: 6 }, () => visit(payUrlOf(sent))));
    expect(opened.map((o) => o.status)).toEqual(Array(6).fill(303));
    expect(new Set(opened.map((o) => o.location)).size).toBe(1);
    expect(opened[0]!.location).toContain(`${h.flex.url}/pay/c/`);
    const again = await visit(payUrlOf(sent));
    expect(again.location).toBe(opened[0]!.location);
    expect(checkoutsFor(sent.session.id)).toHaveLength(1);
    const row = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: sent.session.id } });
    expect((await h.timelineOf(row.id)).filter((e) => e.type === 'flex_checkout_created')).toHaveLength(1);
    // One opening took the lease; the others, and the page opened again, found the checkout.
    expect(row.checkoutAttempts).toBe(1);
  });

  it('a pay page opened while another is making the checkout waits for it, then shows a page that refreshes', async () => {
    const link = new SlowLink();
    await link.start();
    const other = await Harness.start({ env: { FLEX_API_URL: link.url }, tuning: { payPageWaitMs: 300 } });
    link.target = other.flex.url;
    try {
      const otherShop = await other.registerShop();
      const sent = await other.shopify.sendPaymentSession(otherShop.domain, { amount: '46.00' });
      // Flex's answer to the first opening is held back until the second opening has been answered.
      const releaseFirstAnswer = link.holdNextAnswer('POST', /^\/v1\/checkout\/sessions$/);
      const first = visit(payUrlOf(sent));
      await eventually(async () => (await other.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: sent.session.id } })).checkoutLeaseToken !== null, 15_000, 'the first opening holds the lease');
      const second = await visit(payUrlOf(sent));
      expect(second.status).toBe(200);
      expect(second.body).toContain('http-equiv="refresh"');
      releaseFirstAnswer();
      const made = await first;
      expect(made.status).toBe(303);
      const refreshed = await visit(payUrlOf(sent));
      expect(refreshed).toMatchObject({ status: 303, location: made.location });
      expect(other.flex.checkoutSessions({ clientReferenceId: sent.session.id })).toHaveLength(1);
    } finally {
      await other.stop();
      await link.stop();
    }
  });

  it('a pay page whose lease ran out while Flex’s answer was late writes nothing: one checkout, recorded once', async () => {
    const link = new SlowLink();
    await link.start();
    const other = await Harness.start({ env: { FLEX_API_URL: link.url }, tuning: { checkoutLeaseMs: 150 } });
    link.target = other.flex.url;
    try {
      const otherShop = await other.registerShop();
      const sent = await other.shopify.sendPaymentSession(otherShop.domain, { amount: '45.00' });
      // Flex makes the checkout at once, but its answer to the first opening arrives late: after that
      // opening's 150 ms lease ran out and a second opening took the lease over and was answered.
      const releaseFirstAnswer = link.holdNextAnswer('POST', /^\/v1\/checkout\/sessions$/);
      const first = visit(payUrlOf(sent));
      await eventually(async () => other.flex.checkoutSessions({ clientReferenceId: sent.session.id }).length === 1, 20_000, 'Flex making the checkout for the first opening');
      // The first opening claimed its lease before it called Flex: twice the lease has gone by since.
      await new Promise((r) => setTimeout(r, 300));
      const second = await visit(payUrlOf(sent));
      expect(second.status).toBe(303);
      releaseFirstAnswer();
      const late = await first;
      expect(late.status).toBe(303);
      expect(late.location).toBe(second.location);
      expect(other.flex.checkoutSessions({ clientReferenceId: sent.session.id })).toHaveLength(1);
      const row = await other.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: sent.session.id } });
      expect(row.status).toBe('CHECKOUT_CREATED');
      expect(row.checkoutAttempts).toBe(2);
      // The late holder's write was refused: the checkout was recorded once, by the lease's holder.
      expect((await other.timelineOf(row.id)).filter((e) => e.type === 'flex_checkout_created')).toHaveLength(1);
    } finally {
      await other.stop();
      await link.stop();
    }
  });

  it('serves a burst of first payments at a new amount: one Flex price, every buyer sent to Flex', async () => {
    const fresh = await h.registerShop();
    const sent = await Promise.all(Array.from({ length: 6 }, () => h.shopify.sendPaymentSession(fresh.domain, { amount: '88.88' })));
    const opened = await Promise.all(sent.map((s) => visit(payUrlOf(s))));
    expect(opened.map((o) => o.status)).toEqual(Array(6).fill(303));
    const prices = await h.prisma.flexCatchAllPrice.findMany({ where: { connection: { shop: { domain: fresh.domain } } } });
    expect(prices).toHaveLength(1);
    const pricesInFlex = h.flex.requests.filter((r) => r.method === 'POST' && r.path === '/v1/prices' && r.status === 200 && !r.replayed && r.accountId === fresh.flexAccountId);
    expect(pricesInFlex).toHaveLength(1);
  });

  it('refuses an id reused with different details, leaving the stored session as it was', async () => {
    const first = await h.shopify.sendPaymentSession(shop.domain, { amount: '15.00' });
    const before = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: first.session.id } });
    const conflicting = await h.shopify.sendPaymentSession(shop.domain, {
      id: first.session.id,
      amount: '15.00',
      body: (b: any) => ({ ...b, amount: '1500.00' }),
    });
    expect(conflicting.status).toBe(409);
    expect((conflicting.body as any).error.code).toBe('idempotency_conflict');
    expect(await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: first.session.id } })).toEqual(before);
  });

  it('recovers when Flex lost its answer: opening the pay page again finds the same checkout session', async () => {
    // Flex creates the session but the answer never arrives (500 after the work).
    h.flex.faults.failNext({ method: 'POST', path: '/v1/checkout/sessions', status: 500, when: 'after' });
    const sent = await h.shopify.sendPaymentSession(shop.domain, { amount: '33.00' });
    const first = await visit(payUrlOf(sent));
    expect(first.status).toBe(503);
    expect(first.body).toContain('Try again');
    const retry = await visit(payUrlOf(sent));
    expect(retry.status).toBe(303);
    expect(checkoutsFor(sent.session.id)).toHaveLength(1);
  });

  it('when Flex is down the buyer can try again, and the Shopify session is never rejected', async () => {
    h.flex.faults.failNext({ method: 'POST', path: '/v1/checkout/sessions', status: 503, when: 'before' });
    const sent = await h.shopify.sendPaymentSession(shop.domain, { amount: '18.00' });
    const first = await visit(payUrlOf(sent));
    expect(first.status).toBe(503);
    expect(first.body).toContain((sent.session.requestBody as any).payment_method.data.cancel_url.replace(/&/g, '&amp;'));
    const retry = await visit(payUrlOf(sent));
    expect(retry.status).toBe(303);
    expect(checkoutsFor(sent.session.id)).toHaveLength(1);
    expect(h.shopify.mutations.filter((m) => (m.variables as any).id === sent.session.gid)).toHaveLength(0);
  });

  it('a checkout Flex refuses is explained to the buyer, who goes back to the checkout; Shopify is not told to reject', async () => {
    // Flex's minimum checkout amount is 50 cents.
    const sent = await h.shopify.sendPaymentSession(shop.domain, { amount: '0.10' });
    expect(sent.status).toBe(201);
    const page = await visit(payUrlOf(sent));
    expect(page.status).toBe(200);
    expect(page.body).toContain('cannot be paid with Flex');
    expect(page.body).toMatch(/checkout_amount_too_low|Flex rejected/);
    expect(h.shopify.mutations.filter((m) => (m.variables as any).id === sent.session.gid)).toHaveLength(0);
  });

  it('a pay page whose store has no Flex account for the payment’s mode any more sends the buyer back, asking Flex nothing', async () => {
    // The claim reads the shop and its connection of the payment's mode in the same statement.
    const other = await h.registerShop();
    const sent = await h.shopify.sendPaymentSession(other.domain, { amount: '16.00' });
    expect(sent.status).toBe(201);
    const shopRow = await h.prisma.shop.findUniqueOrThrow({ where: { domain: other.domain } });
    await h.prisma.flexConnection.delete({ where: { shopId_mode: { shopId: shopRow.id, mode: 'LIVE' } } });
    const before = h.flex.requests.length;
    const page = await visit(payUrlOf(sent));
    expect(page.status).toBe(200);
    expect(page.body).toContain('no Flex account connected for this kind of payment');
    expect(h.flex.requests.length).toBe(before);
    // The lease is given back: nothing holds the payment.
    expect(await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: sent.session.id } })).toMatchObject({ status: 'RECEIVED', checkoutLeaseUntil: null, flexRedirectUrl: null });
  });

  it('a pay page whose Flex key was revoked tells the buyer and flags the key for the merchant; Shopify is not told to reject', async () => {
    const other = await h.registerShop();
    const sent = await h.shopify.sendPaymentSession(other.domain, { amount: '17.00' });
    h.flex.revokeKey(other.liveKey);
    const page = await visit(payUrlOf(sent));
    expect(page.status).toBe(200);
    expect(page.body).toContain('Flex is not accepting payments for this store right now');
    const shopRow = await h.prisma.shop.findUniqueOrThrow({ where: { domain: other.domain } });
    const live = () => h.prisma.flexConnection.findUniqueOrThrow({ where: { shopId_mode: { shopId: shopRow.id, mode: 'LIVE' } } });
    expect((await live()).keyRejectedAt).not.toBeNull();
    expect(h.shopify.mutations.filter((m) => (m.variables as any).id === sent.session.gid)).toHaveLength(0);
  });

  it('a catch-all price Flex deactivated is replaced by a new one, not replayed', async () => {
    const first = await h.shopify.sendPaymentSession(shop.domain, { amount: '17.77' });
    const [line] = await lineItems(checkoutIdOf((await visit(payUrlOf(first))).location!));
    const oldPrice = line.price.price_id as string;
    const deactivated = await fetch(`${h.flex.url}/v1/prices/${oldPrice}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${shop.liveKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ price: { active: false } }),
    });
    expect(deactivated.status).toBe(200);

    const second = await h.shopify.sendPaymentSession(shop.domain, { amount: '17.77' });
    const opened = await visit(payUrlOf(second));
    expect(opened.status).toBe(303);
    const [newLine] = await lineItems(checkoutIdOf(opened.location!));
    expect(newLine.price.price_id).not.toBe(oldPrice);
    expect(newLine.price.unit_amount).toBe(1777);
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
