// What an app writes on an order after payment, as the Admin API takes it: metafields in the app's
// reserved namespace (`$app:…`) with definitions that decide whether the merchant sees them, tags
// merged with the merchant's own, a note that `orderUpdate` replaces whole; each mutation paid for
// from the shop's cost bucket and refused with THROTTLED when it runs dry. Also the order webhooks
// an app must not count on (dropped, delayed), and an order edited right after payment.
import type { OrderRecord, ShopifySimulator } from '../../../sandbox/shopify';
import { COMMERCE_SCOPES, RESOLVE, type SimulatorEnv, useShopifySimulator } from './helpers';

const env = useShopifySimulator({ scopes: COMMERCE_SCOPES, webhookTopics: ['orders/create', 'orders/paid'] });
let shopify: ShopifySimulator;
let shop: SimulatorEnv['shop'];

beforeAll(() => {
  ({ shopify, shop } = env);
});

afterEach(() => shopify.setAdminThrottle(shop.domain, { maximumAvailable: 1000, restoreRate: 50, currentlyAvailable: 1000 }));

async function paidOrder(input: Partial<Parameters<ShopifySimulator['sendPaymentSession']>[1]> = {}): Promise<OrderRecord> {
  const sent = await shopify.sendPaymentSession(shop.domain, { amount: '40.00', ...input });
  const res = await env.gql(shop.accessToken, RESOLVE, { id: sent.session.gid });
  expect(res.body.data.paymentSessionResolve.userErrors).toEqual([]);
  return shopify.waitForOrder(sent.session.id);
}

const gid = (order: OrderRecord) => `gid://shopify/Order/${order.id}`;

const DEFINE = `mutation($d: MetafieldDefinitionInput!) { metafieldDefinitionCreate(definition: $d) {
  createdDefinition { namespace key name pinnedPosition access { admin storefront } } userErrors { field message code } } }`;
const SET = `mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { metafields { namespace key value } userErrors { field message code } } }`;

describe('metafields in the app’s reserved namespace', () => {
  it('$app:name becomes app--{id}--name, in definitions, writes and reads', async () => {
    const order = await paidOrder();
    const defined = await env.admin(shop.accessToken, DEFINE, {
      d: { namespace: '$app:flex', key: 'checkout_session_id', name: 'Flex checkout session', ownerType: 'ORDER', type: 'single_line_text_field', pin: true, access: { admin: 'MERCHANT_READ' } },
    });
    expect(defined.body.data.metafieldDefinitionCreate).toEqual({
      createdDefinition: { namespace: 'app--580111--flex', key: 'checkout_session_id', name: 'Flex checkout session', pinnedPosition: 1, access: { admin: 'MERCHANT_READ', storefront: 'NONE' } },
      userErrors: [],
    });
    const set = await env.admin(shop.accessToken, SET, { m: [{ ownerId: gid(order), namespace: '$app:flex', key: 'checkout_session_id', value: 'fcs_1' }] });
    expect(set.body.data.metafieldsSet).toEqual({ metafields: [{ namespace: 'app--580111--flex', key: 'checkout_session_id', value: 'fcs_1' }], userErrors: [] });
    const read = await env.admin(shop.accessToken, `query($id: ID!) { order(id: $id) { metafield(namespace: "$app:flex", key: "checkout_session_id") { value type } } }`, { id: gid(order) });
    expect(read.body.data.order.metafield).toEqual({ value: 'fcs_1', type: 'single_line_text_field' });
    const listed = await env.admin(shop.accessToken, `{ metafieldDefinitions(first: 5, ownerType: ORDER, namespace: "$app:flex") { nodes { key } } }`);
    expect(listed.body.data.metafieldDefinitions.nodes).toEqual([{ key: 'checkout_session_id' }]);
  });

  it('a second definition of the same key is TAKEN; admin access outside an app namespace is refused', async () => {
    const again = await env.admin(shop.accessToken, DEFINE, { d: { namespace: '$app:flex', key: 'checkout_session_id', name: 'Again', ownerType: 'ORDER', type: 'single_line_text_field' } });
    expect(again.body.data.metafieldDefinitionCreate.userErrors).toEqual([expect.objectContaining({ code: 'TAKEN' })]);
    const custom = await env.admin(shop.accessToken, DEFINE, { d: { namespace: 'custom', key: 'flex_note', name: 'Note', ownerType: 'ORDER', type: 'single_line_text_field', access: { admin: 'MERCHANT_READ' } } });
    expect(custom.body.data.metafieldDefinitionCreate.userErrors).toEqual([expect.objectContaining({ field: ['definition', 'access'], code: 'INVALID' })]);
  });

  it('the admin shows a metafield only when a definition lets the merchant read it', async () => {
    const order = await paidOrder();
    await env.admin(shop.accessToken, DEFINE, { d: { namespace: '$app:flex', key: 'hidden_flag', name: 'Hidden flag', ownerType: 'ORDER', type: 'boolean' } });
    await env.admin(shop.accessToken, SET, {
      m: [
        { ownerId: gid(order), namespace: '$app:flex', key: 'checkout_session_id', value: 'fcs_shown' },
        { ownerId: gid(order), namespace: '$app:flex', key: 'hidden_flag', value: 'true' },
        { ownerId: gid(order), namespace: '$app:flex', key: 'no_definition', value: 'x', type: 'single_line_text_field' },
      ],
    });
    const page = await (await fetch(`${shopify.url}/admin?shop=${shop.domain}`)).text();
    const block = page.slice(page.indexOf(`data-order="${order.id}"`));
    expect(block).toContain('data-metafield="Flex checkout session"');
    expect(block).toContain('fcs_shown');
    expect(block.slice(0, block.indexOf('</article>'))).not.toContain('Hidden flag');
  });
});

