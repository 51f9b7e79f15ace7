import { randomUUID } from 'node:crypto';
import { payAndReturn, startCheckout } from '../support/buyer';
import { eventually, type RegisteredShop, useHarness } from '../support/harness';
import { connectFlex, installThroughOAuth, MerchantBrowser, uniqueShop } from '../support/merchant';

/**
 * Shopify's webhooks to the app, sent by the simulator over HTTP and signed with the app's secret:
 * app/uninstalled and the three compliance topics. Verified on the raw body, deduplicated on the
 * webhook id, applied in one transaction.
 */
describe('Shopify webhooks', () => {
  const { h } = useHarness({ shop: false });

  /** A shop installed through OAuth with Flex connected, and a browser signed in to it. */
  const connectedShop = async (prefix: string) => {
    const domain = uniqueShop(prefix);
    const browser = await installThroughOAuth(h, domain);
    const account = h.flex.createAccount({ name: domain });
    expect((await connectFlex(browser, { live: account.liveKey, test: account.testKey })).status).toBe(303);
    const shop = await h.prisma.shop.findUniqueOrThrow({ where: { domain } });
    return { domain, browser, account, shop };
  };
  const pay = async (domain: string, email: string, amount: string) => {
    const { session, redirectUrl } = await startCheckout(h, { domain } as RegisteredShop, { amount, customer: { email } });
    expect((await payAndReturn(redirectUrl, 'hsa_fsa')).appAnswer.status).toBe(303);
    return h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: session.id } });
  };
  const deliveries = (domain: string) => h.prisma.shopifyWebhookDelivery.findMany({ where: { shopDomain: domain }, orderBy: { receivedAt: 'asc' } });

  it('a webhook whose HMAC does not match is refused with 401 and changes nothing', async () => {
    const { domain, shop } = await connectedShop('tampered');
    for (const topic of ['app/uninstalled', 'shop/redact', 'customers/redact', 'customers/data_request']) {
      const tampered = await h.shopify.sendWebhook(domain, topic, undefined, { tamperHmac: true });
      expect(tampered.status).toBe(401);
      expect(tampered.body).toMatchObject({ error: { code: 'invalid_hmac' } });
      const missing = await h.shopify.sendWebhook(domain, topic, undefined, { headers: { 'X-Shopify-Hmac-Sha256': null } });
      expect(missing.status).toBe(401);
    }
    // A body changed after signing.
    const res = await fetch(`${h.appUrl}/webhooks/shopify/app/uninstalled`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Shopify-Hmac-Sha256': Buffer.alloc(32).toString('base64'), 'X-Shopify-Topic': 'app/uninstalled', 'X-Shopify-Shop-Domain': domain, 'X-Shopify-Webhook-Id': randomUUID() },
      body: JSON.stringify({ myshopify_domain: domain }),
    });
    expect(res.status).toBe(401);

    expect(await deliveries(domain)).toHaveLength(0);
    expect(await h.prisma.shop.findUniqueOrThrow({ where: { id: shop.id } })).toMatchObject({ status: 'ACTIVE' });
    expect(await h.prisma.flexConnection.count({ where: { shopId: shop.id } })).toBe(2);
    expect(await h.prisma.session.count({ where: { shop: domain } })).toBe(1);
  });

  it('the same webhook id is processed once, also when deliveries race', async () => {
    const { domain } = await connectedShop('dedupe');
    const webhookId = randomUUID();
    const payload = { shop_id: 1, shop_domain: domain, customer: { id: 7, email: 'once@example.com', phone: null }, orders_requested: [], data_request: { id: 99 } };
    const first = await h.shopify.sendWebhook(domain, 'customers/data_request', payload, { webhookId });
    expect(first).toMatchObject({ status: 200, body: { outcome: 'report_ready' } });
    const again = await h.shopify.sendWebhook(domain, 'customers/data_request', payload, { webhookId });
    expect(again).toMatchObject({ status: 200, body: { outcome: 'duplicate' } });

    const racingId = randomUUID();
    const racing = await Promise.all([1, 2, 3].map(() => h.shopify.sendWebhook(domain, 'customers/data_request', payload, { webhookId: racingId })));
    expect(racing.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(racing.map((r) => (r.body as { outcome: string }).outcome).sort()).toEqual(['duplicate', 'duplicate', 'report_ready']);
    expect((await deliveries(domain)).map((d) => d.webhookId).sort()).toEqual([webhookId, racingId].sort());
  });

  it('a signed body sent under another topic or for another shop is refused', async () => {
    const { domain, shop } = await connectedShop('replay');
    const redactBody = { shop_id: 1, shop_domain: domain, customer: { id: 7, email: 'x@example.com', phone: null }, orders_to_redact: [] };
    // Signed bodies that are not this topic's payload for this shop: acknowledged, recorded, not acted on.
    const uninstallBody = { id: 1, myshopify_domain: domain, domain, email: 'owner@example.com' };
    const otherShop = { shop_id: 1, shop_domain: uniqueShop('other') };
    const asUninstall = { shop_id: 1, shop_domain: domain };
    for (const [topic, body] of [['shop/redact', redactBody], ['shop/redact', uninstallBody], ['shop/redact', otherShop], ['app/uninstalled', asUninstall], ['customers/redact', { shop_domain: domain }]] as const) {
      const answer = await h.shopify.sendWebhook(domain, topic, body);
      expect(answer).toMatchObject({ status: 200, body: { outcome: 'refused_payload_mismatch' } });
    }
    // Posted to one topic's address with another topic's header: not from Shopify.
    const mislabeled = await h.shopify.sendWebhook(domain, 'customers/redact', redactBody, { headers: { 'X-Shopify-Topic': 'shop/redact' } });
    expect(mislabeled).toMatchObject({ status: 400, body: { error: { code: 'topic_mismatch' } } });

    const rows = await deliveries(domain);
    expect(rows.map((r) => r.outcome)).toEqual(Array(5).fill('refused_payload_mismatch'));
    expect(JSON.stringify(rows.map((r) => r.payload))).not.toContain('@example.com');
    expect(await h.prisma.shop.findUniqueOrThrow({ where: { id: shop.id } })).toMatchObject({ status: 'ACTIVE' });
    expect(await h.prisma.flexConnection.count({ where: { shopId: shop.id } })).toBe(2);
    expect(await h.prisma.session.count({ where: { shop: domain } })).toBe(1);
  });

  it('app/uninstalled removes the tokens, cancels only the jobs that carry no money, and releases the Flex keys and endpoints through the outbox', async () => {
    const { domain, browser, account, shop } = await connectedShop('uninstall');
    const payment = await pay(domain, 'keep@example.com', '15.00');
    const later = new Date(Date.now() + 3_600_000);
    const configuring = await h.prisma.job.create({
      data: { shopId: shop.id, kind: 'shopify.payments-app-configure', dedupeKey: `test:${randomUUID()}`, payload: { shopId: shop.id, ready: true, externalHandle: null }, status: 'QUEUED', runAt: later },
    });
    const reporting = await h.prisma.job.create({
      data: { shopId: shop.id, kind: 'shopify.payments-mutation', dedupeKey: `test:${randomUUID()}`, payload: {}, status: 'QUEUED', runAt: later },
    });
    expect(h.flex.webhookEndpoints({ accountId: account.accountId })).toHaveLength(2);

    const delivery = await h.shopify.uninstallApp(domain);
    expect(delivery).toMatchObject({ status: 200, body: { outcome: 'uninstall_queued' } });

    await eventually(async () => (await h.prisma.shop.findUniqueOrThrow({ where: { id: shop.id } })).status === 'UNINSTALLED', 10_000, 'uninstalled');
    expect(await h.prisma.shop.findUniqueOrThrow({ where: { id: shop.id } })).toMatchObject({ paymentsAppReady: false });
    expect(await h.prisma.session.count({ where: { shop: domain } })).toBe(0);
    expect(await h.prisma.job.findUniqueOrThrow({ where: { id: configuring.id } })).toMatchObject({ status: 'CANCELED' });
    // A job that reports money already moved is never canceled: it waits for the merchant.
    expect(await h.prisma.job.findUniqueOrThrow({ where: { id: reporting.id } })).toMatchObject({ status: 'QUEUED' });
    expect(await h.prisma.paymentSession.findUnique({ where: { id: payment.id } })).not.toBeNull();
    await eventually(async () => (await h.prisma.flexConnection.count({ where: { shopId: shop.id } })) === 0, 10_000, 'Flex keys released');
    expect(h.flex.webhookEndpoints({ accountId: account.accountId })).toHaveLength(0);
    await h.prisma.job.delete({ where: { id: reporting.id } });

    const [row] = await deliveries(domain);
    expect(row).toMatchObject({ topic: 'app/uninstalled', outcome: 'uninstalled' });
    expect(JSON.stringify(row!.payload)).not.toContain('@'); // the shop owner's email is not kept
    expect((await browser.get(`${h.appUrl}/settings`)).status).toBe(401);
  });

  it("customers/data_request compiles the customer's payments for the merchant", async () => {
    const { domain, browser } = await connectedShop('datareq');
    const mine = [await pay(domain, 'Pat@Example.com', '20.00'), await pay(domain, 'pat@example.com', '30.00')];
    await pay(domain, 'someone-else@example.com', '40.00');

    const payload = { shop_id: 1, shop_domain: domain, customer: { id: 42, email: 'pat@example.com', phone: null }, orders_requested: [1001], data_request: { id: 555 } };
    const delivery = await h.shopify.sendWebhook(domain, 'customers/data_request', payload);
    expect(delivery).toMatchObject({ status: 200, body: { outcome: 'report_ready' } });

    const page = (await browser.get(`${h.appUrl}/settings`)).body;
    const row = /<section class="card" id="privacy">([\s\S]*?)<\/section>/.exec(page)![1]!;
    expect(row).toContain('pat@example.com');
    const link = /href="(\/settings\/data-requests\/[^"]+)"/.exec(row)![1]!;
    const report = await browser.get(`${h.appUrl}${link}`);
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toContain('application/json');
    const body = JSON.parse(report.body) as { payments: Array<{ shopifyPaymentSessionId: string; amount: string; customer: { email: string } }>; dataRequestId: number };
    expect(body.dataRequestId).toBe(555);
    expect(body.payments.map((p) => p.shopifyPaymentSessionId).sort()).toEqual(mine.map((p) => p.shopifyId).sort());
    expect(body.payments.map((p) => p.amount).sort()).toEqual(['20.00', '30.00']);
    expect(body.payments.every((p) => p.customer.email.toLowerCase() === 'pat@example.com')).toBe(true);
  });

  it("customers/redact removes the customer's details from stored payments and keeps the money records", async () => {
    const { domain, shop } = await connectedShop('redact');
    const target = await pay(domain, 'gone@example.com', '25.00');
    const other = await pay(domain, 'stays@example.com', '35.00');
    await h.flex.waitForDeliveries();
    await eventually(async () => (await h.prisma.flexWebhookDelivery.count({ where: { shopId: shop.id } })) > 0, 15_000, 'Flex webhooks recorded');
    const mentions = async (text: string) =>
      (await h.prisma.flexWebhookDelivery.findMany({ where: { shopId: shop.id } })).filter((d) => JSON.stringify(d.payload).includes(text)).length;
    expect(await mentions('gone@example.com')).toBeGreaterThan(0);
    const request = { shop_id: 1, shop_domain: domain, customer: { id: 9, email: 'gone@example.com', phone: '555-0100' }, orders_requested: [], data_request: { id: 1 } };
    expect((await h.shopify.sendWebhook(domain, 'customers/data_request', request)).status).toBe(200);

    const redact = { shop_id: 1, shop_domain: domain, customer: { id: 9, email: 'gone@example.com', phone: '555-0100' }, orders_to_redact: [1] };
    const delivery = await h.shopify.sendWebhook(domain, 'customers/redact', redact);
    expect(delivery).toMatchObject({ status: 200, body: { outcome: 'customer_redacted' } });

    const after = await h.prisma.paymentSession.findUniqueOrThrow({ where: { id: target.id } });
    expect(after.customer).toBeNull();
    expect((after.rawRequest as Record<string, unknown>).customer).toBeNull();
    expect(JSON.stringify(after, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain('gone@example.com');
    expect(after).toMatchObject({ amountMinor: 2500n, status: 'RESOLVED', shopifyId: target.shopifyId, gid: target.gid, flexCheckoutSessionId: target.flexCheckoutSessionId });
    expect(await h.prisma.paymentEvent.count({ where: { paymentSessionId: target.id } })).toBeGreaterThan(0);
    expect(await mentions('gone@example.com')).toBe(0);
    expect(await mentions('stays@example.com')).toBeGreaterThan(0);
    expect((await h.prisma.paymentSession.findUniqueOrThrow({ where: { id: other.id } })).customer).toMatchObject({ email: 'stays@example.com' });

    // Neither the erasure request nor the earlier data request keeps the customer's details.
    const rows = await deliveries(domain);
    expect(rows.map((r) => r.outcome)).toEqual(['report_redacted', 'customer_redacted']);
    for (const row of rows) {
      expect(JSON.stringify(row.payload)).not.toContain('gone@example.com');
      expect(JSON.stringify(row.payload)).not.toContain('555-0100');
    }
  });

  it("shop/redact deletes the shop's data, but not while the app is installed", async () => {
    const { domain, shop } = await connectedShop('shopredact');
    await pay(domain, 'buyer@example.com', '12.00');
    await h.flex.waitForDeliveries();
    expect((await h.shopify.sendWebhook(domain, 'customers/data_request')).status).toBe(200);

    const early = await h.shopify.sendWebhook(domain, 'shop/redact');
    expect(early).toMatchObject({ status: 200, body: { outcome: 'skipped_shop_installed' } });
    expect(await h.prisma.paymentSession.count({ where: { shopId: shop.id } })).toBe(1);

    await h.shopify.uninstallApp(domain);
    // Shopify sends shop/redact 48 hours after the uninstall, which the app has long carried out.
    await eventually(async () => (await h.prisma.shop.findUniqueOrThrow({ where: { id: shop.id } })).status === 'UNINSTALLED', 10_000, 'uninstalled');
    const redacted = await h.shopify.sendWebhook(domain, 'shop/redact');
    expect(redacted).toMatchObject({ status: 200, body: { outcome: 'shop_data_deleted' } });

    expect(await h.prisma.shop.findUnique({ where: { id: shop.id } })).toBeNull();
    expect(await h.prisma.paymentSession.count({ where: { shopId: shop.id } })).toBe(0);
    expect(await h.prisma.paymentEvent.count({ where: { paymentSession: { shopId: shop.id } } })).toBe(0);
    expect(await h.prisma.flexConnection.count({ where: { shopId: shop.id } })).toBe(0);
    expect(await h.prisma.job.count({ where: { shopId: shop.id } })).toBe(0);
    expect(await h.prisma.flexWebhookDelivery.count({ where: { shopId: shop.id } })).toBe(0);
    expect(await h.prisma.session.count({ where: { shop: domain } })).toBe(0);
    const rows = await deliveries(domain);
    for (const row of rows.filter((r) => r.topic !== 'shop/redact')) expect(row.payload).toEqual({ redacted: true });
    expect(JSON.stringify(rows)).not.toContain('buyer@example.com');

    // The merchant can install again from scratch.
    const browser: MerchantBrowser = await installThroughOAuth(h, domain);
    expect((await browser.get(`${h.appUrl}/settings`)).body).toContain('Connect your Flex account');
  });

  it('a topic the app does not handle is acknowledged and recorded', async () => {
    const { domain } = await connectedShop('other-topic');
    const delivery = await h.shopify.sendWebhook(domain, 'collections/update', { id: 1 });
    expect(delivery).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
    expect(await deliveries(domain)).toMatchObject([{ topic: 'collections/update', outcome: 'ignored', payload: { request: {} } }]);
  });

  it('an orders/create body that is not an order is refused, recorded, and queues nothing', async () => {
    const { domain } = await connectedShop('not-an-order');
    const jobsBefore = await h.prisma.job.count({ where: { kind: 'orders.link-order' } });
    const delivery = await h.shopify.sendWebhook(domain, 'orders/create', { id: 1, shop_domain: domain });
    expect(delivery).toMatchObject({ status: 200, body: { outcome: 'refused_payload_mismatch' } });
    expect(await h.prisma.job.count({ where: { kind: 'orders.link-order' } })).toBe(jobsBefore);
  });
});
