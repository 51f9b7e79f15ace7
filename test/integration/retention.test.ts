import { BuyerDataRetention } from '../../src/db/retention';
import { createLogger } from '../../src/lib/logger';
import { payAndReturn, startCheckout } from '../support/buyer';
import { eventually, useHarness } from '../support/harness';
import { MerchantBrowser } from '../support/merchant';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Retention: raw Shopify requests and webhook payloads hold buyer data (names, emails, addresses);
 * a periodic task prunes them once they are older than RETENTION_DAYS (90 by default), while the
 * money records (amounts, states, ids, timelines) stay, and a data request's report stays for the
 * merchant's 30 days to send it on.
 */
describe('retention of buyer data', () => {
  const { h, shop } = useHarness({ tuning: { retentionIntervalMs: 100 } });

  async function paid(amount: string, kind: 'sale' | 'authorization', email: string) {
    const { session, redirectUrl } = await startCheckout(h, shop, { amount, kind, customer: { email } });
    await payAndReturn(redirectUrl, 'hsa_fsa');
    expect((await h.shopify.waitForPaymentSession(session.id)).status).toBe('resolved');
    return session;
  }

  async function followUp(kind: 'refund' | 'capture' | 'void', paymentId: string, amount?: string) {
    const sent =
      kind === 'refund'
        ? await h.shopify.sendRefundSession(shop.domain, { paymentId, amount })
        : kind === 'capture'
          ? await h.shopify.sendCaptureSession(shop.domain, { paymentId, amount })
          : await h.shopify.sendVoidSession(shop.domain, { paymentId });
    expect(sent.status).toBe(201);
    expect((await h.shopify.waitForFollowUpSession(sent.session.id, { timeoutMs: 20_000 })).status).toBe('resolved');
    return sent.session;
  }

  async function dataRequest(email: string, id: number) {
    const payload = { shop_id: 1, shop_domain: shop.domain, customer: { id, email, phone: '555-0100' }, orders_requested: [], data_request: { id } };
    expect((await h.shopify.sendWebhook(shop.domain, 'customers/data_request', payload)).status).toBe(200);
    return h.prisma.shopifyWebhookDelivery.findFirstOrThrow({ where: { topic: 'customers/data_request', payload: { path: ['request', 'data_request', 'id'], equals: id } } });
  }

  /** Everything about the money: what must survive pruning unchanged. */
  async function moneyRecords(paymentShopifyIds: string[]) {
    const payments = await h.prisma.paymentSession.findMany({
      where: { shopifyId: { in: paymentShopifyIds } },
      orderBy: { shopifyId: 'asc' },
      include: { events: { orderBy: { createdAt: 'asc' } }, refundSessions: true, captureSessions: true, voidSessions: true },
    });
    return payments.map(({ rawRequest, customer, prunedAt, updatedAt, refundSessions, captureSessions, voidSessions, ...money }) => ({
      ...money,
      followUps: [...refundSessions, ...captureSessions, ...voidSessions].map(({ rawRequest: _r, prunedAt: _p, updatedAt: _u, ...rest }) => rest),
    }));
  }

  /** The app's jobs are all done: nothing is left to retry when the clock jumps ahead. */
  const jobsSettled = () => eventually(async () => (await h.prisma.job.count({ where: { status: { in: ['QUEUED', 'RUNNING'] } } })) === 0, 20_000, 'jobs done');

  it('prunes raw requests and webhook payloads past the period, keeps recent ones and every money record', async () => {
    // Three months ago: a sale refunded in part, an authorization captured, another voided, a data request.
    const sale = await paid('80.00', 'sale', 'old.buyer@example.com');
    const authorization = await paid('50.00', 'authorization', 'old.buyer@example.com');
    const voided = await paid('20.00', 'authorization', 'old.buyer@example.com');
    await followUp('refund', sale.id, '30.00');
    await followUp('capture', authorization.id, '50.00');
    await followUp('void', voided.id);
    const oldRequest = await dataRequest('old.buyer@example.com', 1001);
    expect(oldRequest.outcome).toBe('report_ready');
    await h.flex.waitForDeliveries();
    await jobsSettled();
    const oldIds = [sale.id, authorization.id, voided.id];
    const moneyBefore = await moneyRecords(oldIds);
    const oldFlexDeliveries = await h.prisma.flexWebhookDelivery.findMany({ orderBy: { receivedAt: 'asc' } });
    expect(oldFlexDeliveries.length).toBeGreaterThan(3);
    expect(JSON.stringify(oldFlexDeliveries.map((d) => d.payload))).toContain('old.buyer@example.com');

    // Two months later: a recent sale and data request.
    h.clock.advance(60 * DAY_MS);
    const recent = await paid('15.00', 'sale', 'new.buyer@example.com');
    const recentRequest = await dataRequest('new.buyer@example.com', 1002);
    await h.flex.waitForDeliveries();
    await jobsSettled();
    const recentBefore = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: recent.id } });
    expect(recentBefore.customer).toMatchObject({ email: 'new.buyer@example.com' });

    // A month after that, the first lot is 91 days old: the periodic task prunes it. Two more
    // instances prune at the same time, in batches of one: together they prune each row once.
    h.clock.advance(31 * DAY_MS);
    const silent = createLogger({ level: 'silent' });
    const others = [1, 2].map(() => new BuyerDataRetention(h.prisma, { clock: h.clock, logger: silent, retentionDays: 90, batchSize: 1 }));
    const [a, b] = await Promise.all(others.map((o) => o.runOnce()));
    await eventually(async () => (await h.prisma.paymentSession.count({ where: { shopifyId: { in: oldIds }, prunedAt: null } })) === 0, 20_000, 'old payments pruned');
    await eventually(async () => (await h.prisma.shopifyWebhookDelivery.findUniqueOrThrow({ where: { id: oldRequest.id } })).prunedAt !== null, 20_000, 'old data request pruned');
    // The app's own task logs what it pruned only at the end of its pass, after the rows above show as
    // pruned: wait until the three instances' counts reach what was there, then check each is exact.
    const byAppLogs = () => h.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'retention: pruned buyer data');
    const prunedCount = (name: string) => a![name]! + b![name]! + byAppLogs().reduce((sum, l) => sum + (l.pruned[name] ?? 0), 0);
    const expected = { paymentSessions: 3, refundSessions: 1, captureSessions: 1, voidSessions: 1, flexWebhookDeliveries: oldFlexDeliveries.length };
    await eventually(async () => {
      if (Object.entries(expected).every(([name, n]) => prunedCount(name) >= n)) return true;
      throw new Error(`pruned so far ${JSON.stringify(Object.fromEntries(Object.keys(expected).map((name) => [name, prunedCount(name)])))}`);
    }, 20_000, 'the app’s pruning logged');
    expect(byAppLogs().every((l) => l.component === 'retention' && l.retentionDays === 90)).toBe(true);
    expect(prunedCount('paymentSessions')).toBe(3);
    expect(prunedCount('refundSessions')).toBe(1);
    expect(prunedCount('captureSessions')).toBe(1);
    expect(prunedCount('voidSessions')).toBe(1);
    expect(prunedCount('flexWebhookDeliveries')).toBe(oldFlexDeliveries.length);

    // Old rows: the buyer data is gone…
    for (const p of await h.prisma.paymentSession.findMany({ where: { shopifyId: { in: oldIds } } })) {
      expect(p).toMatchObject({ rawRequest: {}, customer: null });
      expect(p.prunedAt).not.toBeNull();
    }
    for (const table of [h.prisma.refundSession, h.prisma.captureSession, h.prisma.voidSession] as Array<typeof h.prisma.refundSession>) {
      for (const row of await table.findMany()) expect(row).toMatchObject({ rawRequest: {}, prunedAt: expect.any(Date) });
    }
    const flexAfter = await h.prisma.flexWebhookDelivery.findMany({ where: { id: { in: oldFlexDeliveries.map((d) => d.id) } }, orderBy: { receivedAt: 'asc' } });
    expect(flexAfter.map((d) => d.payload)).toEqual(oldFlexDeliveries.map((d) => ({ event_id: (d.payload as any).event_id, event_type: (d.payload as any).event_type })));
    expect(flexAfter.map((d) => [d.deliveryId, d.eventType, d.outcome])).toEqual(oldFlexDeliveries.map((d) => [d.deliveryId, d.eventType, d.outcome]));
    const oldRequestAfter = await h.prisma.shopifyWebhookDelivery.findUniqueOrThrow({ where: { id: oldRequest.id } });
    expect(oldRequestAfter).toMatchObject({ outcome: 'report_ready', topic: 'customers/data_request', webhookId: oldRequest.webhookId });
    expect(oldRequestAfter.payload).toEqual({ request: { customer: { id: 1001 }, data_request: { id: 1001 }, orders_requested: [] } });
    const oldPayments = await h.prisma.paymentSession.findMany({ where: { shopifyId: { in: oldIds } }, select: { rawRequest: true, customer: true } });
    const oldDump = JSON.stringify([oldPayments, flexAfter.map((d) => d.payload), oldRequestAfter.payload]);
    expect(oldDump).not.toContain('old.buyer@example.com');

    // …and the money records, timelines included, are exactly as they were.
    expect(await moneyRecords(oldIds)).toEqual(moneyBefore);

    // Recent rows are untouched.
    expect(await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: recent.id } })).toEqual(recentBefore);
    const recentRequestAfter = await h.prisma.shopifyWebhookDelivery.findUniqueOrThrow({ where: { id: recentRequest.id } });
    expect(recentRequestAfter).toEqual(recentRequest);
    const recentFlex = await h.prisma.flexWebhookDelivery.findMany({ where: { id: { notIn: oldFlexDeliveries.map((d) => d.id) } } });
    expect(recentFlex.length).toBeGreaterThan(0);
    for (const d of recentFlex) expect(d.prunedAt).toBeNull();

    // The settings page renders: old payments with their timelines, the old report gone, the new one offered.
    const browser = new MerchantBrowser(h.appUrl);
    expect((await browser.get(h.shopify.installUrl(shop.domain))).status).toBe(303);
    const settings = await browser.get(`${h.appUrl}/settings`);
    expect(settings.status).toBe(200);
    for (const id of [...oldIds, recent.id]) expect(settings.body).toContain(id);
    expect(settings.body).toContain('report removed after the retention period');
    expect(settings.body).toContain(`/settings/data-requests/${recentRequest.id}`);
    expect((await browser.get(`${h.appUrl}/settings/data-requests/${oldRequest.id}`)).status).toBe(404);
    expect((await browser.get(`${h.appUrl}/settings/data-requests/${recentRequest.id}`)).status).toBe(200);

    // A refund of an old payment still works: nothing it needs was pruned.
    await followUp('refund', sale.id, '10.00');
  });

  it('keeps a data request report for 30 days even when the retention period is shorter', async () => {
    h.setEnv({ RETENTION_DAYS: '7' });
    await h.restartApp();
    const payment = await paid('12.00', 'sale', 'short.buyer@example.com');
    const request = await dataRequest('short.buyer@example.com', 2001);
    await h.flex.waitForDeliveries();
    await jobsSettled();

    h.clock.advance(8 * DAY_MS);
    await eventually(async () => (await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: payment.id } })).prunedAt !== null, 20_000, 'payment pruned after 7 days');
    // Runs of the task that pruned the payment left the report for the merchant.
    await h.components.retention.runOnce();
    const kept = await h.prisma.shopifyWebhookDelivery.findUniqueOrThrow({ where: { id: request.id } });
    expect(kept.prunedAt).toBeNull();
    expect((kept.payload as any).report.payments).toHaveLength(1);

    h.clock.advance(23 * DAY_MS);
    await eventually(async () => (await h.prisma.shopifyWebhookDelivery.findUniqueOrThrow({ where: { id: request.id } })).prunedAt !== null, 20_000, 'report pruned after 30 days');
    expect(JSON.stringify((await h.prisma.shopifyWebhookDelivery.findUniqueOrThrow({ where: { id: request.id } })).payload)).not.toContain('short.buyer@example.com');
  });
});