describe('tags and the note', () => {
  it('tagsAdd merges with the merchant’s tags; orderUpdate replaces the note whole', async () => {
    const order = await paidOrder();
    shopify.setOrderTags(shop.domain, order.id, ['VIP']);
    shopify.setOrderNote(shop.domain, order.id, 'Gift wrap please');
    const tags = await env.admin(shop.accessToken, `mutation($id: ID!, $t: [String!]!) { tagsAdd(id: $id, tags: $t) { node { ... on Order { tags } } userErrors { field message } } }`, {
      id: gid(order),
      t: ['Flex HSA/FSA', 'vip'],
    });
    expect(tags.body.data.tagsAdd).toEqual({ node: { tags: ['VIP', 'Flex HSA/FSA'] }, userErrors: [] });
    const note = await env.admin(shop.accessToken, `mutation($i: OrderInput!) { orderUpdate(input: $i) { order { note } userErrors { field message } } }`, {
      i: { id: gid(order), note: 'Paid with Flex' },
    });
    expect(note.body.data.orderUpdate).toEqual({ order: { note: 'Paid with Flex' }, userErrors: [] });
  });
});

describe('throttling on the mutations an app writes with', () => {
  it.each([
    ['metafieldsSet', `mutation($id: ID!) { metafieldsSet(metafields: [{ ownerId: $id, namespace: "$app:flex", key: "lmn_required", type: "boolean", value: "false" }]) { userErrors { message } } }`],
    ['tagsAdd', `mutation($id: ID!) { tagsAdd(id: $id, tags: ["Flex split"]) { userErrors { message } } }`],
    ['orderUpdate', `mutation($id: ID!) { orderUpdate(input: { id: $id, note: "x" }) { userErrors { message } } }`],
  ])('%s costs 10 points and is THROTTLED, doing nothing, when the bucket holds less', async (name, document) => {
    const order = await paidOrder();
    shopify.setAdminThrottle(shop.domain, { maximumAvailable: 1000, restoreRate: 50, currentlyAvailable: 5 });
    const before = structuredClone({ note: order.note, tags: order.tags });
    const throttled = await env.admin(shop.accessToken, document, { id: gid(order) });
    expect(throttled.body.errors[0].extensions.code).toBe('THROTTLED');
    expect(throttled.body.extensions.cost).toMatchObject({ requestedQueryCost: 10, actualQueryCost: null });
    expect(throttled.body.data).toBeUndefined();
    expect({ note: order.note, tags: order.tags }).toEqual(before);
    shopify.advanceClock(1);
    const done = await env.admin(shop.accessToken, document, { id: gid(order) });
    expect(done.body.data[name].userErrors).toEqual([]);
    expect(done.body.extensions.cost.requestedQueryCost).toBe(10);
  });
});

describe('order webhooks an app cannot count on', () => {
  it('a dropped orders/create still leaves the order findable by created_at, its transaction naming the payment', async () => {
    shopify.faults.dropWebhooks({ topic: 'orders/create' });
    shopify.faults.dropWebhooks({ topic: 'orders/paid' });
    const since = shopify.now().toISOString();
    const order = await paidOrder();
    await shopify.idle();
    const events = shopify.webhookEvents.filter((e) => e.payload && (e.payload as { id?: number }).id === order.id);
    expect(events.map((e) => [e.topic, e.outcome])).toEqual([
      ['orders/create', 'dropped'],
      ['orders/paid', 'dropped'],
    ]);
    const found = await env.admin(shop.accessToken, `query($q: String) { orders(first: 10, sortKey: CREATED_AT, query: $q) { nodes { id transactions { kind paymentId } } } }`, { q: `created_at:>='${since}'` });
    expect(found.body.data.orders.nodes).toContainEqual({ id: gid(order), transactions: [{ kind: 'SALE', paymentId: order.paymentSessionId }] });
  });

  it('a delayed orders/paid arrives after orders/create', async () => {
    shopify.faults.delayWebhooks({ topic: 'orders/create', delayMs: 150 });
    const order = await paidOrder();
    await shopify.idle();
    const events = shopify.webhookEvents.filter((e) => (e.payload as { id?: number }).id === order.id);
    expect(events.map((e) => e.topic)).toEqual(['orders/paid', 'orders/create']);
    expect(events[1]!.delayedMs).toBe(150);
  });
});

describe('an order edited right after payment', () => {
  it('asks for more than the payment brought in: an added line, a higher total, partially paid', async () => {
    const order = await paidOrder({ amount: '40.00', orderEdit: { title: 'Gift wrap', amount: '5.00' } });
    expect(order.lines.map((l) => [l.title, l.unitPriceCents])).toEqual([
      ['Custom sale', 4000],
      ['Gift wrap', 500],
    ]);
    const res = await env.admin(shop.accessToken, `query($id: ID!) { order(id: $id) { totalPriceSet { shopMoney { amount } } displayFinancialStatus transactions { amountSet { shopMoney { amount } } } } }`, { id: gid(order) });
    expect(res.body.data.order).toEqual({
      totalPriceSet: { shopMoney: { amount: '45.0' } },
      displayFinancialStatus: 'PARTIALLY_PAID',
      transactions: [{ amountSet: { shopMoney: { amount: '40.0' } } }],
    });
  });
});
