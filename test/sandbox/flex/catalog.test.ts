// Products and prices: the catalog, and HSA/FSA eligibility as the sandbox judges it.
import { FlexTestBed, type Json } from './helpers';

const t = new FlexTestBed();
const { call } = t;

describe('products and prices', () => {
  it('creates, reads, updates and lists them', async () => {
    const { testKey: key } = t.flex.createAccount();
    const created = await call(key, 'POST', '/v1/products', {
      product: { name: 'Blood pressure monitor', gtin: '00012345678905', hsa_fsa_eligibility: 'letter_of_medical_necessity', metadata: { sku: 'BPM-1' } },
    });
    expect(created.body.product).toMatchObject({ name: 'Blood pressure monitor', active: true, hsa_fsa_eligibility: 'letter_of_medical_necessity', test_mode: true });
    const productId = created.body.product.product_id;
    expect(productId).toMatch(/^fprod_/);
    const patched = await call(key, 'PATCH', `/v1/products/${productId}`, { product: { description: 'Upper arm', active: false } });
    expect(patched.body.product).toMatchObject({ description: 'Upper arm', active: false, gtin: '00012345678905' });

    const price = await call(key, 'POST', '/v1/prices', { price: { product: productId, unit_amount: 4999 } });
    expect(price.body.price).toMatchObject({ unit_amount: 4999, type: 'one_time', product: productId, active: true });
    const priceId = price.body.price.price_id;
    expect(priceId).toMatch(/^fprice_/);
    const expanded = await call(key, 'GET', `/v1/prices/${priceId}?expand_product=true`);
    expect(expanded.body.price.product.product_id).toBe(productId);
    const list = await call(key, 'GET', '/v1/products');
    expect(list.body.products.map((p: Json) => p.product_id)).toEqual([productId]);

    // A deactivated price can no longer be sold (the plugin replaces prices this way).
    const off = await call(key, 'POST', `/v1/prices/${priceId}`, { price: { active: false } });
    expect(off.body.price.active).toBe(false);
    const session = await call(key, 'POST', '/v1/checkout/sessions', {
      checkout_session: { line_items: [{ price: priceId, quantity: 1 }], success_url: 'https://shop.example/ok' },
    });
    expect(session.status).toBe(422);
    expect(session.body.detail[0].type).toBe('price_not_found');
  });
});

