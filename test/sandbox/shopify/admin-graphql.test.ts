// The Admin GraphQL API: validation against Shopify's names, access scopes, cost and throttling,
// faults, metafields and the web pixel mutations.
import type { ShopifySimulator } from '../../../sandbox/shopify';
import { COMMERCE_SCOPES, type SimulatorEnv, useShopifySimulator } from './helpers';

const env = useShopifySimulator({ scopes: COMMERCE_SCOPES });
let shopify: ShopifySimulator;
let shop: SimulatorEnv['shop'];
const admin: SimulatorEnv['admin'] = (...args) => env.admin(...args);
let productGid: string;
let variantGid: string;

beforeAll(() => {
  ({ shopify, shop } = env);
  const { product } = shopify.createProduct(shop.domain, {
    title: 'Digital Thermometer',
    description: 'Fast & accurate.',
    variants: [{ title: 'Default Title', price: '12.50', sku: 'THERMO-1', barcode: '036000291452' }],
  });
  productGid = `gid://shopify/Product/${product.id}`;
  variantGid = `gid://shopify/ProductVariant/${product.variants[0]!.id}`;
});

beforeEach(() => {
  shopify.setAdminThrottle(shop.domain, { maximumAvailable: 1000, restoreRate: 50, currentlyAvailable: 1000 });
});

describe('requests, validation and access', () => {
  it('serves products and variants with Shopify field names; price is Money (a decimal string)', async () => {
    const res = await admin(
      shop.accessToken,
      `query($id: ID!) { product(id: $id) { id title handle description descriptionHtml status vendor productType updatedAt onlineStoreUrl
        variants(first: 5) { nodes { id title sku barcode price product { id } } } } }`,
      { id: productGid },
    );
    expect(res.status).toBe(200);
    expect(res.body.data.product).toMatchObject({
      id: productGid,
      title: 'Digital Thermometer',
      handle: 'digital-thermometer',
      description: 'Fast & accurate.',
      descriptionHtml: '<p>Fast &amp; accurate.</p>',
      status: 'ACTIVE',
      variants: { nodes: [{ id: variantGid, sku: 'THERMO-1', barcode: '036000291452', price: '12.5', product: { id: productGid } }] },
    });
    expect(res.body.extensions.cost).toMatchObject({ requestedQueryCost: expect.any(Number), actualQueryCost: expect.any(Number) });
    const variant = await admin(shop.accessToken, `{ productVariant(id: "${variantGid}") { displayName price } }`);
    expect(variant.body.data.productVariant).toEqual({ displayName: 'Digital Thermometer - Default Title', price: '12.5' });
  });

  it('refuses a document with a field Shopify does not have, without executing it', async () => {
    const res = await admin(shop.accessToken, '{ products(first: 1) { nodes { id priceV2 } } }');
    expect(res.status).toBe(200);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors[0].message).toMatch(/Cannot query field "priceV2" on type "Product"/);
    const call = shopify.adminCalls.at(-1)!;
    expect(call).toMatchObject({ name: 'products', failed: true, shop: shop.domain });
  });

  it('needs the token, a served version, and the scope of each field (ACCESS_DENIED)', async () => {
    expect((await admin(undefined, '{ shop { name } }')).status).toBe(401);
    expect((await admin(shop.accessToken, '{ shop { name } }', undefined, { version: '2023-01' })).status).toBe(404);
    const bare = shopify.createShop('bare.myshopify.com');
    const denied = await admin(bare.accessToken, '{ shop { myshopifyDomain } products(first: 1) { nodes { id } } }');
    expect(denied.body.data).toBeNull();
    expect(denied.body.errors[0]).toMatchObject({
      message: 'Access denied for products field. Required access: `read_products` access scope.',
      path: ['products'],
      extensions: { code: 'ACCESS_DENIED' },
    });
  });

  it('requires first or last, and at most 250', async () => {
    const none = await admin(shop.accessToken, '{ products { nodes { id } } }');
    expect(none.body.errors[0].message).toBe('you must provide one of first or last');
    const tooMany = await admin(shop.accessToken, '{ products(first: 251) { nodes { id } } }');
    expect(tooMany.body.errors[0].message).toMatch(/250/);
  });

  it('filters with the search syntax and pages with cursors', async () => {
    shopify.createProduct(shop.domain, { title: 'Coffee Mug', variants: [{ price: 9, sku: 'MUG-1' }] });
    shopify.createProduct(shop.domain, { title: 'Old Kit', status: 'draft', variants: [{ price: 5, sku: 'OLD-1', barcode: '012345678905' }] });
    const active = await admin(shop.accessToken, '{ products(first: 10, query: "status:active") { nodes { title } } }');
    expect(active.body.data.products.nodes.map((p: { title: string }) => p.title)).toEqual(['Digital Thermometer', 'Coffee Mug']);
    const byBarcode = await admin(shop.accessToken, '{ productVariants(first: 5, query: "barcode:012345678905") { nodes { sku } } }');
    expect(byBarcode.body.data.productVariants.nodes).toEqual([{ sku: 'OLD-1' }]);
    const page1 = await admin(shop.accessToken, '{ productVariants(first: 2) { edges { cursor node { sku } } pageInfo { hasNextPage endCursor } } }');
    expect(page1.body.data.productVariants.pageInfo.hasNextPage).toBe(true);
    const page2 = await admin(shop.accessToken, 'query($after: String) { productVariants(first: 2, after: $after) { nodes { sku } pageInfo { hasNextPage } } }', {
      after: page1.body.data.productVariants.pageInfo.endCursor,
    });
    expect(page2.body.data.productVariants).toEqual({ nodes: [{ sku: 'OLD-1' }], pageInfo: { hasNextPage: false } });
    const recent = await admin(shop.accessToken, `{ products(first: 10, query: "updated_at:>='2000-01-01T00:00:00Z'", sortKey: TITLE) { nodes { title } } }`);
    expect(recent.body.data.products.nodes.map((p: { title: string }) => p.title)).toEqual(['Coffee Mug', 'Digital Thermometer', 'Old Kit']);
  });
});

