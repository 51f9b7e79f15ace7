import type { FlexCore } from './core';
import { priceWire, productWire } from './serialize';
import { type Page, paginate } from './state';
import { ELIGIBILITIES, type PriceRec, type ProductRec, type Scope, type Wire } from './types';
import { Input, envelope } from './validate';

export type Query = Record<string, string | undefined>;

/** `limit` (1–100, default 10), `offset`, `starting_after`, `ending_before`, as Flex lists take them. */
export function readPage(v: Input, query: Query): Page {
  const page: Page = { limit: 10 };
  const int = (key: string, min: number, max: number): number | undefined => {
    const raw = query[key];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n)) {
      v.add(['query', key], 'Input should be a valid integer, unable to parse string as an integer', 'int_parsing');
      return undefined;
    }
    if (n < min || n > max) {
      v.add(['query', key], `Input should be between ${min} and ${max}`, n < min ? 'greater_than_equal' : 'less_than_equal');
      return undefined;
    }
    return n;
  };
  page.limit = int('limit', 1, 100) ?? 10;
  page.offset = int('offset', 0, Number.MAX_SAFE_INTEGER);
  page.startingAfter = query.starting_after;
  page.endingBefore = query.ending_before;
  return page;
}

export function createProduct(core: FlexCore, scope: Scope, body: unknown): Wire {
  const v = new Input();
  const input = envelope(v, body, 'product', true);
  const loc = ['product'];
  const name = v.string(input, 'name', loc, { required: true, nonEmpty: true });
  const fields = {
    description: v.string(input, 'description', loc) ?? null,
    url: v.string(input, 'url', loc) ?? null,
    upcCode: v.string(input, 'upc_code', loc) ?? null,
    gtin: v.string(input, 'gtin', loc) ?? null,
    referenceGtin: v.string(input, 'reference_gtin', loc) ?? null,
    visitType: v.string(input, 'visit_type', loc) ?? null,
    // Real Flex classifies products itself; the sandbox takes the answer from the request so tests
    // can build eligible, ineligible and LMN carts. Default as Flex: not eligible.
    eligibility: v.oneOf(input, 'hsa_fsa_eligibility', loc, ELIGIBILITIES) ?? 'not_eligible',
    clientReferenceId: v.string(input, 'client_reference_id', loc) ?? null,
    metadata: v.stringMap(input, 'metadata', loc) ?? {},
    imageUrls: v.stringList(input, 'image_urls', loc) ?? [],
    categories: v.stringList(input, 'categories', loc) ?? [],
  };
  v.done();
  const product: ProductRec = {
    ...core.state.owned(scope, 'fprod_', core.clock.nowMs()),
    name: name as string,
    ...fields,
    active: true,
  };
  core.state.products.set(product.id, product);
  return { product: productWire(product) };
}

export function getProduct(core: FlexCore, scope: Scope, id: string): Wire {
  return { product: productWire(core.state.find(core.state.products, scope, id)) };
}

export function listProducts(core: FlexCore, scope: Scope, query: Query): Wire {
  const v = new Input();
  const page = readPage(v, query);
  v.done();
  const items = core.state.list(core.state.products, scope);
  return { products: paginate(items, page).map(productWire) };
}

