// Order sync and write-back (README "Orders"): after a sale and after a split payment the Shopify
// order is linked to its payment, Flex checkout and payment intents, and written on (metafields
// with their definitions, a tag, a note line) without touching the merchant's own tags and note;
// a lost order webhook is made up for by the poller, and a payment whose order never comes is shown;
// Shopify's throttling delays the write-back without doubling anything; an order that differs from
// what Flex charged is flagged with what differs. Over real HTTP against both sandboxes.
import { eventually, useHarness, type Harness, type RegisteredShop } from '../support/harness';
import { payAndReturn, startCheckout } from '../support/buyer';
import { MerchantBrowser } from '../support/merchant';

const { h, shop } = useHarness({ orderWebhooks: true, tuning: { orderPollIntervalMs: 100 } });

async function admin(h: Harness, s: RegisteredShop, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${h.shopify.url}/admin/api/2026-10/graphql.json`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': s.accessToken },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data: any; errors?: unknown };
}

const ORDER_FIELDS = `note tags metafields(first: 10, namespace: "$app:flex") { nodes { key type value } }`;

async function orderOnShopify(orderId: number) {
  const res = await admin(h, shop, `query($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`, { id: `gid://shopify/Order/${orderId}` });
  const order = res.data.order as { note: string | null; tags: string[]; metafields: { nodes: Array<{ key: string; type: string; value: string }> } };
  return { note: order.note, tags: order.tags, metafields: Object.fromEntries(order.metafields.nodes.map((m) => [m.key, m.value])) };
}

/** A buyer pays `amount` on Flex (`outcome`); resolves with our payment row and Shopify's order. */
async function paidOrder(outcome: 'hsa_fsa' | 'split', input: Partial<Parameters<typeof startCheckout>[2]> = {}) {
  const checkout = await startCheckout(h, shop, { amount: '80.00', ...input });
  await payAndReturn(checkout.redirectUrl, outcome);
  const order = await h.shopify.waitForOrder(checkout.session.id);
  const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: checkout.session.id } });
  return { checkout, order, payment };
}

const annotated = (paymentSessionId: string) =>
  eventually(() => h.prisma.shopifyOrder.findFirst({ where: { paymentSessionId, annotatedAt: { not: null }, noteWrittenAt: { not: null } } }), 60_000, 'the order written on');

async function signIn(): Promise<MerchantBrowser> {
  const browser = new MerchantBrowser(h.appUrl);
  const answer = await browser.get(h.shopify.installUrl(shop.domain));
  expect(answer.status).toBe(303);
  return browser;
}