describe('cost and throttling', () => {
  it('computes requested and actual cost by Shopify’s rules and reports the bucket on every answer', async () => {
    // products: 2 + 10 × (node 1 + variants connection (2 + 5 × node 1)) = 2 + 10 × 8 = 82 requested.
    const res = await admin(shop.accessToken, '{ products(first: 10) { nodes { id variants(first: 5) { nodes { id } } } } }');
    const cost = res.body.extensions.cost;
    expect(cost.requestedQueryCost).toBe(82);
    // Actual: 3 products with one variant each: 2 + 3 × (1 + 2 + 1) = 14.
    expect(cost.actualQueryCost).toBe(14);
    expect(cost.throttleStatus).toEqual({ maximumAvailable: 1000, currentlyAvailable: 986, restoreRate: 50 });
    const mutation = await admin(shop.accessToken, `mutation { tagsAdd(id: "${productGid}", tags: ["x"]) { userErrors { message } } }`);
    expect(mutation.body.extensions.cost.requestedQueryCost).toBe(10);
  });

  it('answers THROTTLED (HTTP 200, no data) when the bucket is short, and refills over time', async () => {
    shopify.setAdminThrottle(shop.domain, { maximumAvailable: 100, restoreRate: 10, currentlyAvailable: 20 });
    const query = '{ products(first: 20) { nodes { id } } }'; // 22 points
    const throttled = await admin(shop.accessToken, query);
    expect(throttled.status).toBe(200);
    expect(throttled.body).toEqual({
      errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
      extensions: { cost: { requestedQueryCost: 22, actualQueryCost: null, throttleStatus: { maximumAvailable: 100, currentlyAvailable: 20, restoreRate: 10 } } },
    });
    shopify.advanceClock(1);
    const ok = await admin(shop.accessToken, query);
    expect(ok.body.data.products.nodes.length).toBeGreaterThan(0);
  });

  it('refuses a single query over 1000 points with MAX_COST_EXCEEDED', async () => {
    const res = await admin(shop.accessToken, '{ products(first: 250) { nodes { variants(first: 250) { nodes { id } } } } }');
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors[0].extensions).toMatchObject({ code: 'MAX_COST_EXCEEDED', cost: 2 + 250 * (1 + 2 + 250), maxCost: 1000 });
    expect(res.body.errors[0].message).toMatch(/^Query cost is 63252, which exceeds the single query max cost limit \(1000\)\./);
  });

  it('injects faults with api: "admin" without touching the Payments Apps endpoint', async () => {
    shopify.faults.failNext({ api: 'admin', mutation: 'products', status: 503 });
    expect((await env.gql(shop.accessToken, '{ publicApiVersions { handle } }')).status).toBe(200);
    const failed = await admin(shop.accessToken, '{ products(first: 1) { nodes { id } } }');
    expect(failed).toMatchObject({ status: 503, body: { errors: 'Service Unavailable' } });
    expect(shopify.adminCalls.at(-1)).toMatchObject({ fault: 503, httpStatus: 503 });
    shopify.faults.failNext({ api: 'admin', status: 'throttled' });
    expect((await admin(shop.accessToken, '{ shop { name } }')).body.errors[0].extensions.code).toBe('THROTTLED');
    expect((await admin(shop.accessToken, '{ shop { name } }')).body.data.shop.name).toBe('Demo');
  });
});

