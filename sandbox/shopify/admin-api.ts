// POST /admin/api/:version/graphql.json — the Admin GraphQL API subset of admin-schema.ts: the same
// token auth, version and validation rules as the Payments Apps endpoint, plus access scopes and
// cost-based throttling (admin-cost.ts). Every call is recorded in `shopify.adminCalls`.
import type { Request, Response } from 'express';
import { execute, GraphQLError, parse, validate, type DocumentNode, type ExecutionResult } from 'graphql';
import type { Assumptions } from './assumptions';
import { adminSchema } from './admin-schema';
import { CostBuckets, MAX_SINGLE_QUERY_COST, maxCostExceededBody, queryCost, throttledBody, type CostExtension } from './admin-cost';
import { plainText, PRODUCT_GID, VARIANT_GID, type Catalog, type ProductRecord, type VariantRecord } from './catalog';
import { RATE_LIMITED_BODY, SERVER_ERROR_BODIES, type Faults } from './faults';
import { INVALID_TOKEN_BODY, readGraphqlRequest, rootFieldNames, toGraphqlError, type MutationRecord, type UserErrorView } from './graphql-api';
import {
  compareDigest,
  isAppReserved,
  jsonValue,
  METAFIELD_DEFINITION_GID,
  METAFIELD_GID,
  METAFIELD_TYPES,
  METAFIELDS_SET_LIMIT,
  resolveNamespace,
  valueProblem,
  type Metafields,
  type MetafieldDefinitionRecord,
  type MetafieldRecord,
  type OwnerType,
} from './metafields';
import { graphqlDecimal } from './money';
import {
  financialStatus,
  LINE_ITEM_GID,
  ORDER_GID,
  paidCents,
  REFUND_GID,
  REFUND_LINE_ITEM_GID,
  refundedCents,
  SHIPPING_LINE_GID,
  TRANSACTION_GID,
  type OrderLineRecord,
  type OrderRecord,
  type OrderTransactionRecord,
  type RefundRecord,
  type Orders,
} from './orders';
import { matchesAll, matchesDate, matchesNumber, matchesText, parseSearchQuery } from './search-query';
import type { ShopRecord, ShopRegistry } from './shops';
import { checkPixelSettings, type PixelExtensionConfig, type WebPixels } from './web-pixels';

/** One Admin API call, like a Payments Apps `MutationRecord`, plus what it cost. */
export interface AdminCallRecord extends MutationRecord {
  cost: CostExtension | null;
}

export interface AdminApiContext {
  shops: ShopRegistry;
  catalog: Catalog;
  orders: Orders;
  metafields: Metafields;
  webPixels: WebPixels;
  /** The app's web pixel extension (throws when there is none: NO_EXTENSION). */
  pixelConfig(): PixelExtensionConfig;
  buckets: CostBuckets;
  faults: Faults;
  calls: AdminCallRecord[];
  supportedVersions(): readonly string[];
  assumptions: Assumptions;
  enforceAccessScopes: boolean;
  publicUrl(): string;
  now(): Date;
  heldResponses: Set<Response>;
  onRecord(record: AdminCallRecord): void;
  /** The merchant-visible order changed (note, tags): Shopify sends orders/updated. */
  onOrderUpdated(order: OrderRecord): void;
  /** REST/GraphQL payment id of a transaction (assumption `refundTransactionPaymentId`). */
  transactionPaymentId(order: OrderRecord, transaction: OrderTransactionRecord): string;
}

interface Ctx {
  shop: ShopRecord;
  calls: Array<{ field: string; args: Record<string, unknown>; userErrors: UserErrorView[] }>;
}

const MAX_PAGE_SIZE = 250;

export function adminGraphqlHandler(api: AdminApiContext) {
  const schema = adminSchema();
  return (req: Request, res: Response): void => {
    const version = String(req.params.version);
    const tokenRecord = api.shops.activeToken(req.get('X-Shopify-Access-Token'));
    const record: AdminCallRecord = {
      at: api.now().toISOString(),
      shop: tokenRecord?.shop ?? null,
      version,
      name: null,
      fields: [],
      args: null,
      query: null,
      variables: null,
      httpStatus: null,
      response: null,
      userErrors: [],
      failed: true,
      cost: null,
    };
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.httpStatus = status;
      record.response = body;
      record.cost = ((body as { extensions?: { cost?: CostExtension } })?.extensions?.cost as CostExtension | undefined) ?? null;
      api.calls.push(record);
      api.onRecord(record);
      res.status(status).set(headers).json(body);
    };

    if (!api.supportedVersions().includes(version)) return reply(404, { errors: 'Not Found' });
    const request = readGraphqlRequest(req.body, req.get('Content-Type'));
    let document: DocumentNode | undefined;
    let syntaxError: GraphQLError | undefined;
    if (!('error' in request)) {
      record.query = request.query;
      record.variables = request.variables;
      try {
        document = parse(request.query);
        record.fields = rootFieldNames(document, request.operationName);
        record.name = record.fields[0] ?? null;
      } catch (error) {
        syntaxError = toGraphqlError(error);
      }
    }
    const shopInUrl = typeof req.query.shop === 'string' ? req.query.shop.toLowerCase() : undefined;
    if (!tokenRecord || (shopInUrl && shopInUrl !== tokenRecord.shop)) {
      record.shop = null;
      return reply(401, INVALID_TOKEN_BODY);
    }
    const shop = api.shops.get(tokenRecord.shop)!;
    if ('error' in request) return reply(request.status, request.body);
    if (!document) return reply(200, { errors: [syntaxError!.toJSON()] });

    const fault = api.faults.take(record.fields, 'admin');
    if (fault) {
      record.fault = fault.status;
      if (fault.status === 'timeout') {
        api.calls.push(record);
        api.onRecord(record);
        api.heldResponses.add(res);
        res.on('close', () => api.heldResponses.delete(res));
        return;
      }
      if (fault.status === 'throttled') return reply(200, throttledBody(0, { ...api.buckets.status(shop.domain), currentlyAvailable: 0 }));
      if (fault.status === 429) return reply(429, RATE_LIMITED_BODY, { 'Retry-After': (fault.retryAfterSeconds ?? 2).toFixed(1) });
      return reply(fault.status, SERVER_ERROR_BODIES[fault.status]);
    }

    const validationErrors = validate(schema, document);
    if (validationErrors.length > 0) return reply(200, { errors: validationErrors.map((e) => e.toJSON()) });

    let requested: number;
    try {
      requested = queryCost(schema, document, request.operationName, request.variables);
    } catch (error) {
      return reply(200, { errors: [toGraphqlError(error).toJSON()] });
    }
    if (requested > MAX_SINGLE_QUERY_COST) return reply(200, maxCostExceededBody(requested, api.buckets.status(shop.domain)));
    if (!api.buckets.take(shop.domain, requested)) return reply(200, throttledBody(requested, api.buckets.status(shop.domain)));

    const ctx: Ctx = { shop, calls: [] };
    const result = execute({
      schema,
      document,
      rootValue: rootResolvers(api),
      contextValue: ctx,
      variableValues: request.variables ?? undefined,
      operationName: request.operationName ?? undefined,
    }) as ExecutionResult;
    const actual = queryCost(schema, document, request.operationName, request.variables, (result.data ?? null) as Record<string, unknown> | null);
    api.buckets.refund(shop.domain, Math.max(0, requested - actual));
    record.args = ctx.calls[0]?.args ?? null;
    record.userErrors = ctx.calls.flatMap((c) => c.userErrors);
    const body: Record<string, unknown> = {};
    if (result.errors?.length) body.errors = result.errors.map((e) => e.toJSON());
    if (result.data !== undefined) body.data = result.data;
    body.extensions = { cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: api.buckets.status(shop.domain) } };
    record.failed = Boolean(result.errors?.length);
    reply(200, body);
  };
}

