import type { FlexCore } from './core';
import { priceWire, productWire } from './serialize';
import type { Page } from './state';
import { pageNewestFirst } from './table';
import { ELIGIBILITIES, type PriceRec, type ProductRec, type Scope, type Wire } from './types';
import { Input, envelope, type Rec } from './validate';

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

/** The product fields that may be sent on create and on update (`name` is required on create). */
function readProductFields(v: Input, input: Rec | undefined, creating: boolean) {
  const loc = ['product'];
  return {
    name: v.string(input, 'name', loc, { required: creating, nonEmpty: true }),
    description: v.string(input, 'description', loc),
    url: v.string(input, 'url', loc),
    upcCode: v.string(input, 'upc_code', loc),
    gtin: v.string(input, 'gtin', loc),
    referenceGtin: v.string(input, 'reference_gtin', loc),
    visitType: v.string(input, 'visit_type', loc),
    // Real Flex classifies products itself (eligibility.ts does here); a value the client sends
    // still wins, so tests can build any cart and older callers keep working.
    requestedEligibility: v.oneOf(input, 'hsa_fsa_eligibility', loc, ELIGIBILITIES),
    metadata: v.stringMap(input, 'metadata', loc),
    imageUrls: v.stringList(input, 'image_urls', loc),
    categories: v.stringList(input, 'categories', loc),
    active: v.bool(input, 'active', loc),
  };
}

export function createProduct(core: FlexCore, scope: Scope, body: unknown): Wire {
  const v = new Input();
  const input = envelope(v, body, 'product', true);
  const fields = readProductFields(v, input, true);
  const clientReferenceId = v.string(input, 'client_reference_id', ['product']) ?? null;
  v.done();
  const product: ProductRec = {
    ...core.state.owned(scope, 'fprod_', core.clock.nowMs()),
    name: fields.name as string,
    description: fields.description ?? null,
    url: fields.url ?? null,
    upcCode: fields.upcCode ?? null,
    gtin: fields.gtin ?? null,
    referenceGtin: fields.referenceGtin ?? null,
    visitType: fields.visitType ?? null,
    eligibility: 'not_eligible',
    eligibilityRationale: '',
    requestedEligibility: fields.requestedEligibility ?? null,
    clientReferenceId,
    metadata: fields.metadata ?? {},
    imageUrls: fields.imageUrls ?? [],
    categories: fields.categories ?? [],
    active: fields.active ?? true,
  };
  core.eligibility.add(product);
  core.state.products.set(product.id, product);
  if (clientReferenceId !== null) core.state.productsByReference.add(core.state.byReference(scope, clientReferenceId), product);
  return { product: productWire(product) };
}

export function getProduct(core: FlexCore, scope: Scope, id: string): Wire {
  return { product: productWire(core.state.find(core.state.products, scope, id)) };
}

function readBoolQuery(v: Input, query: Query, key: string): boolean | undefined {
  const raw = query[key];
  if (raw === undefined) return undefined;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  v.add(['query', key], 'Input should be a valid boolean, unable to interpret input', 'bool_parsing');
  return undefined;
}

/** Newest first; `client_reference_id` and `active` filters are the sandbox's (assumptions.ts). */
export function listProducts(core: FlexCore, scope: Scope, query: Query): Wire {
  const v = new Input();
  const page = readPage(v, query);
  const active = readBoolQuery(v, query, 'active');
  v.done();
  const { state } = core;
  const ref = query.client_reference_id;
  const candidates = ref === undefined ? state.products.inScope(scope) : state.productsByReference.get(state.byReference(scope, ref));
  const items = pageNewestFirst(candidates, page, (id) => state.products.get(id), (p) => active === undefined || p.active === active);
  return { products: items.map(productWire) };
}

/** Changing what the product is (name, codes, description, URL, categories) has it judged again. */
export function updateProduct(core: FlexCore, scope: Scope, id: string, body: unknown): Wire {
  const product = core.state.find(core.state.products, scope, id);
  const v = new Input();
  const input = envelope(v, body, 'product', true);
  const f = readProductFields(v, input, false);
  v.done();
  const has = (key: string): boolean => input !== undefined && key in input;
  core.eligibility.beforeChange(product);
  if (f.name !== undefined) product.name = f.name;
  if (has('description')) product.description = f.description ?? null;
  if (has('url')) product.url = f.url ?? null;
  if (has('upc_code')) product.upcCode = f.upcCode ?? null;
  if (has('gtin')) product.gtin = f.gtin ?? null;
  if (has('reference_gtin')) product.referenceGtin = f.referenceGtin ?? null;
  if (has('visit_type')) product.visitType = f.visitType ?? null;
  if (f.active !== undefined) product.active = f.active;
  if (f.metadata !== undefined) product.metadata = f.metadata;
  if (f.categories !== undefined) product.categories = f.categories;
  if (f.imageUrls !== undefined) product.imageUrls = f.imageUrls;
  if (f.requestedEligibility !== undefined) product.requestedEligibility = f.requestedEligibility;
  core.eligibility.afterChange(product);
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
  core.state.pricesByProduct.add(price.productId, price);
  return { price: priceWire(core, price) };
}

export function getPrice(core: FlexCore, scope: Scope, id: string, query: Query): Wire {
  const price = core.state.find(core.state.prices, scope, id);
  return { price: priceWire(core, price, query.expand_product === 'true') };
}

export function listPrices(core: FlexCore, scope: Scope, query: Query): Wire {
  const v = new Input();
  const page = readPage(v, query);
  const active = readBoolQuery(v, query, 'active');
  v.done();
  const { state } = core;
  const candidates = query.product === undefined ? state.prices.inScope(scope) : state.pricesByProduct.get(query.product);
  const items = pageNewestFirst(
    candidates,
    page,
    (id) => state.prices.get(id),
    (p) => p.accountId === scope.accountId && p.testMode === scope.testMode && (active === undefined || p.active === active),
  );
  return { prices: items.map((p) => priceWire(core, p, query.expand_product === 'true')) };
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