describe('metafields', () => {
  const SET = `mutation($metafields: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $metafields) {
    metafields { id namespace key type value jsonValue compareDigest } userErrors { field message code elementIndex } } }`;

  it('sets typed metafields on products and variants and reads them back', async () => {
    const res = await admin(shop.accessToken, SET, {
      metafields: [
        { ownerId: productGid, namespace: 'flex', key: 'hsa_fsa_eligible', type: 'boolean', value: 'true' },
        { ownerId: variantGid, namespace: 'flex', key: 'price', type: 'money', value: '{"amount":"12.50","currency_code":"USD"}' },
        { ownerId: productGid, namespace: 'flex', key: 'details', type: 'json', value: '{"source":"flex"}' },
      ],
    });
    expect(res.body.data.metafieldsSet.userErrors).toEqual([]);
    expect(res.body.data.metafieldsSet.metafields.map((m: { jsonValue: unknown }) => m.jsonValue)).toEqual([true, { amount: '12.50', currency_code: 'USD' }, { source: 'flex' }]);
    const read = await admin(shop.accessToken, `{ product(id: "${productGid}") { metafield(namespace: "flex", key: "hsa_fsa_eligible") { value type }
      metafields(first: 5, namespace: "flex") { nodes { key } } } }`);
    expect(read.body.data.product).toEqual({ metafield: { value: 'true', type: 'boolean' }, metafields: { nodes: [{ key: 'hsa_fsa_eligible' }, { key: 'details' }] } });
  });

  it('is all or nothing, with Shopify’s user error codes', async () => {
    const res = await admin(shop.accessToken, SET, {
      metafields: [
        { ownerId: productGid, namespace: 'flex', key: 'count', type: 'number_integer', value: 'many' },
        { ownerId: productGid, namespace: 'flex', key: 'untyped', value: 'x' },
        { ownerId: productGid, namespace: 'flex', key: 'fine', type: 'single_line_text_field', value: 'ok' },
      ],
    });
    expect(res.body.data.metafieldsSet.userErrors).toEqual([
      { field: ['metafields', '0', 'value'], message: 'Value must be an integer.', code: 'INVALID_VALUE', elementIndex: 0 },
      { field: ['metafields', '1', 'type'], message: "Type can't be blank.", code: 'BLANK', elementIndex: 1 },
    ]);
    const fine = await admin(shop.accessToken, `{ product(id: "${productGid}") { metafield(namespace: "flex", key: "fine") { value } } }`);
    expect(fine.body.data.product.metafield).toBeNull();
    const tooMany = Array.from({ length: 26 }, (_, i) => ({ ownerId: productGid, namespace: 'flex', key: `k${i}`, type: 'boolean', value: 'true' }));
    expect((await admin(shop.accessToken, SET, { metafields: tooMany })).body.data.metafieldsSet.userErrors[0].code).toBe('LESS_THAN_OR_EQUAL_TO');
  });

  it('metafieldDefinitionCreate: created once, then TAKEN; the definition types later values', async () => {
    const CREATE = `mutation($d: MetafieldDefinitionInput!) { metafieldDefinitionCreate(definition: $d) {
      createdDefinition { id namespace key ownerType type { name category } } userErrors { field message code } } }`;
    const d = { name: 'HSA/FSA eligible', namespace: 'flex', key: 'eligible', ownerType: 'PRODUCT', type: 'boolean' };
    const first = await admin(shop.accessToken, CREATE, { d });
    expect(first.body.data.metafieldDefinitionCreate.createdDefinition).toMatchObject({ key: 'eligible', ownerType: 'PRODUCT', type: { name: 'boolean', category: 'TRUE_FALSE' } });
    expect((await admin(shop.accessToken, CREATE, { d })).body.data.metafieldDefinitionCreate.userErrors[0].code).toBe('TAKEN');
    const set = await admin(shop.accessToken, SET, { metafields: [{ ownerId: productGid, namespace: 'flex', key: 'eligible', value: 'false' }] });
    expect(set.body.data.metafieldsSet.metafields[0]).toMatchObject({ type: 'boolean', jsonValue: false });
  });
});