// ---- helpers ----

function moneyBag(cents: number, currency: string) {
  const money = { amount: graphqlDecimal(cents), currencyCode: currency };
  return { shopMoney: money, presentmentMoney: money };
}

function gidNumber(id: string, prefix: string): number {
  return id.startsWith(prefix) && /^\d+$/.test(id.slice(prefix.length)) ? Number(id.slice(prefix.length)) : NaN;
}

/** Shopify's ACCESS_DENIED field error. */
function accessDenied(field: string, scope: string): GraphQLError {
  return new GraphQLError(`Access denied for ${field} field. Required access: \`${scope}\` access scope.`, {
    extensions: { code: 'ACCESS_DENIED', documentation: 'https://shopify.dev/api/usage/access-scopes', requiredAccess: `\`${scope}\` access scope.` },
  });
}

export function hasScope(shop: ShopRecord, scope: string): boolean {
  const granted = shop.grantedScopes;
  if (granted.includes(scope)) return true;
  // write_x implies read_x; read_all_orders is not modelled.
  return scope.startsWith('read_') && granted.includes(`write_${scope.slice(5)}`);
}

interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  reverse?: boolean | null;
}

function encodeCursor(id: number | string, value: unknown): string {
  return Buffer.from(JSON.stringify({ last_id: id, last_value: value })).toString('base64');
}

function decodeCursor(cursor: string): { last_id: number | string } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8')) as { last_id?: number | string };
    if (parsed && parsed.last_id !== undefined) return { last_id: parsed.last_id };
  } catch {
    // fall through
  }
  throw new GraphQLError(`Invalid cursor for current pagination sort.`, { extensions: { code: 'BAD_REQUEST' } });
}

