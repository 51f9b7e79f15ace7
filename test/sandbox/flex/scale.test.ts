// Scale: the app's benchmark syncs 20,000 variants into one account. Creates and filtered lists
// must not scan all objects (no O(n²) sync); pages come from per-scope and per-filter indexes.
import { FlexState } from '../../../sandbox/flex/state';
import { pageNewestFirst, Table } from '../../../sandbox/flex/table';
import type { Owned } from '../../../sandbox/flex/types';
import { FlexTestBed, type Json } from './helpers';

const t = new FlexTestBed({ recordLimit: 500 });
const { call } = t;

describe('paging without scans', () => {
  const item = (seq: number, accountId = 'a'): Owned => ({ id: `o${seq}`, accountId, testMode: true, seq, createdAtMs: seq });

  it('keeps each scope in creation order and pages newest first like the old full-list paging', () => {
    const table = new Table<Owned>();
    for (let seq = 1; seq <= 10; seq++) table.set(`o${seq}`, item(seq, seq % 2 ? 'a' : 'b'));
    const a = table.inScope({ accountId: 'a', testMode: true });
    expect(a.map((o) => o.seq)).toEqual([1, 3, 5, 7, 9]);
    expect(table.inScope({ accountId: 'a', testMode: false })).toEqual([]);
    const find = (id: string) => table.get(id);
    const ids = (page: Owned[]) => page.map((o) => o.seq);
    expect(ids(pageNewestFirst(a, { limit: 2 }, find))).toEqual([9, 7]);
    expect(ids(pageNewestFirst(a, { limit: 2, startingAfter: 'o7' }, find))).toEqual([5, 3]);
    expect(ids(pageNewestFirst(a, { limit: 2, endingBefore: 'o3' }, find))).toEqual([7, 5]);
    expect(ids(pageNewestFirst(a, { limit: 10, offset: 3 }, find))).toEqual([3, 1]);
    // A cursor of another scope, or one the filter leaves out, gives an empty page.
    expect(pageNewestFirst(a, { limit: 2, startingAfter: 'o4' }, find)).toEqual([]);
    expect(pageNewestFirst(a, { limit: 2, startingAfter: 'o5' }, find, (o) => o.seq !== 5)).toEqual([]);
    table.delete('o5');
    expect(ids([...table.inScope({ accountId: 'a', testMode: true })])).toEqual([1, 3, 7, 9]);
  });

  it('looks at no more items than the page needs', () => {
    const table = new Table<Owned>();
    for (let seq = 1; seq <= 50_000; seq++) table.set(`o${seq}`, item(seq));
    const all = table.inScope({ accountId: 'a', testMode: true });
    let looked = 0;
    const matches = () => (looked++, true);
    expect(pageNewestFirst(all, { limit: 100, startingAfter: 'o25000' }, (id) => table.get(id), matches)).toHaveLength(100);
    expect(looked).toBeLessThanOrEqual(101);
  });
});

describe('a catalog sync of thousands of variants', () => {
  it('creates products and prices without scanning, and finds each by its filters', async () => {
    const { testKey: key } = t.flex.createAccount({ name: 'Big Store' });
    const scans = jest.spyOn(Table.prototype, 'values');
    const lists = jest.spyOn(FlexState.prototype, 'list');
    try {
      const variants = 2_000;
      const products: string[] = [];
      const prices: string[] = [];
      let next = 0;
      const post = async (path: string, body: Json, idempotencyKey: string) => {
        const res = await call(key, 'POST', path, body, { 'idempotency-key': idempotencyKey });
        expect(res.status).toBe(200);
        return res.body;
      };
      const worker = async () => {
        while (next < variants) {
          const i = next++;
          const product = await post(
            '/v1/products',
            { product: { name: `Variant ${i}`, gtin: String(40_000_000_000_000 + i), client_reference_id: `gid://shopify/ProductVariant/${i}` } },
            `product-${i}`,
          );
          products[i] = product.product.product_id;
          prices[i] = (await post('/v1/prices', { price: { product: products[i], unit_amount: 500 + i } }, `price-${i}`)).price.price_id;
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: 8 }, worker));
      const elapsed = performance.now() - started;

      const byReference = await call(key, 'GET', `/v1/products?client_reference_id=${encodeURIComponent('gid://shopify/ProductVariant/1234')}`);
      expect(byReference.body.products.map((p: Json) => p.product_id)).toEqual([products[1234]]);
      const ofProduct = await call(key, 'GET', `/v1/prices?product=${products[77]}`);
      expect(ofProduct.body.prices.map((p: Json) => [p.price_id, p.unit_amount])).toEqual([[prices[77], 577]]);
      const session = await call(key, 'POST', '/v1/checkout/sessions', {
        checkout_session: { line_items: [{ price: prices[1999] }], success_url: 'https://shop.example/ok', client_reference_id: 'order-1' },
      });
      expect(session.status).toBe(200);
      expect((await call(key, 'GET', '/v1/checkout/sessions?client_reference_id=order-1')).body.checkout_sessions).toHaveLength(1);
      expect((await call(key, 'GET', `/v1/refunds?checkout_session=${session.body.checkout_session.checkout_session_id}`)).body.refunds).toEqual([]);

      // Paging through everything, 100 at a time, meets each product once, newest first.
      const seen: string[] = [];
      for (let cursor: string | undefined; ; ) {
        const page = (await call(key, 'GET', `/v1/products?limit=100${cursor ? `&starting_after=${cursor}` : ''}`)).body.products as Json[];
        if (page.length === 0) break;
        seen.push(...page.map((p) => p.product_id as string));
        cursor = seen.at(-1);
      }
      expect(new Set(seen).size).toBe(variants);
      expect(seen[0]).toBe(t.flex.product(seen[0]).product_id);
      expect(scans).not.toHaveBeenCalled();
      expect(lists).not.toHaveBeenCalled();
      // Not a timing test (the machine is shared); a sign of trouble if it ever grows near the limit.
      expect(elapsed).toBeLessThan(60_000);
    } finally {
      scans.mockRestore();
      lists.mockRestore();
    }
  });
});