describe('eligibility judged by the sandbox', () => {
  const create = async (key: string, product: Json) => {
    const res = await call(key, 'POST', '/v1/products', { product });
    expect(res.status).toBe(200);
    return res.body.product as Json;
  };

  it('classifies from name, description, categories and URL, and says why', async () => {
    const { testKey: key } = t.flex.createAccount();
    const cases: Array<[Json, string, string]> = [
      [{ name: 'Digital Thermometer' }, 'auto_substantiation', '"thermometer"'],
      [{ name: 'Kit', url: 'https://shop.example/products/first-aid-kit' }, 'auto_substantiation', 'URL mentions "first aid"'],
      [{ name: 'Deep tissue massage gun' }, 'letter_of_medical_necessity', '"massage"'],
      [{ name: 'Daily D3', description: 'Vitamins for bone health' }, 'letter_of_medical_necessity', 'description mentions "vitamins"'],
      [{ name: 'Frames', categories: ['Prescription glasses'] }, 'vision', 'categories mention "prescription glasses"'],
      [{ name: 'Contact lens solution' }, 'auto_substantiation', '"contact lens solution"'],
      [{ name: 'Sunglasses' }, 'not_eligible', 'nothing in the name'],
      // The app's catch-all product must stay ineligible.
      [{ name: 'Order at demo.myshopify.com', description: 'Shopify order paid with Flex at demo.myshopify.com' }, 'not_eligible', 'No GTIN/UPC'],
      [{ name: 'Sleepwear set' }, 'not_eligible', 'No GTIN/UPC'],
    ];
    for (const [input, eligibility, why] of cases) {
      const product = await create(key, input);
      expect([input.name, product.hsa_fsa_eligibility]).toEqual([input.name, eligibility]);
      expect(product.eligibility_rationale).toContain(why);
    }
  });

  it('takes an eligibility the client sends over its own judgement', async () => {
    const { testKey: key } = t.flex.createAccount();
    const product = await create(key, { name: 'Digital thermometer', hsa_fsa_eligibility: 'not_eligible' });
    expect(product).toMatchObject({ hsa_fsa_eligibility: 'not_eligible', eligibility_rationale: expect.stringContaining('Set by the client') });
  });

  it('matches the registry on GTIN or UPC first (UPC-A, EAN-13 and GTIN-14 are one code), then on name', async () => {
    const { testKey: key } = t.flex.createAccount();
    t.flex.setProductEligibility({ gtin: '00012345678905' }, 'letter_of_medical_necessity', 'Reviewed: dual use');
    t.flex.setProductEligibility({ name: 'Mystery Box' }, 'auto_substantiation');
    t.flex.setProductEligibility({ upc: '036000291452' }, 'not_eligible');
    const byUpc = await create(key, { name: 'Widget', upc_code: '012345678905' });
    expect(byUpc).toMatchObject({ hsa_fsa_eligibility: 'letter_of_medical_necessity', eligibility_rationale: 'Reviewed: dual use' });
    const byEan = await create(key, { name: 'Widget', gtin: '0012345678905' });
    expect(byEan.hsa_fsa_eligibility).toBe('letter_of_medical_necessity');
    const byReference = await create(key, { name: 'Widget', reference_gtin: '12345678905'.padStart(14, '0') });
    expect(byReference.hsa_fsa_eligibility).toBe('letter_of_medical_necessity');
    const byName = await create(key, { name: '  mystery   BOX ' });
    expect(byName).toMatchObject({ hsa_fsa_eligibility: 'auto_substantiation', eligibility_rationale: expect.stringContaining('on the eligibility list') });
    // The code wins over the name and over the keyword rules.
    const both = await create(key, { name: 'Mystery Box thermometer', gtin: '0036000291452' });
    expect(both).toMatchObject({ hsa_fsa_eligibility: 'not_eligible', eligibility_rationale: expect.stringContaining('GTIN 00036000291452') });
    expect(() => t.flex.setProductEligibility({ gtin: '12345' }, 'vision')).toThrow(/GTIN/);
    expect(() => t.flex.setProductEligibility({}, 'vision')).toThrow(/gtin, upc or name/);
  });

  it('judges existing products again when the registry changes, and prices follow', async () => {
    const { testKey: key } = t.flex.createAccount();
    const { productId, priceId } = await t.product(key, { name: 'Gadget', gtin: '00614141999996' }, 1200);
    expect((await call(key, 'GET', `/v1/prices/${priceId}`)).body.price.hsa_fsa_eligibility).toBe('not_eligible');
    const changed = t.flex.setProductEligibility({ upc: '614141999996' }, 'auto_substantiation');
    expect(changed.map((p) => p.product_id)).toEqual([productId]);
    expect((await call(key, 'GET', `/v1/products/${productId}`)).body.product.hsa_fsa_eligibility).toBe('auto_substantiation');
    expect((await call(key, 'GET', `/v1/prices/${priceId}`)).body.price.hsa_fsa_eligibility).toBe('auto_substantiation');
    t.flex.clearProductEligibility();
    expect((await call(key, 'GET', `/v1/products/${productId}`)).body.product.hsa_fsa_eligibility).toBe('not_eligible');
  });

  it('can be set over HTTP, with 400 for bad input', async () => {
    const { testKey: key } = t.flex.createAccount();
    const set = await t.control('POST', '/eligibility', { upc: '0-12000-00130-8', eligibility: 'vision', rationale: 'Rx eyewear' });
    expect(set.status).toBe(200);
    expect((await create(key, { name: 'Lenses', upc_code: '012000001308' })).hsa_fsa_eligibility).toBe('vision');
    expect((await t.control('GET', '/eligibility')).body.eligibility).toEqual([
      { key: '00012000001308', by: 'gtin', eligibility: 'vision', rationale: 'Rx eyewear' },
    ]);
    expect((await t.control('POST', '/eligibility', { upc: '012000001308', eligibility: 'maybe' })).status).toBe(400);
    expect((await t.control('POST', '/eligibility', { gtin: 'abc', eligibility: 'vision' })).status).toBe(400);
    expect((await t.control('POST', '/eligibility/clear')).status).toBe(200);
    expect((await t.control('GET', '/eligibility')).body.eligibility).toEqual([]);
  });

  it('judges a product again when PATCH changes what it is', async () => {
    const { testKey: key } = t.flex.createAccount();
    const product = await create(key, { name: 'Gift card', client_reference_id: 'variant-1' });
    expect(product.hsa_fsa_eligibility).toBe('not_eligible');
    const path = `/v1/products/${product.product_id}`;
    const renamed = await call(key, 'PATCH', path, { product: { name: 'Ear thermometer', image_urls: ['https://shop.example/t.png'] } });
    expect(renamed.body.product).toMatchObject({ name: 'Ear thermometer', hsa_fsa_eligibility: 'auto_substantiation', client_reference_id: 'variant-1' });
    t.flex.setProductEligibility({ gtin: '00725272730706' }, 'private_label');
    const coded = await call(key, 'PATCH', path, { product: { gtin: '00725272730706', categories: ['Health'] } });
    expect(coded.body.product).toMatchObject({ hsa_fsa_eligibility: 'private_label', gtin: '00725272730706', categories: ['Health'] });
    const uncoded = await call(key, 'PATCH', path, { product: { gtin: null, description: 'Yoga mat' } });
    expect(uncoded.body.product).toMatchObject({ gtin: null, hsa_fsa_eligibility: 'auto_substantiation' });
    const pinned = await call(key, 'PATCH', path, { product: { hsa_fsa_eligibility: 'not_eligible' } });
    expect(pinned.body.product.hsa_fsa_eligibility).toBe('not_eligible');
  });
});