export function updateProduct(core: FlexCore, scope: Scope, id: string, body: unknown): Wire {
  const product = core.state.find(core.state.products, scope, id);
  const v = new Input();
  const input = envelope(v, body, 'product', true);
  const loc = ['product'];
  const has = (key: string): boolean => input !== undefined && key in input;
  const name = v.string(input, 'name', loc, { nonEmpty: true });
  const description = v.string(input, 'description', loc);
  const url = v.string(input, 'url', loc);
  const upcCode = v.string(input, 'upc_code', loc);
  const gtin = v.string(input, 'gtin', loc);
  const referenceGtin = v.string(input, 'reference_gtin', loc);
  const active = v.bool(input, 'active', loc);
  const metadata = v.stringMap(input, 'metadata', loc);
  const categories = v.stringList(input, 'categories', loc);
  const eligibility = v.oneOf(input, 'hsa_fsa_eligibility', loc, ELIGIBILITIES);
  v.done();
  if (name !== undefined) product.name = name;
  if (has('description')) product.description = description ?? null;
  if (has('url')) product.url = url ?? null;
  if (has('upc_code')) product.upcCode = upcCode ?? null;
  if (has('gtin')) product.gtin = gtin ?? null;
  if (has('reference_gtin')) product.referenceGtin = referenceGtin ?? null;
  if (active !== undefined) product.active = active;
  if (metadata !== undefined) product.metadata = metadata;
  if (categories !== undefined) product.categories = categories;
  if (eligibility !== undefined) product.eligibility = eligibility;
  return { product: productWire(product) };
}

export function createPrice(core: FlexCore, scope: Scope, body: unknown): Wire {
  const v = new Input();
  const input = envelope(v, body, 'price', true);
  const loc = ['price'];
  const productId = v.string(input, 'product', loc, { required: true });
  const unitAmount = v.int(input, 'unit_amount', loc, { required: true, min: 0 });
  const description = v.string(input, 'description', loc) ?? null;
  const active = v.bool(input, 'active', loc) ?? true;
  const metadata = v.stringMap(input, 'metadata', loc) ?? {};
  const recurringIn = v.object(input, 'recurring', loc);
  let recurring: PriceRec['recurring'] = null;
  if (recurringIn) {
    const rloc = [...loc, 'recurring'];
    const interval = v.oneOf(recurringIn, 'interval', rloc, ['day', 'week', 'month', 'year'], { required: true });
    const count = v.int(recurringIn, 'interval_count', rloc, { min: 1 }) ?? 1;
    const trial = v.int(recurringIn, 'trial_period_days', rloc, { min: 0 }) ?? null;
    if (interval) recurring = { interval, interval_count: count, trial_period_days: trial };
  }
  if (productId !== undefined) {
    const product = core.state.products.get(productId);
    if (!product || product.accountId !== scope.accountId || product.testMode !== scope.testMode) {
      v.add([...loc, 'product'], 'product_not_found: The product does not exist', 'product_not_found');
    }
  }
  v.done();
  const price: PriceRec = {
    ...core.state.owned(scope, 'fprice_', core.clock.nowMs()),
    productId: productId as string,
    unitAmount: unitAmount as number,
    description,
    active,
    recurring,
    metadata,
  };
  core.state.prices.set(price.id, price);
  return { price: priceWire(core, price) };
}

export function getPrice(core: FlexCore, scope: Scope, id: string, query: Query): Wire {
  const price = core.state.find(core.state.prices, scope, id);
  return { price: priceWire(core, price, query.expand_product === 'true') };
}

export function listPrices(core: FlexCore, scope: Scope, query: Query): Wire {
  const v = new Input();
  const page = readPage(v, query);
  v.done();
  const items = core.state.list(core.state.prices, scope, (p) => query.product === undefined || p.productId === query.product);
  return { prices: paginate(items, page).map((p) => priceWire(core, p, query.expand_product === 'true')) };
}

/** Prices are immutable apart from `description`, `active` and `metadata` (update is a POST). */
export function updatePrice(core: FlexCore, scope: Scope, id: string, body: unknown): Wire {
  const price = core.state.find(core.state.prices, scope, id);
  const v = new Input();
  const input = envelope(v, body, 'price', true);
  const loc = ['price'];
  const description = v.string(input, 'description', loc);
  const active = v.bool(input, 'active', loc);
  const metadata = v.stringMap(input, 'metadata', loc);
  v.done();
  if (input && 'description' in input) price.description = description ?? null;
  if (active !== undefined) price.active = active;
  if (metadata !== undefined) price.metadata = metadata;
  return { price: priceWire(core, price) };
}
