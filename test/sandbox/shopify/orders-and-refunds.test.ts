// Orders after payment: the order Shopify creates on paymentSessionResolve (lines, totals, the
// transaction whose payment id is the session id), its webhooks and pixel event, the Admin API's order
// reads and writes, captures, and refunds by line with the refund session request.
import type { OrderRecord, ShopifySimulator } from '../../../sandbox/shopify';
import { COMMERCE_SCOPES, RESOLVE, type SimulatorEnv, type TinyApp, useShopifySimulator } from './helpers';

const env = useShopifySimulator({ scopes: COMMERCE_SCOPES, webhookTopics: '*' });
let shopify: ShopifySimulator;
let app: TinyApp;
let shop: SimulatorEnv['shop'];
let thermometer: number;
let mug: number;

beforeAll(async () => {
  ({ shopify, app, shop } = env);
  thermometer = shopify.createProduct(shop.domain, { title: 'Digital Thermometer', variants: [{ price: '12.50', sku: 'THERMO-1' }] }).product.variants[0]!.id;
  mug = shopify.createProduct(shop.domain, { title: 'Coffee Mug', variants: [{ price: '5.25', sku: 'MUG-B' }] }).product.variants[0]!.id;
  await env.admin(shop.accessToken, `mutation($s: JSON!) { webPixelCreate(webPixel: { settings: $s }) { userErrors { code } } }`, {
    s: JSON.stringify({ shopKey: 'k', endpoint: `${app.url}/pixel` }),
  });
  await shopify.idle();
});

beforeEach(() => {
  shopify.setAssumptions({ ordersPaymentIdSearch: true, refundTransactionPaymentId: 'payment_session_id', refundWebhookTiming: 'before_session' });
});

const CART = () => ({ lines: [{ variantId: thermometer, quantity: 2 }, { variantId: mug, quantity: 1 }], discount: { code: 'SAVE2', amount: '2.00' }, shipping: { price: '4.00' }, tax: { rate: 0.1 } });

async function paidOrder(kind: 'sale' | 'authorization' = 'sale'): Promise<OrderRecord> {
  const run = await shopify.runCheckout(shop.domain, { ...CART(), session: { kind } });
  const res = await env.gql(shop.accessToken, RESOLVE, { id: run.session!.session.gid });
  expect(res.body.data.paymentSessionResolve.userErrors).toEqual([]);
  const order = await shopify.waitForOrder(run.session!.session.id);
  await shopify.idle();
  return order;
}

const ORDER_FIELDS = `id name note tags displayFinancialStatus paymentGatewayNames
  totalPriceSet { shopMoney { amount currencyCode } } subtotalPriceSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } }
  totalDiscountsSet { shopMoney { amount } } totalShippingPriceSet { shopMoney { amount } } totalRefundedSet { shopMoney { amount } }
  lineItems(first: 10) { nodes { id quantity sku variant { id } originalUnitPriceSet { shopMoney { amount } } discountAllocations { allocatedAmountSet { shopMoney { amount } } } } }
  transactions { kind status gateway paymentId amountSet { shopMoney { amount } } }
  refunds { id refundLineItems(first: 10) { nodes { quantity lineItem { id } subtotalSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } } } }
    transactions(first: 5) { nodes { kind status paymentId amountSet { shopMoney { amount } } } } }`;

