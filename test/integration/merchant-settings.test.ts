import type { PaymentId } from '../../src/lib/ids';
import { randomUUID } from 'node:crypto';
import { payAndReturn, payOnFlexPage, startCheckout } from '../support/buyer';
import { enqueueConfiguration } from '../../src/merchant/payments-app-configuration';
import { eventually, Harness, type RegisteredShop, useHarness } from '../support/harness';
import { connectFlex, csrfOf, installThroughOAuth, MerchantBrowser, uniqueShop } from '../support/merchant';

/**
 * The settings page over HTTP, signed in through the real install: connecting Flex (each key checked
 * with the Flex sandbox), readiness sent to the Shopify simulator through the outbox, payments with
 * their timelines, problems with what to do, disconnecting — and the session and CSRF defences.
 */
describe('merchant settings page', () => {
  const { h } = useHarness({ shop: false });
  let shopA: string;
  let browserA: MerchantBrowser;
  let accountA: ReturnType<Harness['flex']['createAccount']>;

  beforeAll(async () => {
    shopA = uniqueShop('settings-a');
    browserA = await installThroughOAuth(h, shopA);
    accountA = h.flex.createAccount({ name: shopA });
  });

  const shopRow = (domain: string) => h.prisma.shop.findUniqueOrThrow({ where: { domain } });
  const connections = async (domain: string) => h.prisma.flexConnection.findMany({ where: { shopId: (await shopRow(domain)).id } });
  const settingsBody = async (browser = browserA) => {
    const answer = await browser.get(`${h.appUrl}/settings`);
    expect(answer.status).toBe(200);
    return answer.body;
  };

  it('a key Flex refuses is shown as a clear error and nothing is stored', async () => {
    const unknownLive = `fsk_${randomUUID().replace(/-/g, '')}`;
    const refused = await connectFlex(browserA, { live: unknownLive });
    expect(refused.status).toBe(422);
    expect(refused.body).toContain('Nothing was saved.');
    expect(refused.body).toContain('Flex refused the live API key');
    expect(refused.body).not.toContain(unknownLive);

    const malformed = await connectFlex(browserA, { live: accountA.testKey, test: 'not-a-key' });
    expect(malformed.status).toBe(422);
    expect(malformed.body).toContain('The live API key is a test key');
    expect(malformed.body).toContain('does not look like a Flex test secret key');

    // A good live key with a refused test key: still nothing at all is stored.
    const half = await connectFlex(browserA, { live: accountA.liveKey, test: `fsk_test_${randomUUID().replace(/-/g, '')}` });
    expect(half.status).toBe(422);
    expect(half.body).toContain('Flex refused the test API key');

    expect(await connections(shopA)).toHaveLength(0);
    expect(h.flex.webhookEndpoints({ accountId: accountA.accountId })).toHaveLength(0);
    // Nothing for Flex or paymentsAppConfigure (the install's cart pixel activation is not about the keys).
    expect(await h.prisma.job.count({ where: { shopId: (await shopRow(shopA)).id, kind: { not: 'shopify.activate-web-pixel' } } })).toBe(0);
    expect(h.shopify.paymentsAppConfiguration(shopA)).toBeNull();
  });

  it('good keys are checked, stored encrypted, get webhook endpoints, and Shopify is told the provider is ready', async () => {
    const connected = await connectFlex(browserA, { live: accountA.liveKey, test: accountA.testKey });
    expect(connected.status).toBe(303);
    expect(connected.location).toBe('/settings?notice=connected');

    const rows = await connections(shopA);
    expect(rows.map((r) => r.mode).sort()).toEqual(['LIVE', 'TEST']);
    for (const row of rows) {
      expect(row.apiKeyCiphertext).not.toContain(accountA.liveKey);
      expect(row.apiKeyCiphertext).not.toContain(accountA.testKey);
    }
    const endpoints = h.flex.webhookEndpoints({ accountId: accountA.accountId }) as Array<{ url: string; test_mode: boolean }>;
    expect(endpoints.map((e) => e.url).sort()).toEqual(
      [`${h.appUrl}/webhooks/flex?shop=${encodeURIComponent(shopA)}&mode=live`, `${h.appUrl}/webhooks/flex?shop=${encodeURIComponent(shopA)}&mode=test`].sort(),
    );

    // paymentsAppConfigure went through the outbox and Shopify acknowledged it. The 303 waits for that
    // at most 5 s, and not at all while the worker loop's own claim of the job is in flight; the job is
    // marked done only after Shopify's answer is recorded: wait for the job, then look at what Shopify holds.
    const shopId = (await shopRow(shopA)).id;
    const configureJob = () => h.prisma.job.findFirstOrThrow({ where: { shopId, subjectType: 'shop', kind: 'shopify.payments-app-configure' } });
    await eventually(async () => (await configureJob()).status === 'SUCCEEDED', 15_000, 'configure job recorded as succeeded');
    expect(await configureJob()).toMatchObject({ status: 'SUCCEEDED', dedupeKey: expect.stringMatching(/^shopify:paymentsAppConfigure:/) });
    expect((await shopRow(shopA)).paymentsAppReady).toBe(true);
    expect(h.shopify.paymentsAppConfiguration(shopA)).toMatchObject({ ready: true, externalHandle: `Flex fsk_…${accountA.liveKey.slice(-4)}` });
    const configure = h.shopify.mutations.filter((m) => m.name === 'paymentsAppConfigure' && m.shop === shopA);
    expect(configure).toHaveLength(1);

    const page = (await browserA.get(`${h.appUrl}${connected.location}`)).body;
    expect(page).toContain('Flex is connected');
    expect(page).toContain('live and test mode');
    expect(page).toMatch(/<span class="badge success">Ready<\/span>/);
    expect(page).not.toContain(accountA.liveKey);
    expect(page).not.toContain(accountA.testKey);
    expect(h.logs.join('')).not.toContain(accountA.liveKey);
  });

  it('a payment made through the sandboxes is listed with its timeline', async () => {
    const { session, redirectUrl } = await startCheckout(h, { domain: shopA } as RegisteredShop, { amount: '42.00' });
    const { appAnswer } = await payAndReturn(redirectUrl, 'hsa_fsa');
    expect(appAnswer.status).toBe(303);
    const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: session.id } });
    // An event type the page has never heard of (refunds, captures and voids are being added).
    await h.components.repos.payments.addEvent(payment.id as PaymentId, 'refund_requested', { amountMinor: 1000, currency: 'USD' });

    const page = await settingsBody();
    const article = new RegExp(`<article class="payment" data-payment="${session.id}">([\\s\\S]*?)</article>`).exec(page)?.[1];
    expect(article).toBeDefined();
    expect(article).toContain('42.00 USD');
    expect(article).toContain('>Paid<');
    expect(article).toMatch(/step done">Shopify session[\s\S]*step done">Flex checkout[\s\S]*step done">Resolved/);
    for (const label of ['Shopify started the payment', 'Flex checkout created', 'Buyer came back from Flex', 'Payment approved', 'Shopify confirmed', 'Refund requested']) {
      expect(article).toContain(label);
    }
    expect(article).toContain('amount 10.00 USD');
    // The buyer's details are not on the merchant's overview.
    expect(article).not.toContain('buyer@example.com');
  });

  it('problems needing attention are shown with what to do, and a stuck update can be retried', async () => {
    const shop = await shopRow(shopA);
    const live = (await connections(shopA)).find((c) => c.mode === 'LIVE')!;
    const now = new Date();
    await h.prisma.flexConnection.update({ where: { id: live.id }, data: { keyRejectedAt: now } });
    const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopId: shop.id, status: 'RESOLVED' } });
    await h.prisma.paymentSession.update({ where: { id: payment.id }, data: { decisionSource: 'RECONCILER' } });
    const stuck = await h.prisma.job.create({
      data: {
        shopId: shop.id,
        kind: 'shopify.payments-mutation',
        dedupeKey: `test:stuck:${randomUUID()}`,
        payload: { mutation: 'paymentSessionResolve', variables: { id: payment.gid }, shopId: shop.id, subject: { type: 'payment_session', id: payment.id } },
        subjectType: 'payment_session',
        subjectId: payment.id,
        status: 'NEEDS_ATTENTION',
        attempts: 7,
        lastError: 'Shopify answered HTTP 401 for 26 hours',
        completedAt: now,
      },
    });
    const retrying = await h.prisma.job.create({
      data: {
        shopId: shop.id,
        kind: 'shopify.payments-mutation',
        dedupeKey: `test:retrying:${randomUUID()}`,
        payload: { mutation: 'paymentSessionPending', variables: { id: payment.gid }, shopId: shop.id, subject: { type: 'payment_session', id: payment.id } },
        subjectType: 'payment_session',
        subjectId: payment.id,
        status: 'QUEUED',
        attempts: 4,
        runAt: new Date(Date.now() + 3_600_000),
        lastError: 'Shopify answered HTTP 503',
      },
    });

    const flexStuck = await h.prisma.job.create({
      data: {
        shopId: shop.id,
        kind: 'flex.refund',
        dedupeKey: `test:flex:${randomUUID()}`,
        payload: { sessionId: randomUUID() },
        subjectType: 'refund_session',
        subjectId: randomUUID(),
        status: 'NEEDS_ATTENTION',
        attempts: 20,
        lastError: 'gave up after 20 attempts: Flex is unavailable (503)',
        completedAt: now,
      },
    });

    const page = await settingsBody();
    const problem = (key: string) => new RegExp(`data-problem="${key}">([\\s\\S]*?)</div>`).exec(page)?.[1] ?? '';
    expect(problem('key-rejected-live')).toContain('Flex refuses your live API key');
    expect(problem('key-rejected-live')).toContain('What to do:');
    expect(problem('reconciled-payments')).toContain('1 payment was confirmed without a Flex webhook');
    expect(problem(`job-${stuck.id}`)).toContain(`payment approved for payment ${payment.shopifyId}`);
    expect(problem(`job-${stuck.id}`)).toContain('Shopify answered HTTP 401 for 26 hours');
    expect(page).toContain(`action="/settings/jobs/${stuck.id}/retry"`);
    expect(problem(`job-${retrying.id}`)).toContain('keeps retrying');
    // A call to Flex that never got a clear answer is told apart from a Shopify update.
    expect(problem(`job-${flexStuck.id}`)).toContain('Flex did not confirm a refund');
    expect(problem(`job-${flexStuck.id}`)).toContain('never repeats it');
    expect(page).not.toContain(`action="/settings/jobs/${retrying.id}/retry"`);

    // Retry: the job goes back to the worker; Shopify already holds that state, so it succeeds.
    const { csrf } = await browserA.settings();
    const retried = await browserA.post(`/settings/jobs/${stuck.id}/retry`, { _csrf: csrf });
    expect(retried.status).toBe(303);
    expect(retried.location).toBe('/settings?notice=retried');
    await eventually(async () => (await h.prisma.job.findUniqueOrThrow({ where: { id: stuck.id } })).status === 'SUCCEEDED', 15_000, 'retried job');

    // Clean up for the next tests.
    await h.prisma.flexConnection.update({ where: { id: live.id }, data: { keyRejectedAt: null } });
    await h.prisma.job.deleteMany({ where: { id: { in: [retrying.id, flexStuck.id] } } });
  });

  describe('with a second shop', () => {
    let shopB: string;
    let browserB: MerchantBrowser;
    let stuckB: string;
    let dataRequestB: string;

    beforeAll(async () => {
      shopB = uniqueShop('settings-b');
      browserB = await installThroughOAuth(h, shopB);
      const accountB = h.flex.createAccount({ name: shopB });
      expect((await connectFlex(browserB, { test: accountB.testKey })).status).toBe(303);
      const b = await shopRow(shopB);
      stuckB = (
        await h.prisma.job.create({
          data: { shopId: b.id, kind: 'shopify.payments-mutation', dedupeKey: `test:b:${randomUUID()}`, payload: {}, status: 'NEEDS_ATTENTION', attempts: 3, lastError: 'refused' },
        })
      ).id;
      const delivery = await h.shopify.sendWebhook(shopB, 'customers/data_request');
      expect(delivery.status).toBe(200);
      dataRequestB = (await h.prisma.shopifyWebhookDelivery.findUniqueOrThrow({ where: { webhookId: delivery.webhookId } })).id;
    });

    it("shop A's session cookie can neither read nor change shop B", async () => {
      const before = { connections: await connections(shopB), job: await h.prisma.job.findUniqueOrThrow({ where: { id: stuckB } }) };

      const named = await browserA.get(`${h.appUrl}/settings?shop=${shopB}`);
      expect(named.status).toBe(403);
      expect(named.body).not.toContain('settings-b');
      expect(named.body).toContain(`signed in to ${shopA}`);

      const own = await settingsBody(browserA);
      expect(own).toContain(shopA);
      expect(own).not.toContain(shopB);

      const { csrf } = await browserA.settings();
      const disconnectB = await browserA.post('/settings/disconnect', { _csrf: csrf, mode: 'all', shop: shopB });
      expect(disconnectB.status).toBe(403);
      const retryB = await browserA.post(`/settings/jobs/${stuckB}/retry`, { _csrf: csrf });
      expect(retryB.status).toBe(404);
      const reportB = await browserA.get(`${h.appUrl}/settings/data-requests/${dataRequestB}`);
      expect(reportB.status).toBe(404);
      // B's own session can fetch it.
      const ownReport = await browserB.get(`${h.appUrl}/settings/data-requests/${dataRequestB}`);
      expect(ownReport.status).toBe(200);
      expect(ownReport.headers.get('content-disposition')).toContain('attachment');

      // B's CSRF token with A's cookie.
      const csrfB = csrfOf((await browserB.get(`${h.appUrl}/settings`)).body);
      const mixed = await browserA.post('/settings/disconnect', { _csrf: csrfB, mode: 'all' });
      expect(mixed.status).toBe(403);

      expect(await connections(shopB)).toEqual(before.connections);
      expect(await connections(shopA)).toHaveLength(2);
      expect(await h.prisma.job.findUniqueOrThrow({ where: { id: stuckB } })).toEqual(before.job);
    });

    it('a forged, tampered or expired session cookie is refused', async () => {
      const value = browserA.cookies.get('flex_merchant_session')!;
      const [version, payload, mac] = value.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
      const asB = `${version}.${Buffer.from(JSON.stringify({ ...claims, shop: shopB })).toString('base64url')}.${mac}`;
      const longer = `${version}.${Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86_400 })).toString('base64url')}.${mac}`;
      const flipped = `${version}.${payload}.${mac!.slice(0, -2)}${mac!.endsWith('AA') ? 'BB' : 'AA'}`;
      for (const cookie of [asB, longer, flipped, 'v1.e30.', 'garbage', `${version}.${payload}`]) {
        const answer = await fetch(`${h.appUrl}/settings`, { headers: { Cookie: `flex_merchant_session=${cookie}` }, redirect: 'manual' });
        expect(answer.status).toBe(401);
        const body = await answer.text();
        expect(body).not.toContain(shopB);
        expect(body).toContain('Signed out');
      }
      const forgedPost = await fetch(`${h.appUrl}/settings/disconnect`, {
        method: 'POST',
        headers: { Cookie: `flex_merchant_session=${asB}`, Origin: browserA.origin, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ mode: 'all', _csrf: csrfOf(await settingsBody(browserA)) }).toString(),
      });
      expect(forgedPost.status).toBe(401);
      expect((await connections(shopB)).length).toBe(1);

      h.clock.advance(8 * 3_600_000 + 1000);
      try {
        const expired = await fetch(`${h.appUrl}/settings`, { headers: { Cookie: `flex_merchant_session=${value}` }, redirect: 'manual' });
        expect(expired.status).toBe(401);
      } finally {
        h.clock.advance(-(8 * 3_600_000 + 1000));
      }
    });

    it('a cross-site form post is refused and changes nothing', async () => {
      const before = await connections(shopA);
      const { csrf } = await browserA.settings();
      const attempts: Array<{ fields: Record<string, string>; origin: string | null | undefined; referer?: string }> = [
        { fields: { _csrf: csrf, mode: 'all' }, origin: 'https://evil.example' },
        { fields: { _csrf: csrf, mode: 'all' }, origin: 'null' },
        { fields: { _csrf: csrf, mode: 'all' }, origin: null },
        { fields: { _csrf: csrf, mode: 'all' }, origin: null, referer: 'https://evil.example/page' },
        { fields: { mode: 'all' }, origin: undefined },
        { fields: { _csrf: `${csrf.slice(0, -1)}x`, mode: 'all' }, origin: undefined },
        { fields: { _csrf: '', mode: 'all' }, origin: undefined },
      ];
      for (const attempt of attempts) {
        const answer = await browserA.post('/settings/disconnect', attempt.fields, { origin: attempt.origin, referer: attempt.referer });
        expect(answer.status).toBe(403);
        expect(answer.body).toContain('nothing was changed');
      }
      const connect = await browserA.post('/settings/connect', { live_key: accountA.liveKey }, { origin: 'https://evil.example' });
      expect(connect.status).toBe(403);
      expect(await connections(shopA)).toEqual(before);

      // A browser that sends a same-origin Referer but no Origin is accepted.
      const viaReferer = await browserA.post('/settings/ready', { _csrf: csrf }, { origin: null, referer: `${h.appUrl}/settings` });
      expect(viaReferer.status).toBe(303);
    });

    it('disconnecting removes the keys and their Flex webhook endpoints and tells Shopify the provider is not ready', async () => {
      const { csrf } = await browserA.settings();
      const answer = await browserA.post('/settings/disconnect', { _csrf: csrf, mode: 'all' });
      expect(answer.status).toBe(303);
      expect(answer.location).toBe('/settings?notice=disconnected');
      expect(await connections(shopA)).toHaveLength(0);
      expect(h.flex.webhookEndpoints({ accountId: accountA.accountId })).toHaveLength(0);
      // Recorded only once Shopify has acknowledged, which the 303 waits for at most 5 s (see above).
      await eventually(async () => !(await shopRow(shopA)).paymentsAppReady, 15_000, 'not ready recorded');
      expect(h.shopify.paymentsAppConfiguration(shopA)).toMatchObject({ ready: false });
      const page = await settingsBody();
      expect(page).toContain('Connect your Flex account');
      expect(page).toContain('Not connected');
      // Shop B is untouched.
      expect(h.shopify.paymentsAppConfiguration(shopB)).toMatchObject({ ready: true });
    });

    it('connecting the same keys again after a disconnect registers new endpoints: Flex delivers again (not a replay of the deleted ones)', async () => {
      const deleted = new Set((h.flex.webhookEndpoints({ accountId: accountA.accountId }) as Array<{ webhook_id: string }>).map((e) => e.webhook_id));
      expect((await connectFlex(browserA, { live: accountA.liveKey, test: accountA.testKey })).status).toBe(303);
      const endpoints = h.flex.webhookEndpoints({ accountId: accountA.accountId }) as Array<{ webhook_id: string }>;
      expect(endpoints).toHaveLength(2);
      for (const endpoint of endpoints) expect(deleted.has(endpoint.webhook_id)).toBe(false);
      expect((await connections(shopA)).map((c) => c.webhookEndpointId).sort()).toEqual(endpoints.map((e) => e.webhook_id).sort());

      const { session, redirectUrl } = await startCheckout(h, { domain: shopA } as RegisteredShop, { amount: '21.00' });
      await payOnFlexPage(redirectUrl, 'hsa_fsa');
      await eventually(async () => (await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: session.id } })).decisionSource === 'FLEX_WEBHOOK', 10_000, 'the webhook resolved it');

      const { csrf } = await browserA.settings();
      expect((await browserA.post('/settings/disconnect', { _csrf: csrf, mode: 'all' })).status).toBe(303);
    });

    it('a late, stale readiness update is corrected: Shopify ends with what the connections call for', async () => {
      const shop = await shopRow(shopA);
      // The previous test's disconnect may still be telling Shopify (its 303 does not always wait for
      // that): counted from after it, its mutation would be a third one here.
      const configureJobsInFlight = () => h.prisma.job.count({ where: { shopId: shop.id, kind: 'shopify.payments-app-configure', status: { in: ['QUEUED', 'RUNNING'] } } });
      await eventually(async () => (await configureJobsInFlight()) === 0 && !(await shopRow(shopA)).paymentsAppReady, 15_000, "the disconnect's configuration acknowledged");
      const before = h.shopify.mutations.filter((m) => m.name === 'paymentsAppConfigure' && m.shop === shopA).length;
      // A "ready" job from before the disconnect, acknowledged only now (jobs are not ordered).
      await enqueueConfiguration(h.components.repos, shop.id, { ready: true, externalHandle: 'Flex stale' }, new Date());
      h.components.worker.wake();
      await eventually(async () => {
        const sent = h.shopify.mutations.filter((m) => m.name === 'paymentsAppConfigure' && m.shop === shopA).slice(before);
        return sent.length === 2 && h.shopify.paymentsAppConfiguration(shopA)?.ready === false;
      }, 15_000, 'the corrective paymentsAppConfigure');
      const sent = h.shopify.mutations.filter((m) => m.name === 'paymentsAppConfigure' && m.shop === shopA).slice(before);
      expect(sent.map((m) => (m.variables as { ready: boolean }).ready)).toEqual([true, false]);
      await eventually(async () => !(await shopRow(shopA)).paymentsAppReady, 15_000, 'not ready recorded');
    });
  });
});