/** Relay pagination over an already sorted list; items carry `id`. */
function paginate<T extends { id: number | string }>(items: T[], args: PageArgs, view: (item: T) => unknown, sortValue: (item: T) => unknown = (i) => i.id) {
  const { first, last, after, before } = args;
  if ((first === undefined || first === null) && (last === undefined || last === null)) {
    throw new GraphQLError('you must provide one of first or last', { extensions: { code: 'BAD_REQUEST' } });
  }
  for (const size of [first, last]) {
    if (size !== undefined && size !== null && (size < 0 || size > MAX_PAGE_SIZE)) {
      throw new GraphQLError(`The maximum number of items you can request is ${MAX_PAGE_SIZE}.`, { extensions: { code: 'BAD_REQUEST' } });
    }
  }
  let start = 0;
  let end = items.length;
  if (after) {
    const { last_id } = decodeCursor(after);
    const index = items.findIndex((i) => String(i.id) === String(last_id));
    start = index >= 0 ? index + 1 : start;
  }
  if (before) {
    const { last_id } = decodeCursor(before);
    const index = items.findIndex((i) => String(i.id) === String(last_id));
    end = index >= 0 ? index : end;
  }
  let slice = items.slice(start, end);
  let hasNextPage = end < items.length;
  let hasPreviousPage = start > 0;
  if (first !== undefined && first !== null) {
    hasNextPage = hasNextPage || slice.length > first;
    slice = slice.slice(0, first);
  }
  if (last !== undefined && last !== null) {
    hasPreviousPage = hasPreviousPage || slice.length > last;
    slice = slice.slice(Math.max(0, slice.length - last));
  }
  const edges = slice.map((item) => ({ cursor: encodeCursor(item.id, sortValue(item)), node: view(item) }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: {
      hasNextPage,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

function sortBy<T>(items: T[], key: (item: T) => string | number, id: (item: T) => number, reverse: boolean | null | undefined): T[] {
  const sorted = [...items].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka < kb) return -1;
    if (ka > kb) return 1;
    return id(a) - id(b);
  });
  return reverse ? sorted.reverse() : sorted;
}

function splitTags(tags: string[]): string[] {
  return tags.flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
}

// ---- resolvers ----

function rootResolvers(api: AdminApiContext) {
  const requireScope = (ctx: Ctx, field: string, scope: string) => {
    if (api.enforceAccessScopes && !hasScope(ctx.shop, scope)) throw accessDenied(field, scope);
  };
  const track = (ctx: Ctx, field: string, args: Record<string, unknown>, userErrors: UserErrorView[]) => {
    ctx.calls.push({ field, args, userErrors });
    return userErrors;
  };

  // -- metafields on any owner --
  const metafieldFields = (shop: string, ownerId: string) => ({
    metafield: (args: { namespace?: string | null; key: string }) => {
      const namespace = resolveNamespace(args.namespace);
      const record = api.metafields.find(shop, ownerId, namespace, args.key);
      return record ? metafieldView(record) : null;
    },
    metafields: (args: PageArgs & { namespace?: string | null; keys?: string[] | null }) => {
      const all = api.metafields
        .of(shop, ownerId)
        .filter((m) => !args.namespace || m.namespace === resolveNamespace(args.namespace))
        .filter((m) => !args.keys || args.keys.includes(`${m.namespace}.${m.key}`));
      return paginate(args.reverse ? [...all].reverse() : all, args, metafieldView);
    },
  });

  const metafieldView = (m: MetafieldRecord): Record<string, unknown> => ({
    __typename: 'Metafield',
    id: METAFIELD_GID + m.id,
    legacyResourceId: String(m.id),
    namespace: m.namespace,
    key: m.key,
    value: m.value,
    jsonValue: jsonValue(m.type, m.value),
    type: m.type,
    compareDigest: compareDigest(m),
    ownerType: m.ownerType,
    owner: () => ownerView(m.shop, m.ownerId),
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  });

  const ownerView = (shop: string, ownerId: string) => {
    if (ownerId.startsWith(PRODUCT_GID)) {
      const p = api.catalog.product(shop, ownerId);
      return p ? productView(p) : null;
    }
    if (ownerId.startsWith(VARIANT_GID)) {
      const v = api.catalog.variant(shop, ownerId);
      return v ? variantView(shop, v) : null;
    }
    if (ownerId.startsWith(ORDER_GID)) {
      const o = api.orders.get(shop, ownerId);
      return o ? orderView(o) : null;
    }
    return null;
  };

  // -- catalog --
  const productView = (p: ProductRecord): Record<string, unknown> => ({
    __typename: 'Product',
    id: PRODUCT_GID + p.id,
    legacyResourceId: String(p.id),
    title: p.title,
    handle: p.handle,
    description: (args: { truncateAt?: number | null }) => {
      const text = plainText(p.descriptionHtml);
      return args.truncateAt && text.length > args.truncateAt ? `${text.slice(0, args.truncateAt)}…` : text;
    },
    descriptionHtml: p.descriptionHtml,
    onlineStoreUrl: p.status === 'ACTIVE' ? `https://${p.shop}/products/${p.handle}` : null,
    status: p.status,
    vendor: p.vendor,
    productType: p.productType,
    tags: p.tags,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    publishedAt: p.publishedAt,
    variantsCount: { count: p.variants.length, precision: 'EXACT' },
    variants: (args: PageArgs & { sortKey?: string }) => {
      const sorted = variantSort(p.variants, args.sortKey ?? 'POSITION', args.reverse);
      return paginate(sorted, args, (v) => variantView(p.shop, v));
    },
    ...metafieldFields(p.shop, PRODUCT_GID + p.id),
  });

  const variantView = (shop: string, v: VariantRecord): Record<string, unknown> => ({
    __typename: 'ProductVariant',
    id: VARIANT_GID + v.id,
    legacyResourceId: String(v.id),
    title: v.title,
    displayName: `${api.catalog.product(shop, v.productId)?.title ?? ''} - ${v.title}`,
    sku: v.sku,
    barcode: v.barcode,
    price: graphqlDecimal(v.priceCents),
    compareAtPrice: v.compareAtPriceCents === null ? null : graphqlDecimal(v.compareAtPriceCents),
    position: v.position,
    taxable: v.taxable,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
    product: () => productView(api.catalog.product(shop, v.productId)!),
    ...metafieldFields(shop, VARIANT_GID + v.id),
  });

  const variantSort = (variants: VariantRecord[], sortKey: string, reverse: boolean | null | undefined) => {
    switch (sortKey) {
      case 'SKU':
        return sortBy(variants, (v) => v.sku ?? '', (v) => v.id, reverse);
      case 'TITLE':
      case 'NAME':
      case 'FULL_TITLE':
        return sortBy(variants, (v) => v.title.toLowerCase(), (v) => v.id, reverse);
      case 'POSITION':
        return sortBy(variants, (v) => v.productId * 1000 + v.position, (v) => v.id, reverse);
      default:
        return sortBy(variants, (v) => v.id, (v) => v.id, reverse);
    }
  };

  const productFilter = (query: string | null | undefined) => {
    const terms = parseSearchQuery(query);
    return (p: ProductRecord) =>
      matchesAll(
        p,
        terms,
        (field, term) => {
          switch (field) {
            case 'title':
              return matchesText(p.title, term);
            case 'handle':
              return matchesText(p.handle, term);
            case 'status':
              return term.value.split(',').some((s) => s.trim().toUpperCase() === p.status);
            case 'vendor':
              return matchesText(p.vendor, term);
            case 'product_type':
              return matchesText(p.productType, term);
            case 'tag':
              return p.tags.some((t) => matchesText(t, term));
            case 'updated_at':
              return matchesDate(p.updatedAt, term);
            case 'created_at':
              return matchesDate(p.createdAt, term);
            case 'id':
              return matchesNumber(p.id, term);
            case 'sku':
              return p.variants.some((v) => matchesText(v.sku, term));
            case 'barcode':
              return p.variants.some((v) => matchesText(v.barcode, term));
            default:
              return null;
          }
        },
        (text) => p.title.toLowerCase().includes(text.replace(/\*$/, '')),
      );
  };

  const variantFilter = (shop: string, query: string | null | undefined) => {
    const terms = parseSearchQuery(query);
    return (v: VariantRecord) =>
      matchesAll(
        v,
        terms,
        (field, term) => {
          switch (field) {
            case 'sku':
              return matchesText(v.sku, term);
            case 'barcode':
              return matchesText(v.barcode, term);
            case 'title':
              return matchesText(v.title, term);
            case 'product_id':
              return matchesNumber(v.productId, term);
            case 'id':
              return matchesNumber(v.id, term);
            case 'updated_at':
              return matchesDate(v.updatedAt, term);
            case 'created_at':
              return matchesDate(v.createdAt, term);
            case 'product_status': {
              const status = api.catalog.product(shop, v.productId)?.status;
              return term.value.split(',').some((s) => s.trim().toUpperCase() === status);
            }
            default:
              return null;
          }
        },
        (text) => `${api.catalog.product(shop, v.productId)?.title ?? ''} ${v.title} ${v.sku ?? ''}`.toLowerCase().includes(text.replace(/\*$/, '')),
      );
  };

  const productsOf = (ctx: Ctx, args: { query?: string | null; sortKey?: string; reverse?: boolean | null }) => {
    const filtered = api.catalog.listProducts(ctx.shop.domain).filter(productFilter(args.query));
    switch (args.sortKey) {
      case 'TITLE':
        return sortBy(filtered, (p) => p.title.toLowerCase(), (p) => p.id, args.reverse);
      case 'UPDATED_AT':
        return sortBy(filtered, (p) => p.updatedAt, (p) => p.id, args.reverse);
      case 'CREATED_AT':
        return sortBy(filtered, (p) => p.createdAt, (p) => p.id, args.reverse);
      case 'VENDOR':
        return sortBy(filtered, (p) => p.vendor, (p) => p.id, args.reverse);
      case 'PRODUCT_TYPE':
        return sortBy(filtered, (p) => p.productType, (p) => p.id, args.reverse);
      default:
        return sortBy(filtered, (p) => p.id, (p) => p.id, args.reverse);
    }
  };

  // -- orders --
  const transactionView = (o: OrderRecord, t: OrderTransactionRecord): Record<string, unknown> => ({
    __typename: 'OrderTransaction',
    id: TRANSACTION_GID + t.id,
    kind: t.kind.toUpperCase(),
    status: t.status.toUpperCase(),
    gateway: t.gateway,
    formattedGateway: t.gateway,
    paymentId: api.transactionPaymentId(o, t),
    amountSet: moneyBag(t.amountCents, o.currency),
    parentTransaction: () => {
      const parent = o.transactions.find((x) => x.id === t.parentId);
      return parent ? transactionView(o, parent) : null;
    },
    test: t.test,
    createdAt: t.createdAt,
    processedAt: t.processedAt,
    authorizationExpiresAt: t.authorizationExpiresAt,
    errorCode: null,
  });

  const lineItemView = (o: OrderRecord, l: OrderLineRecord): Record<string, unknown> => {
    const lineTotal = l.unitPriceCents * l.quantity;
    const discountedUnit = Math.round((lineTotal - l.discountCents) / l.quantity);
    return {
      __typename: 'LineItem',
      id: LINE_ITEM_GID + l.id,
      name: l.variantTitle && l.variantTitle !== 'Default Title' ? `${l.title} - ${l.variantTitle}` : l.title,
      title: l.title,
      variantTitle: l.variantTitle,
      sku: l.sku,
      vendor: l.vendor,
      quantity: l.quantity,
      currentQuantity: l.quantity - l.refundedQuantity,
      refundableQuantity: l.quantity - l.refundedQuantity,
      variant: () => {
        const v = l.variantId === null ? undefined : api.catalog.variant(o.shop, l.variantId);
        return v ? variantView(o.shop, v) : null;
      },
      product: () => {
        const p = l.productId === null ? undefined : api.catalog.product(o.shop, l.productId);
        return p ? productView(p) : null;
      },
      originalUnitPriceSet: moneyBag(l.unitPriceCents, o.currency),
      // Order-level discount codes are allocated to lines; they do not change discountedUnitPriceSet
      // (line-level discounts only) but do change the "after all discounts" price.
      discountedUnitPriceSet: moneyBag(l.unitPriceCents, o.currency),
      discountedUnitPriceAfterAllDiscountsSet: moneyBag(discountedUnit, o.currency),
      originalTotalSet: moneyBag(lineTotal, o.currency),
      discountedTotalSet: moneyBag(lineTotal, o.currency),
      totalDiscountSet: moneyBag(l.discountCents, o.currency),
      discountAllocations: l.discountCents ? [{ allocatedAmountSet: moneyBag(l.discountCents, o.currency) }] : [],
      taxLines: () =>
        l.taxCents ? [{ priceSet: moneyBag(l.taxCents, o.currency), rate: l.taxRate, ratePercentage: l.taxRate * 100, title: 'Sales Tax', channelLiable: false }] : [],
      taxable: l.taxCents > 0,
    };
  };

  const refundView = (o: OrderRecord, r: RefundRecord): Record<string, unknown> => {
    const transactions = o.transactions.filter((t) => r.transactionIds.includes(t.id));
    return {
      __typename: 'Refund',
      id: REFUND_GID + r.id,
      legacyResourceId: String(r.id),
      createdAt: r.createdAt,
      updatedAt: r.createdAt,
      note: r.note,
      order: () => orderView(o),
      totalRefundedSet: moneyBag(
        transactions.filter((t) => t.status === 'success').reduce((s, t) => s + t.amountCents, 0),
        o.currency,
      ),
      refundLineItems: (args: PageArgs) =>
        paginate(args.reverse ? [...r.lines].reverse() : r.lines, args, (rl) => {
          const line = o.lines.find((l) => l.id === rl.lineItemId)!;
          return {
            id: REFUND_LINE_ITEM_GID + rl.id,
            lineItem: lineItemView(o, line),
            quantity: rl.quantity,
            restockType: rl.restockType,
            restocked: rl.restockType !== 'NO_RESTOCK',
            priceSet: moneyBag(Math.round(rl.subtotalCents / rl.quantity), o.currency),
            subtotalSet: moneyBag(rl.subtotalCents, o.currency),
            totalTaxSet: moneyBag(rl.taxCents, o.currency),
          };
        }),
      transactions: (args: PageArgs) => paginate(args.reverse ? [...transactions].reverse() : transactions, args, (t) => transactionView(o, t)),
    };
  };

  const orderView = (o: OrderRecord): Record<string, unknown> => ({
    __typename: 'Order',
    id: ORDER_GID + o.id,
    legacyResourceId: String(o.id),
    name: o.name,
    note: o.note,
    tags: o.tags,
    email: o.email,
    poNumber: null,
    customAttributes: [],
    test: o.test,
    closed: false,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    processedAt: o.processedAt,
    cancelledAt: null,
    currencyCode: o.currency,
    displayFinancialStatus: financialStatus(o).toUpperCase(),
    paymentGatewayNames: [o.gateway],
    subtotalPriceSet: moneyBag(o.subtotalCents, o.currency),
    totalPriceSet: moneyBag(o.totalCents, o.currency),
    totalTaxSet: moneyBag(o.totalTaxCents, o.currency),
    totalDiscountsSet: moneyBag(o.totalDiscountsCents, o.currency),
    totalShippingPriceSet: moneyBag(o.totalShippingCents, o.currency),
    totalRefundedSet: moneyBag(
      o.transactions.filter((t) => t.kind === 'refund' && t.status === 'success').reduce((s, t) => s + t.amountCents, 0),
      o.currency,
    ),
    totalReceivedSet: moneyBag(paidCents(o), o.currency),
    totalOutstandingSet: moneyBag(Math.max(0, o.totalCents - paidCents(o)), o.currency),
    currentTotalPriceSet: moneyBag(o.totalCents - refundedCents(o), o.currency),
    lineItems: (args: PageArgs) => paginate(args.reverse ? [...o.lines].reverse() : o.lines, args, (l) => lineItemView(o, l)),
    shippingLines: (args: PageArgs) =>
      paginate(o.shipping ? [o.shipping] : [], args, (s) => ({
        id: SHIPPING_LINE_GID + s.id,
        title: s.title,
        code: s.code,
        originalPriceSet: moneyBag(s.priceCents, o.currency),
        discountedPriceSet: moneyBag(s.priceCents, o.currency),
      })),
    transactions: (args: { first?: number | null; capturable?: boolean | null }) => {
      let list = o.transactions;
      if (args.capturable) list = list.filter((t) => t.kind === 'authorization' && financialStatus(o) === 'authorized');
      return (args.first ? list.slice(0, args.first) : list).map((t) => transactionView(o, t));
    },
    refunds: (args: { first?: number | null }) => (args.first ? o.refunds.slice(0, args.first) : o.refunds).map((r) => refundView(o, r)),
    ...metafieldFields(o.shop, ORDER_GID + o.id),
  });

  const orderFilter = (query: string | null | undefined) => {
    const terms = parseSearchQuery(query);
    return (o: OrderRecord) =>
      matchesAll(
        o,
        terms,
        (field, term) => {
          switch (field) {
            case 'updated_at':
              return matchesDate(o.updatedAt, term);
            case 'created_at':
              return matchesDate(o.createdAt, term);
            case 'processed_at':
              return matchesDate(o.processedAt, term);
            case 'name':
              return matchesText(o.name, term) || matchesText(o.name.replace(/^#/, ''), term);
            case 'financial_status':
              return matchesText(financialStatus(o), term);
            case 'tag':
              return o.tags.some((t) => matchesText(t, term));
            case 'test':
              return String(o.test) === term.value;
            case 'id':
              return matchesNumber(o.id, term);
            case 'payment_id':
              // Documented for the admin's order search; UNVERIFIED for the API (assumption switch).
              if (!api.assumptions.ordersPaymentIdSearch) return null;
              return o.transactions.some((t) => matchesText(api.transactionPaymentId(o, t), term));
            default:
              return null;
          }
        },
        (text) => o.name.toLowerCase().includes(text) || (o.email ?? '').toLowerCase().includes(text),
      );
  };

  const ordersOf = (ctx: Ctx, args: { query?: string | null; sortKey?: string; reverse?: boolean | null }) => {
    const filtered = api.orders.list(ctx.shop.domain).filter(orderFilter(args.query));
    switch (args.sortKey) {
      case 'CREATED_AT':
        return sortBy(filtered, (o) => o.createdAt, (o) => o.id, args.reverse);
      case 'UPDATED_AT':
        return sortBy(filtered, (o) => o.updatedAt, (o) => o.id, args.reverse);
      case 'ORDER_NUMBER':
        return sortBy(filtered, (o) => o.number, (o) => o.id, args.reverse);
      case 'TOTAL_PRICE':
        return sortBy(filtered, (o) => o.totalCents, (o) => o.id, args.reverse);
      case 'ID':
        return sortBy(filtered, (o) => o.id, (o) => o.id, args.reverse);
      default:
        return sortBy(filtered, (o) => o.processedAt, (o) => o.id, args.reverse);
    }
  };

  const nodeView = (ctx: Ctx, id: string) => {
    if (id.startsWith(PRODUCT_GID)) {
      requireScope(ctx, 'node', 'read_products');
      const p = api.catalog.product(ctx.shop.domain, id);
      return p ? productView(p) : null;
    }
    if (id.startsWith(VARIANT_GID)) {
      requireScope(ctx, 'node', 'read_products');
      const v = api.catalog.variant(ctx.shop.domain, id);
      return v ? variantView(ctx.shop.domain, v) : null;
    }
    if (id.startsWith(ORDER_GID)) {
      requireScope(ctx, 'node', 'read_orders');
      const o = api.orders.get(ctx.shop.domain, id);
      return o ? orderView(o) : null;
    }
    return null;
  };

  const ownerOf = (ctx: Ctx, id: string): { type: OwnerType; scope: string; exists: boolean } | null => {
    if (id.startsWith(PRODUCT_GID)) return { type: 'PRODUCT', scope: 'write_products', exists: Boolean(api.catalog.product(ctx.shop.domain, id)) };
    if (id.startsWith(VARIANT_GID)) return { type: 'PRODUCTVARIANT', scope: 'write_products', exists: Boolean(api.catalog.variant(ctx.shop.domain, id)) };
    if (id.startsWith(ORDER_GID)) return { type: 'ORDER', scope: 'write_orders', exists: Boolean(api.orders.get(ctx.shop.domain, id)) };
    return null;
  };

  const webPixelView = (record: { gid: string; settings: string }) => ({ __typename: 'WebPixel', id: record.gid, settings: record.settings });

  const pixelConfigOrNull = () => {
    try {
      return api.pixelConfig();
    } catch {
      return null;
    }
  };

  const webPixelErrors = (input: { settings?: unknown }): { settings: string } | UserErrorView[] => {
    const config = pixelConfigOrNull();
    if (!config || config.type !== 'web_pixel_extension') return [{ field: ['webPixel'], message: 'No extension found.', code: 'NO_EXTENSION' }];
    if (config.runtimeContext !== 'strict') return [{ field: ['webPixel'], message: 'The provided runtime context is invalid.', code: 'INVALID_RUNTIME_CONTEXT' }];
    const checked = checkPixelSettings(config, input.settings);
    if ('code' in checked) return [{ field: ['webPixel', 'settings'], message: checked.message, code: checked.code }];
    return checked;
  };

  const tagTarget = (ctx: Ctx, id: string, field: string) => {
    if (id.startsWith(ORDER_GID)) {
      requireScope(ctx, field, 'write_orders');
      const order = api.orders.get(ctx.shop.domain, id);
      return order ? { tags: order.tags, set: (tags: string[]) => ((order.tags = tags), (order.updatedAt = api.now().toISOString()), api.onOrderUpdated(order)), view: () => orderView(order) } : null;
    }
    if (id.startsWith(PRODUCT_GID)) {
      requireScope(ctx, field, 'write_products');
      const product = api.catalog.product(ctx.shop.domain, id);
      return product ? { tags: product.tags, set: (tags: string[]) => ((product.tags = tags), (product.updatedAt = api.now().toISOString())), view: () => productView(product) } : null;
    }
    return null;
  };

  return {
    shop: (_args: unknown, ctx: Ctx) => ({
      __typename: 'Shop',
      id: `gid://shopify/Shop/${ctx.shop.shopId}`,
      name: ctx.shop.name,
      email: ctx.shop.email,
      myshopifyDomain: ctx.shop.domain,
      currencyCode: 'USD',
      ...metafieldFields(ctx.shop.domain, `gid://shopify/Shop/${ctx.shop.shopId}`),
    }),
    node: (args: { id: string }, ctx: Ctx) => nodeView(ctx, args.id),
    nodes: (args: { ids: string[] }, ctx: Ctx) => args.ids.map((id) => nodeView(ctx, id)),

    product: (args: { id: string }, ctx: Ctx) => {
      requireScope(ctx, 'product', 'read_products');
      const p = api.catalog.product(ctx.shop.domain, args.id);
      return p && !Number.isNaN(gidNumber(args.id, PRODUCT_GID)) ? productView(p) : null;
    },
    products: (args: PageArgs & { query?: string; sortKey?: string }, ctx: Ctx) => {
      requireScope(ctx, 'products', 'read_products');
      return paginate(productsOf(ctx, args), args, productView, (p) => p.id);
    },
    productsCount: (args: { query?: string; limit?: number | null }, ctx: Ctx) => {
      requireScope(ctx, 'productsCount', 'read_products');
      const count = productsOf(ctx, args).length;
      const limit = args.limit ?? 10_000;
      return { count: Math.min(count, limit), precision: count > limit ? 'AT_LEAST' : 'EXACT' };
    },
    productVariant: (args: { id: string }, ctx: Ctx) => {
      requireScope(ctx, 'productVariant', 'read_products');
      const v = api.catalog.variant(ctx.shop.domain, args.id);
      return v && !Number.isNaN(gidNumber(args.id, VARIANT_GID)) ? variantView(ctx.shop.domain, v) : null;
    },
    productVariants: (args: PageArgs & { query?: string; sortKey?: string }, ctx: Ctx) => {
      requireScope(ctx, 'productVariants', 'read_products');
      const filtered = api.catalog.listVariants(ctx.shop.domain).filter(variantFilter(ctx.shop.domain, args.query));
      return paginate(variantSort(filtered, args.sortKey ?? 'ID', args.reverse), args, (v) => variantView(ctx.shop.domain, v));
    },
    productVariantsCount: (args: { query?: string; limit?: number | null }, ctx: Ctx) => {
      requireScope(ctx, 'productVariantsCount', 'read_products');
      const count = api.catalog.listVariants(ctx.shop.domain).filter(variantFilter(ctx.shop.domain, args.query)).length;
      const limit = args.limit ?? 10_000;
      return { count: Math.min(count, limit), precision: count > limit ? 'AT_LEAST' : 'EXACT' };
    },

    order: (args: { id: string }, ctx: Ctx) => {
      requireScope(ctx, 'order', 'read_orders');
      const o = api.orders.get(ctx.shop.domain, args.id);
      return o && !Number.isNaN(gidNumber(args.id, ORDER_GID)) ? orderView(o) : null;
    },
    orders: (args: PageArgs & { query?: string; sortKey?: string }, ctx: Ctx) => {
      requireScope(ctx, 'orders', 'read_orders');
      return paginate(ordersOf(ctx, args), args, orderView);
    },
    ordersCount: (args: { query?: string; limit?: number | null }, ctx: Ctx) => {
      requireScope(ctx, 'ordersCount', 'read_orders');
      const count = ordersOf(ctx, args).length;
      const limit = args.limit ?? 10_000;
      return { count: Math.min(count, limit), precision: count > limit ? 'AT_LEAST' : 'EXACT' };
    },

    // UNVERIFIED: with no pixel (or another id) this answers null rather than an error.
    webPixel: (args: { id?: string | null }, ctx: Ctx) => {
      requireScope(ctx, 'webPixel', 'read_pixels');
      const record = api.webPixels.get(ctx.shop.domain);
      if (!record || (args.id && args.id !== record.gid)) return null;
      return webPixelView(record);
    },
    webPixelCreate: (args: { webPixel: { settings: unknown } }, ctx: Ctx) => {
      requireScope(ctx, 'webPixelCreate', 'write_pixels');
      const checked = webPixelErrors(args.webPixel);
      if (Array.isArray(checked)) return { webPixel: null, userErrors: track(ctx, 'webPixelCreate', args, checked) };
      if (api.webPixels.get(ctx.shop.domain)) {
        return { webPixel: null, userErrors: track(ctx, 'webPixelCreate', args, [{ field: ['webPixel'], message: 'Web pixel is taken.', code: 'TAKEN' }]) };
      }
      const record = api.webPixels.create(ctx.shop.domain, checked.settings);
      return { webPixel: webPixelView(record), userErrors: track(ctx, 'webPixelCreate', args, []) };
    },
    webPixelUpdate: (args: { id: string; webPixel: { settings: unknown } }, ctx: Ctx) => {
      requireScope(ctx, 'webPixelUpdate', 'write_pixels');
      const record = api.webPixels.get(ctx.shop.domain);
      if (!record || record.gid !== args.id) {
        return { webPixel: null, userErrors: track(ctx, 'webPixelUpdate', args, [{ field: ['id'], message: 'Web pixel not found.', code: 'NOT_FOUND' }]) };
      }
      const checked = webPixelErrors(args.webPixel);
      if (Array.isArray(checked)) return { webPixel: null, userErrors: track(ctx, 'webPixelUpdate', args, checked) };
      return { webPixel: webPixelView(api.webPixels.update(record, checked.settings)), userErrors: track(ctx, 'webPixelUpdate', args, []) };
    },
    webPixelDelete: (args: { id: string }, ctx: Ctx) => {
      requireScope(ctx, 'webPixelDelete', 'write_pixels');
      const record = api.webPixels.get(ctx.shop.domain);
      if (!record || record.gid !== args.id) {
        return { deletedWebPixelId: null, userErrors: track(ctx, 'webPixelDelete', args, [{ field: ['id'], message: 'Web pixel not found.', code: 'NOT_FOUND' }]) };
      }
      api.webPixels.delete(ctx.shop.domain);
      return { deletedWebPixelId: record.gid, userErrors: track(ctx, 'webPixelDelete', args, []) };
    },

    metafieldsSet: (args: { metafields: Array<{ ownerId: string; namespace?: string | null; key: string; value: string; type?: string | null; compareDigest?: string | null }> }, ctx: Ctx) => {
      const errors: UserErrorView[] = [];
      if (args.metafields.length > METAFIELDS_SET_LIMIT) {
        errors.push({ field: ['metafields'], message: `Exceeded the maximum metafields input limit of ${METAFIELDS_SET_LIMIT}.`, code: 'LESS_THAN_OR_EQUAL_TO' });
        return { metafields: null, userErrors: track(ctx, 'metafieldsSet', args, errors) };
      }
      const prepared = args.metafields.map((input, index) => {
        const field = (name: string) => ['metafields', String(index), name];
        const fail = (name: string, message: string, code: string) => errors.push({ field: field(name), message, code, elementIndex: index } as UserErrorView);
        const owner = ownerOf(ctx, input.ownerId);
        if (owner) requireScope(ctx, 'metafieldsSet', owner.scope);
        if (!owner || !owner.exists) fail('ownerId', 'Owner does not exist.', 'INVALID');
        const namespace = resolveNamespace(input.namespace);
        if (namespace.length < 3) fail('namespace', 'Namespace is too short (minimum is 3 characters)', 'TOO_SHORT');
        if (namespace.length > 255) fail('namespace', 'Namespace is too long (maximum is 255 characters)', 'TOO_LONG');
        if (input.key.length < 2) fail('key', 'Key is too short (minimum is 2 characters)', 'TOO_SHORT');
        if (input.key.length > 64) fail('key', 'Key is too long (maximum is 64 characters)', 'TOO_LONG');
        const definition = owner ? api.metafields.definition(ctx.shop.domain, owner.type, namespace, input.key) : undefined;
        const existing = api.metafields.find(ctx.shop.domain, input.ownerId, namespace, input.key);
        const type = input.type ?? definition?.type ?? existing?.type;
        if (!type) fail('type', "Type can't be blank.", 'BLANK');
        else if (!METAFIELD_TYPES[type]) fail('type', `Type '${type}' is not a valid type.`, 'INVALID_TYPE');
        else if (definition && definition.type !== type) fail('type', `Type must be '${definition.type}' to match the definition.`, 'INVALID_TYPE');
        else {
          const problem = valueProblem(type, input.value);
          if (problem) fail('value', problem, 'INVALID_VALUE');
        }
        if (input.compareDigest !== undefined && input.compareDigest !== null && (!existing || compareDigest(existing) !== input.compareDigest)) {
          fail('compareDigest', 'The resource has been updated since it was loaded. Try again with an updated `compareDigest` value.', 'STALE_OBJECT');
        }
        return { ownerId: input.ownerId, ownerType: owner?.type ?? 'PRODUCT', namespace, key: input.key, type: type ?? '', value: input.value };
      });
      // All or nothing.
      if (errors.length) return { metafields: [], userErrors: track(ctx, 'metafieldsSet', args, errors) };
      const saved = prepared.map((p) => api.metafields.set(ctx.shop.domain, p as Parameters<Metafields['set']>[1]));
      return { metafields: saved.map(metafieldView), userErrors: track(ctx, 'metafieldsSet', args, []) };
    },

    metafieldDefinitionCreate: (
      args: {
        definition: {
          namespace?: string | null;
          key: string;
          name: string;
          description?: string | null;
          ownerType: string;
          type: string;
          pin?: boolean | null;
          access?: { admin?: 'MERCHANT_READ' | 'MERCHANT_READ_WRITE' | null; storefront?: 'NONE' | 'PUBLIC_READ' | null } | null;
        };
      },
      ctx: Ctx,
    ) => {
      const d = args.definition;
      const scope = d.ownerType === 'ORDER' ? 'write_orders' : 'write_products';
      requireScope(ctx, 'metafieldDefinitionCreate', scope);
      const namespace = resolveNamespace(d.namespace);
      const reserved = isAppReserved(namespace);
      const fail = (field: string, message: string, code: string) => ({
        createdDefinition: null,
        userErrors: track(ctx, 'metafieldDefinitionCreate', args, [{ field: ['definition', field], message, code }]),
      });
      if (!['PRODUCT', 'PRODUCTVARIANT', 'ORDER'].includes(d.ownerType)) return fail('ownerType', `Owner type ${d.ownerType} is not supported by the simulator.`, 'INCLUSION');
      if (!METAFIELD_TYPES[d.type]) return fail('type', `Type '${d.type}' is not a valid type.`, 'INCLUSION');
      if (!d.name.trim()) return fail('name', "Name can't be blank.", 'BLANK');
      if (d.key.length < 2) return fail('key', 'Key is too short (minimum is 2 characters)', 'TOO_SHORT');
      if (api.metafields.definition(ctx.shop.domain, d.ownerType as OwnerType, namespace, d.key)) {
        return fail('key', `Key is in use for ${d.ownerType.toLowerCase()} metafields on the '${namespace}' namespace.`, 'TAKEN');
      }
      // Access can only be set on an app's own reserved namespace (shopify.dev, "Ownership").
      if (d.access?.admin && !reserved) return fail('access', 'Admin access can only be specified on metafield definitions that have an app namespace.', 'INVALID');
      const pinned = d.pin ? api.metafields.listDefinitions(ctx.shop.domain, d.ownerType).filter((x) => x.pinnedPosition !== null).length + 1 : null;
      const created = api.metafields.addDefinition({
        shop: ctx.shop.domain,
        ownerType: d.ownerType as OwnerType,
        namespace,
        key: d.key,
        name: d.name,
        description: d.description ?? null,
        type: d.type,
        pinnedPosition: pinned,
        adminAccess: d.access?.admin ?? (reserved ? 'PRIVATE' : 'PUBLIC_READ_WRITE'),
        storefrontAccess: d.access?.storefront ?? 'NONE',
      });
      return { createdDefinition: definitionView(created), userErrors: track(ctx, 'metafieldDefinitionCreate', args, []) };
    },
    metafieldDefinitions: (args: PageArgs & { ownerType: string; namespace?: string | null; key?: string | null }, ctx: Ctx) => {
      requireScope(ctx, 'metafieldDefinitions', args.ownerType === 'ORDER' ? 'read_orders' : 'read_products');
      const list = api.metafields
        .listDefinitions(ctx.shop.domain, args.ownerType)
        .filter((d) => (!args.namespace || d.namespace === resolveNamespace(args.namespace)) && (!args.key || d.key === args.key));
      return paginate(args.reverse ? [...list].reverse() : list, args, definitionView);
    },

    tagsAdd: (args: { id: string; tags: string[] }, ctx: Ctx) => {
      const target = tagTarget(ctx, args.id, 'tagsAdd');
      if (!target) return { node: null, userErrors: track(ctx, 'tagsAdd', args, [{ field: ['id'], message: 'Resource does not exist' }]) };
      const tags = [...target.tags];
      for (const tag of splitTags(args.tags)) if (!tags.some((t) => t.toLowerCase() === tag.toLowerCase())) tags.push(tag);
      target.set(tags);
      return { node: target.view(), userErrors: track(ctx, 'tagsAdd', args, []) };
    },
    tagsRemove: (args: { id: string; tags: string[] }, ctx: Ctx) => {
      const target = tagTarget(ctx, args.id, 'tagsRemove');
      if (!target) return { node: null, userErrors: track(ctx, 'tagsRemove', args, [{ field: ['id'], message: 'Resource does not exist' }]) };
      const remove = splitTags(args.tags).map((t) => t.toLowerCase());
      target.set(target.tags.filter((t) => !remove.includes(t.toLowerCase())));
      return { node: target.view(), userErrors: track(ctx, 'tagsRemove', args, []) };
    },

    // Like Shopify: `note` and `tags`, when given, replace what is there (an app must read, merge,
    // write); fields left out are unchanged.
    orderUpdate: (args: { input: { id: string; note?: string | null; tags?: string[] | null; email?: string | null } }, ctx: Ctx) => {
      requireScope(ctx, 'orderUpdate', 'write_orders');
      const order = api.orders.get(ctx.shop.domain, args.input.id);
      if (!order) return { order: null, userErrors: track(ctx, 'orderUpdate', args, [{ field: ['id'], message: 'Order does not exist' }]) };
      if ('note' in args.input) order.note = args.input.note ?? null;
      if ('tags' in args.input) order.tags = splitTags(args.input.tags ?? []);
      if ('email' in args.input && args.input.email !== undefined) order.email = args.input.email;
      order.updatedAt = api.now().toISOString();
      api.onOrderUpdated(order);
      return { order: orderView(order), userErrors: track(ctx, 'orderUpdate', args, []) };
    },
  };

  function definitionView(d: MetafieldDefinitionRecord) {
    return {
      __typename: 'MetafieldDefinition',
      id: METAFIELD_DEFINITION_GID + d.id,
      name: d.name,
      namespace: d.namespace,
      key: d.key,
      description: d.description,
      ownerType: d.ownerType,
      type: { name: d.type, category: METAFIELD_TYPES[d.type] ?? 'TEXT' },
      pinnedPosition: d.pinnedPosition,
      access: { admin: d.adminAccess, storefront: d.storefrontAccess },
    };
  }
}

