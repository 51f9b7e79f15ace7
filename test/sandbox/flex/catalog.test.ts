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