describe('catalog lookups', () => {
  it('finds a product by client_reference_id after its create answer was lost', async () => {
    const account = t.flex.createAccount();
    const other = t.flex.createAccount();
    const body = { product: { name: 'Bandages', client_reference_id: 'gid://shopify/ProductVariant/7' } };
    t.flex.faults.failNext({ path: 'POST /v1/products', when: 'after', status: 502 });
    expect((await call(account.testKey, 'POST', '/v1/products', body, { 'idempotency-key': 'variant-7' })).status).toBe(502);
    await call(account.testKey, 'POST', '/v1/products', { product: { name: 'Other', client_reference_id: 'gid://shopify/ProductVariant/8' } });
    await call(other.testKey, 'POST', '/v1/products', body);
    await call(account.liveKey, 'POST', '/v1/products', body);
    const ref = encodeURIComponent('gid://shopify/ProductVariant/7');
    const found = await call(account.testKey, 'GET', `/v1/products?client_reference_id=${ref}`);
    expect(found.body.products).toHaveLength(1);
    expect(found.body.products[0]).toMatchObject({ name: 'Bandages', test_mode: true, hsa_fsa_eligibility: 'auto_substantiation' });
    expect((await call(account.testKey, 'GET', '/v1/products?client_reference_id=nope')).body.products).toEqual([]);
  });

  it('pages products and prices newest first, with filters', async () => {
    const { testKey: key } = t.flex.createAccount();
    const made: Array<{ productId: string; priceId: string }> = [];
    for (let i = 0; i < 5; i++) made.push(await t.product(key, { name: `Item ${i}` }, 100 + i));
    const ids = made.map((m) => m.productId).reverse();
    const first = await call(key, 'GET', '/v1/products?limit=2');
    expect(first.body.products.map((p: Json) => p.product_id)).toEqual(ids.slice(0, 2));
    const next = await call(key, 'GET', `/v1/products?limit=2&starting_after=${ids[1]}`);
    expect(next.body.products.map((p: Json) => p.product_id)).toEqual(ids.slice(2, 4));
    const back = await call(key, 'GET', `/v1/products?limit=2&ending_before=${ids[4]}`);
    expect(back.body.products.map((p: Json) => p.product_id)).toEqual(ids.slice(2, 4));
    expect((await call(key, 'GET', '/v1/products?offset=4')).body.products.map((p: Json) => p.product_id)).toEqual([ids[4]]);
    await call(key, 'PATCH', `/v1/products/${ids[0]}`, { product: { active: false } });
    expect((await call(key, 'GET', '/v1/products?active=false')).body.products.map((p: Json) => p.product_id)).toEqual([ids[0]]);
    expect((await call(key, 'GET', '/v1/products?active=true&limit=100')).body.products).toHaveLength(4);
    expect((await call(key, 'GET', '/v1/products?active=maybe')).status).toBe(422);

    const second = await call(key, 'POST', '/v1/prices', { price: { product: made[0].productId, unit_amount: 999 } });
    await call(key, 'POST', `/v1/prices/${made[0].priceId}`, { price: { active: false } });
    const ofProduct = await call(key, 'GET', `/v1/prices?product=${made[0].productId}`);
    expect(ofProduct.body.prices.map((p: Json) => p.price_id)).toEqual([second.body.price.price_id, made[0].priceId]);
    expect((await call(key, 'GET', `/v1/prices?product=${made[0].productId}&active=true`)).body.prices).toHaveLength(1);
    // Another account sees none of them.
    expect((await call(t.flex.createAccount().testKey, 'GET', `/v1/prices?product=${made[0].productId}`)).body.prices).toEqual([]);
  });

  it('refuses a deactivated product in a new checkout, like an unknown price', async () => {
    const { testKey: key } = t.flex.createAccount();
    const { productId, priceId } = await t.product(key, { name: 'Heating pad' }, 3000);
    const checkout = (line: Json) =>
      call(key, 'POST', '/v1/checkout/sessions', { checkout_session: { line_items: [line], success_url: 'https://shop.example/ok' } });
    expect((await checkout({ price: priceId })).status).toBe(200);
    await call(key, 'PATCH', `/v1/products/${productId}`, { product: { active: false } });
    const refused = await checkout({ price: priceId });
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toEqual([{ loc: ['price'], msg: 'price_not_found: One or more prices are not valid', type: 'price_not_found' }]);
    expect((await checkout({ price_data: { product: productId, unit_amount: 3000 } })).body.detail[0].type).toBe('product_not_found');
    await call(key, 'PATCH', `/v1/products/${productId}`, { product: { active: true } });
    expect((await checkout({ price: priceId })).status).toBe(200);
  });

  it('takes the documented product fields on create', async () => {
    const { testKey: key } = t.flex.createAccount();
    const product = await call(key, 'POST', '/v1/products', {
      product: {
        name: 'Compression knee brace',
        description: 'Adjustable',
        url: 'https://shop.example/products/knee-brace',
        upc_code: '012345678912',
        gtin: '00012345678912',
        reference_gtin: '00012345678929',
        client_reference_id: 'gid://shopify/ProductVariant/99',
        metadata: { shopify_product_id: '42' },
        image_urls: ['https://shop.example/brace.png'],
        categories: ['Braces'],
        visit_type: 'gym',
        active: false,
      },
    });
    expect(product.body.product).toMatchObject({
      name: 'Compression knee brace',
      upc_code: '012345678912',
      gtin: '00012345678912',
      reference_gtin: '00012345678929',
      client_reference_id: 'gid://shopify/ProductVariant/99',
      metadata: { shopify_product_id: '42' },
      image_urls: ['https://shop.example/brace.png'],
      categories: ['Braces'],
      visit_type: 'gym',
      active: false,
      hsa_fsa_eligibility: 'auto_substantiation',
      test_mode: true,
    });
    expect(product.body.product.eligibility_rationale).toContain('knee brace');
  });
});