describe('the order after paymentSessionResolve', () => {
  it('is created from the checkout’s cart, with the session id as the transaction’s payment id', async () => {
    const order = await paidOrder();
    expect(order).toMatchObject({ name: expect.stringMatching(/^#10\d\d$/), kind: 'sale', totalCents: 3508, checkoutToken: expect.any(String), gateway: 'Flex HSA/FSA' });
    const res = await env.admin(shop.accessToken, `query($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`, { id: `gid://shopify/Order/${order.id}` });
    expect(res.body.data.order).toMatchObject({
      name: order.name,
      displayFinancialStatus: 'PAID',
      paymentGatewayNames: ['Flex HSA/FSA'],
      totalPriceSet: { shopMoney: { amount: '35.08', currencyCode: 'USD' } },
      subtotalPriceSet: { shopMoney: { amount: '28.25' } },
      totalTaxSet: { shopMoney: { amount: '2.83' } },
      totalDiscountsSet: { shopMoney: { amount: '2.0' } },
      totalShippingPriceSet: { shopMoney: { amount: '4.0' } },
      lineItems: {
        nodes: [
          { quantity: 2, sku: 'THERMO-1', variant: { id: `gid://shopify/ProductVariant/${thermometer}` }, originalUnitPriceSet: { shopMoney: { amount: '12.5' } }, discountAllocations: [{ allocatedAmountSet: { shopMoney: { amount: '1.65' } } }] },
          { quantity: 1, sku: 'MUG-B', discountAllocations: [{ allocatedAmountSet: { shopMoney: { amount: '0.35' } } }] },
        ],
      },
      transactions: [{ kind: 'SALE', status: 'SUCCESS', gateway: 'Flex HSA/FSA', paymentId: order.paymentSessionId, amountSet: { shopMoney: { amount: '35.08' } } }],
      refunds: [],
    });
  });

  it('sends orders/create and orders/paid with checkout_token and cart_token, then checkout_completed to the pixel', async () => {
    const order = await paidOrder();
    const created = app.all('/webhooks/shopify/orders/create').map((r) => r.body).find((b) => b.id === order.id);
    expect(created).toMatchObject({
      name: order.name,
      order_number: order.number,
      checkout_token: order.checkoutToken,
      cart_token: order.cartToken,
      token: order.token,
      financial_status: 'paid',
      total_price: '35.08',
      payment_gateway_names: ['Flex HSA/FSA'],
      line_items: [{ variant_id: thermometer, quantity: 2, price: '12.50', discount_allocations: [{ amount: '1.65' }] }, { variant_id: mug }],
    });
    expect(app.all('/webhooks/shopify/orders/paid').some((r) => r.body.id === order.id)).toBe(true);
    const completed = app.all('/pixel').find((r) => r.body.event.name === 'checkout_completed' && r.body.event.checkout.token === order.checkoutToken);
    expect(completed!.body.event.location).toMatch(/\/thank-you$/);
  });

  it('a session without a cart gets one custom line; an authorization is captured later', async () => {
    const sent = await shopify.sendPaymentSession(shop.domain, { amount: '40.00', kind: 'authorization' });
    await env.gql(shop.accessToken, RESOLVE, { id: sent.session.gid });
    const order = await shopify.waitForOrder(sent.session.id);
    expect(order.lines).toEqual([expect.objectContaining({ title: 'Custom sale', quantity: 1, unitPriceCents: 4000, variantId: null })]);
    expect(order.transactions[0]).toMatchObject({ kind: 'authorization', paymentId: sent.session.id });
    await shopify.idle();
    expect(app.all('/webhooks/shopify/orders/paid').some((r) => r.body.id === order.id)).toBe(false);
    const capture = await shopify.sendCaptureSession(shop.domain, { paymentId: sent.session.id });
    await env.gql(shop.accessToken, `mutation($id: ID!) { captureSessionResolve(id: $id) { userErrors { code } } }`, { id: capture.session.gid });
    await shopify.idle();
    expect(order.transactions.map((t) => t.kind)).toEqual(['authorization', 'capture']);
    expect(app.all('/webhooks/shopify/orders/paid').find((r) => r.body.id === order.id)!.body.financial_status).toBe('paid');
  });

  it('can be dropped or delayed like any automatic webhook', async () => {
    shopify.faults.dropWebhooks({ topic: 'orders/create' });
    const order = await paidOrder();
    expect(app.all('/webhooks/shopify/orders/create').some((r) => r.body.id === order.id)).toBe(false);
    expect(shopify.webhookEvents.find((e) => e.topic === 'orders/create' && (e.payload as { id: number }).id === order.id)!.outcome).toBe('dropped');
  });
});

describe('orders in the Admin API', () => {
  it('orders(query: "payment_id:…") finds the order, unless the assumption says the filter is not supported', async () => {
    const order = await paidOrder();
    const QUERY = `query($q: String) { orders(first: 50, query: $q) { nodes { id } } }`;
    const found = await env.admin(shop.accessToken, QUERY, { q: `payment_id:${order.paymentSessionId}` });
    expect(found.body.data.orders.nodes).toEqual([{ id: `gid://shopify/Order/${order.id}` }]);
    shopify.setAssumptions({ ordersPaymentIdSearch: false });
    const ignored = await env.admin(shop.accessToken, QUERY, { q: `payment_id:${order.paymentSessionId}` });
    expect(ignored.body.data.orders.nodes.length).toBe(shopify.orders({ shop: shop.domain }).length);
    const recent = await env.admin(shop.accessToken, QUERY, { q: `updated_at:>='${order.createdAt}'` });
    expect(recent.body.data.orders.nodes).toContainEqual({ id: `gid://shopify/Order/${order.id}` });
  });

  it('orderUpdate replaces note and tags (read-merge-write); tagsAdd and tagsRemove merge', async () => {
    const order = await paidOrder();
    const gid = `gid://shopify/Order/${order.id}`;
    shopify.setOrderNote(shop.domain, order.id, 'Gift wrap, please');
    shopify.setOrderTags(shop.domain, order.id, ['vip']);
    const UPDATE = `mutation($input: OrderInput!) { orderUpdate(input: $input) { order { note tags } userErrors { field message } } }`;
    const blind = await env.admin(shop.accessToken, UPDATE, { input: { id: gid, note: 'Flex: split payment', tags: ['flex'] } });
    expect(blind.body.data.orderUpdate.order).toEqual({ note: 'Flex: split payment', tags: ['flex'] }); // the merchant's note and tag are gone
    const tags = await env.admin(shop.accessToken, `mutation($id: ID!) { a: tagsAdd(id: $id, tags: ["vip", "hsa-fsa"]) { userErrors { message } } r: tagsRemove(id: $id, tags: ["flex"]) { node { ... on Order { tags } } } }`, { id: gid });
    expect(tags.body.data.r.node.tags).toEqual(['vip', 'hsa-fsa']);
    await shopify.idle();
    expect(app.all('/webhooks/shopify/orders/updated').some((r) => r.body.id === order.id && r.body.tags === 'vip, hsa-fsa')).toBe(true);
  });
});

describe('refunds by line', () => {
  it('computes the amount from discounted lines and their tax, records the refund, sends refunds/create and the refund session', async () => {
    const order = await paidOrder();
    const thermoLine = order.lines.find((l) => l.variantId === thermometer)!;
    const result = await shopify.refundOrderLines(shop.domain, order.id, { lines: [{ lineItemId: thermoLine.id, quantity: 1 }], shipping: true });
    // One of two thermometers: (25.00 − 1.65) / 2 → 11.68 (the first unit carries the odd cent), tax 2.34 / 2 → 1.17, plus shipping 4.00.
    expect(result.amountCents).toBe(1168 + 117 + 400);
    const session = app.last('/payments/refunds');
    expect(session.body).toMatchObject({ payment_id: order.paymentSessionId, amount: '16.85', currency: 'USD' });
    const paths = app.received.map((r) => r.path).filter((p) => p === '/payments/refunds' || p === '/webhooks/shopify/refunds/create').slice(-2);
    expect(paths).toEqual(['/webhooks/shopify/refunds/create', '/payments/refunds']);
    expect(app.last('/webhooks/shopify/refunds/create').body).toMatchObject({
      id: result.refund.id,
      order_id: order.id,
      refund_line_items: [{ line_item_id: thermoLine.id, quantity: 1, subtotal: 11.68, total_tax: 1.17, line_item: { id: thermoLine.id, variant_id: thermometer } }],
      transactions: [{ kind: 'refund', status: 'pending', amount: '16.85', payment_id: order.paymentSessionId, gateway: 'Flex HSA/FSA' }],
      order_adjustments: [{ kind: 'shipping_refund', amount: '-4.00' }],
    });

    // Pending until the app resolves the refund session.
    await env.gql(shop.accessToken, `mutation($id: ID!) { refundSessionResolve(id: $id) { userErrors { code } } }`, { id: result.session.session.gid });
    const res = await env.admin(shop.accessToken, `query($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`, { id: `gid://shopify/Order/${order.id}` });
    expect(res.body.data.order).toMatchObject({
      displayFinancialStatus: 'PARTIALLY_REFUNDED',
      totalRefundedSet: { shopMoney: { amount: '16.85' } },
      refunds: [
        {
          refundLineItems: { nodes: [{ quantity: 1, lineItem: { id: `gid://shopify/LineItem/${thermoLine.id}` }, subtotalSet: { shopMoney: { amount: '11.68' } }, totalTaxSet: { shopMoney: { amount: '1.17' } } }] },
          transactions: { nodes: [{ kind: 'REFUND', status: 'SUCCESS', paymentId: order.paymentSessionId, amountSet: { shopMoney: { amount: '16.85' } } }] },
        },
      ],
    });

    // The other thermometer adds up to the line exactly; more than is left is refused.
    const second = await shopify.refundOrderLines(shop.domain, order.id, { lines: [{ lineItemId: thermoLine.id, quantity: 1 }] });
    expect(second.amountCents).toBe(1167 + 117);
    await expect(shopify.refundOrderLines(shop.domain, order.id, { lines: [{ lineItemId: thermoLine.id, quantity: 1 }] })).rejects.toThrow(/refundable/);
  });

  it('webhook after the session, and refund transactions carrying the refund session id, under the other assumptions', async () => {
    shopify.setAssumptions({ refundWebhookTiming: 'after_session', refundTransactionPaymentId: 'refund_session_id' });
    const order = await paidOrder();
    const mugLine = order.lines.find((l) => l.variantId === mug)!;
    const result = await shopify.refundOrderLines(shop.domain, order.id, { lines: [{ lineItemId: mugLine.id, quantity: 1 }] });
    const paths = app.received.map((r) => r.path).filter((p) => p === '/payments/refunds' || p === '/webhooks/shopify/refunds/create').slice(-2);
    expect(paths).toEqual(['/payments/refunds', '/webhooks/shopify/refunds/create']);
    expect(app.last('/webhooks/shopify/refunds/create').body.transactions[0].payment_id).toBe(result.session.session.id);
    // A test can also choose per refund.
    const again = await shopify.refundOrderLines(shop.domain, order.id, { lines: [], shipping: 100, webhookTiming: 'before_session' });
    expect(again.amountCents).toBe(100);
    const rejected = await env.gql(shop.accessToken, `mutation($id: ID!) { refundSessionReject(id: $id, reason: { code: PROCESSING_ERROR }) { userErrors { code } } }`, { id: again.session.session.gid });
    expect(rejected.body.data.refundSessionReject.userErrors).toEqual([]);
    expect(order.transactions.at(-1)).toMatchObject({ kind: 'refund', status: 'failure' });
  });

  it('the admin page refunds selected lines through the same path', async () => {
    const order = await paidOrder();
    const page = await (await fetch(`${shopify.url}/admin?shop=${shop.domain}`)).text();
    expect(page).toContain(`data-order="${order.id}"`);
    const mugLine = order.lines.find((l) => l.variantId === mug)!;
    const res = await fetch(`${shopify.url}/admin/orders/${order.id}/refund?shop=${shop.domain}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ [`qty_${mugLine.id}`]: '1' }).toString(),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    // Mug: 5.25 − 0.35 = 4.90, tax 0.49.
    expect(app.last('/payments/refunds').body).toMatchObject({ payment_id: order.paymentSessionId, amount: '5.39' });
  });
});

describe('the same controls over HTTP', () => {
  it('/__sandbox: products, checkouts, orders, refunds, assumptions, webhook faults', async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${shopify.url}/__sandbox${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as any };
    };
    const created = await call('POST', `/shops/${shop.domain}/products`, { title: 'Knee Brace', variants: [{ price: '30.00', sku: 'KNEE' }] });
    expect(created.status).toBe(201);
    expect(created.body.webhook).toMatchObject({ topic: 'products/create', outcome: 'delivered' });
    const variantId = created.body.product.variants[0].id;
    const run = await call('POST', '/checkouts', { shop: shop.domain, lines: [{ variantId, quantity: 1 }] });
    expect(run.body.session.body.redirect_url).toMatch(/flex\.example/);
    await env.gql(shop.accessToken, RESOLVE, { id: run.body.session.session.gid });
    const order = await shopify.waitForOrder(run.body.session.session.id);
    expect((await call('GET', `/orders/${order.id}`)).body).toMatchObject({ name: order.name, totalCents: 3000 });
    const refund = await call('POST', `/orders/${order.id}/refund`, { shop: shop.domain, lines: [{ lineItemId: order.lines[0]!.id, quantity: 1 }] });
    expect(refund.body).toMatchObject({ amountCents: 3000, session: { status: 201 } });
    expect((await call('POST', '/assumptions', { cancelUrlForm: 'legacy' })).body.cancelUrlForm).toBe('legacy');
    expect((await call('POST', '/assumptions', { cancelUrlForm: 'bogus' })).status).toBe(400);
    shopify.setAssumptions({ cancelUrlForm: 'cn_cart_token' });
    expect((await call('POST', '/faults/webhooks', { topic: 'orders/paid', action: 'drop' })).body).toEqual([{ topic: 'orders/paid', action: 'drop', times: 1 }]);
    const state = (await call('GET', '/state')).body;
    expect(state.orders.some((o: { id: number }) => o.id === order.id)).toBe(true);
    expect(state.webhookFaults).toHaveLength(1);
  });
});