describe('web pixel', () => {
  const CREATE = `mutation($settings: JSON!) { webPixelCreate(webPixel: { settings: $settings }) { webPixel { id settings } userErrors { field message code } } }`;

  it('checks settings against the extension’s settings definition, one pixel per shop', async () => {
    const other = shopify.createShop('pixel.myshopify.com', { scopes: 'write_pixels,read_customer_events' });
    const missing = await admin(other.accessToken, CREATE, { settings: JSON.stringify({ shopKey: 'k1' }) });
    expect(missing.body.data.webPixelCreate.userErrors).toEqual([{ field: ['webPixel', 'settings'], message: 'Settings field endpoint is required', code: 'INVALID_SETTINGS' }]);
    const unknown = await admin(other.accessToken, CREATE, { settings: { shopKey: 'k1', endpoint: 'https://app.example/pixel', accountID: '1' } });
    expect(unknown.body.data.webPixelCreate.userErrors[0].code).toBe('INVALID_SETTINGS');
    const notJson = await admin(other.accessToken, CREATE, { settings: '{shopKey:' });
    expect(notJson.body.data.webPixelCreate.userErrors[0].code).toBe('INVALID_CONFIGURATION_JSON');

    const settings = JSON.stringify({ shopKey: 'k1', endpoint: 'https://app.example/pixel' });
    const created = await admin(other.accessToken, CREATE, { settings });
    expect(created.body.data.webPixelCreate).toEqual({ webPixel: { id: expect.stringMatching(/^gid:\/\/shopify\/WebPixel\/\d+$/), settings }, userErrors: [] });
    expect(shopify.webPixel('pixel.myshopify.com')).toMatchObject({ settings });
    expect((await admin(other.accessToken, CREATE, { settings })).body.data.webPixelCreate.userErrors[0].code).toBe('TAKEN');

    const id = created.body.data.webPixelCreate.webPixel.id;
    const updated = await admin(other.accessToken, `mutation($id: ID!, $s: JSON!) { webPixelUpdate(id: $id, webPixel: { settings: $s }) { webPixel { settings } userErrors { code } } }`, {
      id,
      s: JSON.stringify({ shopKey: 'k2', endpoint: 'https://app.example/pixel' }),
    });
    expect(updated.body.data.webPixelUpdate.userErrors).toEqual([]);
    const read = await admin(other.accessToken, '{ webPixel { id settings } }');
    expect(JSON.parse(read.body.data.webPixel.settings)).toEqual({ shopKey: 'k2', endpoint: 'https://app.example/pixel' });
  });

  it('needs write_pixels', async () => {
    const bare = shopify.createShop('nopixel.myshopify.com');
    const res = await admin(bare.accessToken, CREATE, { settings: '{}' });
    expect(res.body.errors[0].extensions.code).toBe('ACCESS_DENIED');
  });
});
