import { payAndReturn, startCheckout } from '../support/buyer';
import { eventually, type RegisteredShop, useHarness } from '../support/harness';
import { connectFlex, installThroughOAuth, uniqueShop } from '../support/merchant';

/**
 * Uninstalling is ordered and durable (issue 9.6): a late or replayed app/uninstalled changes
 * nothing once the app is installed again, money already on its way still completes, and the shop's
 * Flex keys and endpoints are released by the outbox once nothing open needs them.
 */
describe('uninstall', () => {
  const { h } = useHarness({ shop: false });

  async function installedShop(prefix: string) {
    const domain = uniqueShop(prefix);
    const browser = await installThroughOAuth(h, domain);
    const account = h.flex.createAccount({ name: domain });
    expect((await connectFlex(browser, { live: account.liveKey, test: account.testKey })).status).toBe(303);
    const shop = await h.prisma.shop.findUniqueOrThrow({ where: { domain } });
    return { domain, browser, account, shop };
  }
  const paidSale = async (domain: string, amount: string) => {
    const { session, redirectUrl } = await startCheckout(h, { domain } as RegisteredShop, { amount });
    expect((await payAndReturn(redirectUrl, 'hsa_fsa')).appAnswer.status).toBe(303);
    await h.shopify.waitForPaymentSession(session.id);
    return session;
  };
  const shopState = async (id: string) => ({
    shop: await h.prisma.shop.findUniqueOrThrow({ where: { id }, select: { status: true, paymentsAppReady: true } }),
    connections: await h.prisma.flexConnection.count({ where: { shopId: id } }),
  });

  it('an app/uninstalled that arrives after the merchant installed again (late, or replayed) changes nothing', async () => {
    const { domain, account, shop } = await installedShop('late-uninstall');
    await h.shopify.uninstallApp(domain);
    await eventually(async () => (await h.prisma.flexConnection.count({ where: { shopId: shop.id } })) === 0, 10_000, 'first uninstall carried out');

    // The merchant installs again and reconnects Flex.
    const browser = await installThroughOAuth(h, domain);
    expect((await connectFlex(browser, { live: account.liveKey })).status).toBe(303);
    const before = await shopState(shop.id);
    const tokenBefore = (await h.components.tokens.forShop(domain as never))?.reveal();

    // The same uninstall body, delivered again under a new webhook id.
    const replay = await h.shopify.sendWebhook(domain, 'app/uninstalled', { id: 1, myshopify_domain: domain });
    expect(replay).toMatchObject({ status: 200, body: { outcome: 'uninstall_queued' } });
    const row = await eventually(async () => {
      const found = await h.prisma.shopifyWebhookDelivery.findFirst({ where: { webhookId: replay!.webhookId } });
      return found?.outcome === 'ignored_still_installed' ? found : undefined;
    }, 10_000, 'replay judged');
    expect(row.outcome).toBe('ignored_still_installed');
    expect(await shopState(shop.id)).toEqual(before);
    expect((await h.components.tokens.forShop(domain as never))?.reveal()).toBe(tokenBefore);
    expect((await browser.get(`${h.appUrl}/settings`)).status).toBe(200);
  });

  it('a refund in flight at uninstall still completes in Flex: the keys stay until it is final, and Shopify hears of it after a reinstall', async () => {
    const { domain, shop } = await installedShop('refund-in-flight');
    const session = await paidSale(domain, '44.00');
    h.flex.setRefundBehaviour('manual');
    const sent = await h.shopify.sendRefundSession(domain, { paymentId: session.id, amount: '44.00' });
    const refund = await eventually(async () => {
      const row = await h.prisma.refundSession.findFirst({ where: { shopifyId: sent.session.id } });
      return row?.status === 'PENDING' ? row : undefined;
    }, 10_000, 'refund pending in Flex');

    await h.shopify.uninstallApp(domain);
    await eventually(async () => (await h.prisma.shop.findUniqueOrThrow({ where: { id: shop.id } })).status === 'UNINSTALLED', 10_000, 'uninstalled');
    // The release job waits for the open refund: the keys and the webhook endpoint stay.
    await eventually(async () => (await h.prisma.job.findFirst({ where: { shopId: shop.id, kind: 'merchant.release-flex-connections', attempts: { gte: 2 } } })) !== null, 10_000, 'release waited');
    expect(await h.prisma.flexConnection.count({ where: { shopId: shop.id } })).toBe(2);
    // Uninstalled with its keys still held: it takes no new payment and keeps no cart.
    const sessionsBefore = await h.prisma.paymentSession.count();
    const refused = await h.shopify.sendPaymentSession(domain, { amount: '10.00' });
    expect(refused.status).toBe(404);
    expect((refused.body as any).error.code).toBe('unknown_shop');
    expect(await h.prisma.paymentSession.count()).toBe(sessionsBefore);
    const token = `after-uninstall-${shop.id.slice(0, 8)}`;
    const checkout = { token, cart_token: `c-${token}`, currency: 'USD', updated_at: new Date().toISOString(), line_items: [{ variant_id: 1, product_id: 2, title: 'x', quantity: 1 }], total_price: '5.00', subtotal_price: '5.00', total_tax: '0.00', total_discounts: '0.00', shipping_lines: [] };
    expect((await h.shopify.sendWebhook(domain, 'checkouts/update', checkout)).body).toMatchObject({ outcome: 'ignored_shop_not_installed' });
    expect(await h.prisma.cartSnapshot.count({ where: { checkoutToken: token } })).toBe(0);

    // Flex finishes the refund; its webhook still verifies and moves the refund on.
    const [flexRefund] = h.flex.refunds({ checkoutSessionId: (await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: session.id } })).flexCheckoutSessionId! }) as Array<{ refund_id: string }>;
    h.flex.settleRefund(flexRefund!.refund_id, 'succeeded');
    await eventually(async () => (await h.prisma.refundSession.findUniqueOrThrow({ where: { id: refund.id } })).status === 'SUCCEEDED', 10_000, 'refund succeeded');
    await eventually(async () => (await h.prisma.flexConnection.count({ where: { shopId: shop.id } })) === 0, 10_000, 'keys released once nothing is open');
    // Shopify cannot hear it while the app is uninstalled: the report waits, it is not canceled.
    const report = await h.prisma.job.findFirstOrThrow({ where: { dedupeKey: `shopify:refundSessionResolve:${sent.session.gid}` } });
    expect(['QUEUED', 'RUNNING']).toContain(report.status);

    await installThroughOAuth(h, domain);
    await eventually(async () => (await h.prisma.job.findUniqueOrThrow({ where: { id: report.id } })).status === 'SUCCEEDED', 15_000, 'report delivered after the reinstall');
    expect(h.shopify.mutations.filter((m) => m.name === 'refundSessionResolve' && (m.variables as any).id === sent.session.gid && !m.failed).length).toBeGreaterThanOrEqual(1);
  });
});