describe('order sync on payment', () => {
  it('links and annotates the order after a sale paid by HSA/FSA card', async () => {
    const { checkout, order, payment } = await paidOrder('hsa_fsa');
    const link = await annotated(payment.id);
    expect(link).toMatchObject({ shopifyOrderId: String(order.id), name: order.name, linkedVia: 'payment_id', flexCheckoutSessionId: checkout.checkoutId, hsaFsaMinor: 8000n, cardMinor: 0n, totalMinor: 8000n });
    expect(link.source).toMatch(/^orders\/(create|paid)$/);
    const intents = await h.prisma.flexPaymentIntent.findMany({ where: { paymentSessionId: payment.id } });
    expect(intents.map((i) => [i.cardType, i.amountReceivedMinor])).toEqual([['hsa_fsa', 8000n]]);

    const onShopify = await orderOnShopify(order.id);
    expect(onShopify.tags).toEqual(['Flex HSA/FSA']);
    expect(onShopify.note).toBe(`Flex HSA/FSA: 80.00 USD on an HSA/FSA card (Flex checkout ${checkout.checkoutId}).`);
    expect(onShopify.metafields).toEqual({
      checkout_session_id: checkout.checkoutId,
      hsa_fsa_amount: JSON.stringify({ amount: '80.00', currency_code: 'USD' }),
      card_amount: JSON.stringify({ amount: '0.00', currency_code: 'USD' }),
      lmn_required: 'false',
    });
    // The definitions make them visible in the admin, read-only for the merchant.
    const definitions = await admin(h, shop, `{ metafieldDefinitions(first: 10, ownerType: ORDER, namespace: "$app:flex") { nodes { key name pinnedPosition access { admin } } } }`);
    expect(definitions.data.metafieldDefinitions.nodes).toHaveLength(5);
    expect(definitions.data.metafieldDefinitions.nodes[0]).toMatchObject({ key: 'checkout_session_id', access: { admin: 'MERCHANT_READ' }, pinnedPosition: 1 });
    const adminPage = await (await fetch(`${h.shopify.url}/admin?shop=${shop.domain}`)).text();
    expect(adminPage).toContain('data-metafield="Flex checkout session"');

    const timeline = (await h.timelineOf(payment.id)).map((e) => e.type);
    expect(timeline).toEqual(expect.arrayContaining(['order_linked', 'order_annotated']));
    // Every payment reaches Flex as the catch-all line until carts are sent: flagged, with why.
    expect(link.differences).toEqual([{ kind: 'catch_all_line', shopifyLineCount: 1 }]);
  });

  it('after a split payment, keeps the merchant’s own tags and note and adds its own once', async () => {
    // The order webhooks are late: the merchant has tagged and noted the order before the app writes.
    h.shopify.faults.delayWebhooks({ topic: 'orders/create', delayMs: 500 });
    h.shopify.faults.delayWebhooks({ topic: 'orders/paid', delayMs: 500 });
    const { checkout, order, payment } = await paidOrder('split');
    h.shopify.setOrderTags(shop.domain, order.id, ['VIP', 'flex hsa/fsa']);
    h.shopify.setOrderNote(shop.domain, order.id, 'Gift wrap please');
    const link = await annotated(payment.id);
    expect(link).toMatchObject({ hsaFsaMinor: 4000n, cardMinor: 4000n });
    const onShopify = await orderOnShopify(order.id);
    expect(onShopify.tags).toEqual(['VIP', 'flex hsa/fsa', 'Flex split']);
    expect(onShopify.note).toBe(`Gift wrap please\nFlex HSA/FSA: 40.00 USD on an HSA/FSA card and 40.00 USD on a regular card (Flex checkout ${checkout.checkoutId}).`);
    expect(onShopify.metafields.card_amount).toBe(JSON.stringify({ amount: '40.00', currency_code: 'USD' }));

    // Both webhooks came (and a redelivery would too): the note line is there once, and stays the merchant's.
    await h.shopify.idle();
    await eventually(async () => (await h.prisma.job.count({ where: { kind: { in: ['orders.link-order', 'orders.annotate-order'] }, status: { in: ['QUEUED', 'RUNNING'] } } })) === 0, 20_000, 'jobs done');
    h.shopify.setOrderNote(shop.domain, order.id, 'Gift wrap please');
    await h.shopify.sendWebhook(shop.domain, 'orders/paid', { id: order.id, admin_graphql_api_id: `gid://shopify/Order/${order.id}`, checkout_token: null, cart_token: null });
    await eventually(async () => (await h.prisma.job.count({ where: { kind: { in: ['orders.link-order', 'orders.annotate-order'] }, status: { in: ['QUEUED', 'RUNNING'] } } })) === 0, 20_000, 'jobs done');
    expect((await orderOnShopify(order.id)).note).toBe('Gift wrap please');
  });

  it('finds the order through the poller when its webhooks are lost, and shows a payment whose order does not come', async () => {
    h.shopify.faults.dropWebhooks({ topic: 'orders/create' });
    h.shopify.faults.dropWebhooks({ topic: 'orders/paid' });
    // Shopify's orders query fails for a while: the payment stays without an order.
    h.shopify.faults.failNext({ api: 'admin', mutation: 'orders', status: 503, times: 1000 });
    const { order, payment } = await paidOrder('hsa_fsa', { amount: '12.34' });
    h.clock.advance(31 * 60 * 1000);
    const browser = await signIn();
    const page = await eventually(async () => {
      const answer = await browser.get(`${h.appUrl}/settings`);
      return answer.body.includes(`data-missing-order="${payment.shopifyId}"`) && answer.body;
    }, 20_000, 'the missing order shown');
    expect(page).toContain('without a Shopify order yet');
    await eventually(async () => h.shopify.adminCalls.some((c) => c.shop === shop.domain && c.name === 'orders' && c.httpStatus === 503), 20_000, 'the poller tried');

    h.shopify.faults.reset();
    h.clock.advance(10 * 60 * 1000);
    const link = await annotated(payment.id);
    expect(link).toMatchObject({ shopifyOrderId: String(order.id), source: 'poller', linkedVia: 'payment_id' });
    const orderWebhooks = h.shopify.webhookEvents.filter((e) => (e.payload as { id?: number }).id === order.id && e.topic.match(/^orders\/(create|paid)$/));
    expect(orderWebhooks.map((e) => e.outcome)).toEqual(['dropped', 'dropped']);
    const after = await browser.get(`${h.appUrl}/settings`);
    expect(after.body).not.toContain(`data-missing-order="${payment.shopifyId}"`);
  });

  it('waits out Shopify’s throttling on the write-back and writes each thing once', async () => {
    h.shopify.setAdminThrottle(shop.domain, { maximumAvailable: 1000, restoreRate: 400, currentlyAvailable: 0 });
    h.shopify.faults.failNext({ api: 'admin', mutation: 'tagsAdd', status: 'throttled' });
    h.shopify.faults.failNext({ api: 'admin', mutation: 'orderUpdate', status: 'throttled' });
    try {
      const { order, payment } = await paidOrder('hsa_fsa', { amount: '21.00' });
      await annotated(payment.id);
      const throttled = h.shopify.adminCalls.filter((c) => c.shop === shop.domain && JSON.stringify(c.response).includes('THROTTLED'));
      expect(throttled.map((c) => c.name)).toEqual(expect.arrayContaining(['tagsAdd', 'orderUpdate']));
      const writes = (name: string) => h.shopify.adminCalls.filter((c) => c.shop === shop.domain && c.name === name && JSON.stringify(c.args ?? {}).includes(String(order.id)) && !c.failed);
      expect(writes('orderUpdate')).toHaveLength(1);
      const onShopify = await orderOnShopify(order.id);
      expect(onShopify.tags).toEqual(['Flex HSA/FSA']);
      expect(onShopify.note?.match(/Flex checkout/g)).toHaveLength(1);
      const jobs = await eventually(async () => {
        const all = await h.prisma.job.findMany({ where: { kind: 'orders.annotate-order', subjectId: payment.id } });
        return all.length > 0 && all.every((j) => j.status === 'SUCCEEDED') && all;
      }, 20_000, 'the write-back job done');
      // Throttled, retried after Shopify's wait, done.
      expect(Math.max(...jobs.map((j) => j.attempts))).toBeGreaterThan(1);
    } finally {
      // Back to a Standard plan's rate (100 points/s): each order read costs about 415 points.
      h.shopify.setAdminThrottle(shop.domain, { maximumAvailable: 2000, restoreRate: 100, currentlyAvailable: 2000 });
    }
  });

  it('flags an order that asks for more than Flex was asked to charge, with what differs', async () => {
    const { order, payment } = await paidOrder('hsa_fsa', { amount: '30.00', orderEdit: { title: 'Gift wrap', amount: '4.50' } });
    const link = await annotated(payment.id);
    expect(link.flaggedAt).not.toBeNull();
    expect(link.differences).toEqual([
      { kind: 'order_total', orderTotalMinor: 3450, otherPaymentsMinor: 0, flexRequestedMinor: 3000 },
      { kind: 'catch_all_line', shopifyLineCount: 2 },
    ]);
    expect((await h.timelineOf(payment.id)).map((e) => e.type)).toContain('order_mismatch_flagged');
    const browser = await signIn();
    const page = (await browser.get(`${h.appUrl}/settings`)).body;
    const row = page.slice(page.indexOf(`data-order="${order.name}"`));
    expect(row.slice(0, row.indexOf('</tr>'))).toContain('The order&#39;s total is 34.50 USD, but Flex was asked to charge 30.00 USD.');
    // The latest flag comes first, under a count of the orders that differ.
    expect(page).toMatch(/Orders paid with Flex <span class="badge warning">\d+ differ<\/span>/);
    expect(page.indexOf('data-order="#')).toBe(page.indexOf(`data-order="${order.name}"`));
  });
});
