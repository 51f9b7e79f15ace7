import { z } from 'zod';
import type { Logger } from '../lib/logger';
import type { Secret } from '../lib/secret';
import { shopifyGraphql, type GraphqlOutcome } from './graphql-transport';
import { shopifyUrl } from './shopify-url';

/**
 * The Admin GraphQL API (`/admin/api/{version}/graphql.json`) for the catalog sync: variant pages,
 * the shop's currency, eligibility metafields and their definitions. Field names are Shopify's
 * (shopify.dev, Admin GraphQL 2025-01 … 2026-10); the simulator validates every document against them.
 *
 * Outcomes are the transport's (graphql-transport.ts): `retry` for what passes (network, 5xx, 429,
 * THROTTLED, with how long to wait), `failed` for what a retry cannot fix (a missing access scope,
 * a document Shopify refuses).
 */

/** `extensions.cost` of an answer: what the query cost and what the shop's bucket holds now. */
export interface AdminCost {
  requestedQueryCost?: number;
  actualQueryCost?: number | null;
  throttleStatus?: { maximumAvailable?: number; currentlyAvailable?: number; restoreRate?: number };
}

export type AdminOutcome<T> =
  | { kind: 'data'; value: T; cost: AdminCost | undefined }
  | Exclude<GraphqlOutcome, { kind: 'data' }>;

const CATALOG_PAGE = `query CatalogPage($first: Int!, $after: String, $query: String) {
  shop { currencyCode }
  productVariants(first: $first, after: $after, query: $query, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      legacyResourceId title sku barcode price updatedAt
      product { legacyResourceId title handle descriptionHtml productType updatedAt }
    }
  }
}`;

const SHOP_CURRENCY = 'query ShopCurrency { shop { currencyCode } }';

// Only userErrors is selected: the mutation's own cost (10) is all it costs.
const METAFIELDS_SET = `mutation SetMetafields($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { userErrors { field message code elementIndex } }
}`;

const variantNodeSchema = z.looseObject({
  legacyResourceId: z.string(),
  title: z.string(),
  sku: z.string().nullish(),
  barcode: z.string().nullish(),
  price: z.string(),
  updatedAt: z.string(),
  product: z.looseObject({
    legacyResourceId: z.string(),
    title: z.string(),
    handle: z.string(),
    descriptionHtml: z.string().nullish(),
    productType: z.string().nullish(),
    updatedAt: z.string(),
  }),
});
export type AdminCatalogVariant = z.infer<typeof variantNodeSchema>;

const catalogPageSchema = z.object({
  shop: z.object({ currencyCode: z.string() }),
  productVariants: z.object({
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullish() }),
    nodes: z.array(variantNodeSchema),
  }),
});

export interface AdminCatalogPage {
  currencyCode: string;
  variants: AdminCatalogVariant[];
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface MetafieldInput {
  ownerId: string;
  namespace: string;
  key: string;
  type: string;
  value: string;
}

export interface MetafieldDefinitionInput {
  namespace: string;
  key: string;
  name: string;
  description: string;
  ownerType: 'PRODUCT' | 'PRODUCTVARIANT';
  type: string;
  /** Shown on the product's page in the admin (a shop has a limited number of pinned definitions). */
  pin?: boolean;
}

export interface AdminUserError {
  field?: string[] | null;
  message: string;
  code?: string | null;
  elementIndex?: number | null;
}

const userErrorsSchema = z.array(
  z.looseObject({ field: z.array(z.string()).nullish(), message: z.string(), code: z.string().nullish(), elementIndex: z.number().int().nullish() }),
);

/** The most `metafieldsSet` takes in one call (shopify.dev: "maximum of 25 metafields"). */
export const METAFIELDS_PER_CALL = 25;

export interface AdminApiClientOptions {
  apiVersion: string;
  apiOrigin: string | undefined;
  timeoutMs: number;
  logger: Logger;
  fetch?: typeof fetch;
}

export class ShopifyAdminApiClient {
  constructor(private readonly options: AdminApiClientOptions) {}

  /** One page of the shop's variants in id order, each with its product; `query` narrows it (search syntax). */
  async catalogPage(shopDomain: string, accessToken: Secret, page: { first: number; after: string | null; query?: string }): Promise<AdminOutcome<AdminCatalogPage>> {
    const outcome = await this.call(shopDomain, accessToken, CATALOG_PAGE, { first: page.first, after: page.after, query: page.query ?? null });
    if (outcome.kind !== 'data') return outcome;
    const parsed = catalogPageSchema.safeParse(outcome.data);
    if (!parsed.success) return { kind: 'retry', reason: `Shopify answered the catalog page with an unexpected shape: ${parsed.error.issues[0]?.message ?? ''}` };
    const { shop, productVariants } = parsed.data;
    return {
      kind: 'data',
      cost: costOf(outcome.extensions),
      value: { currencyCode: shop.currencyCode, variants: productVariants.nodes, hasNextPage: productVariants.pageInfo.hasNextPage, endCursor: productVariants.pageInfo.endCursor ?? null },
    };
  }

  async shopCurrency(shopDomain: string, accessToken: Secret): Promise<AdminOutcome<string>> {
    const outcome = await this.call(shopDomain, accessToken, SHOP_CURRENCY, {});
    if (outcome.kind !== 'data') return outcome;
    const currency = (outcome.data.shop as { currencyCode?: unknown } | undefined)?.currencyCode;
    if (typeof currency !== 'string') return { kind: 'retry', reason: 'Shopify answered without shop.currencyCode' };
    return { kind: 'data', value: currency, cost: costOf(outcome.extensions) };
  }

  /** Sets up to 25 metafields, all or nothing (Shopify's rule); user errors name the element. */
  async setMetafields(shopDomain: string, accessToken: Secret, metafields: MetafieldInput[]): Promise<AdminOutcome<{ userErrors: AdminUserError[] }>> {
    if (metafields.length > METAFIELDS_PER_CALL) throw new RangeError(`metafieldsSet takes at most ${METAFIELDS_PER_CALL} metafields, got ${metafields.length}`);
    const outcome = await this.call(shopDomain, accessToken, METAFIELDS_SET, { metafields });
    if (outcome.kind !== 'data') return outcome;
    const errors = userErrorsSchema.safeParse((outcome.data.metafieldsSet as { userErrors?: unknown } | undefined)?.userErrors);
    if (!errors.success) return { kind: 'retry', reason: 'Shopify answered metafieldsSet without userErrors' };
    return { kind: 'data', value: { userErrors: errors.data }, cost: costOf(outcome.extensions) };
  }

  /**
   * Creates metafield definitions (so the values show, typed, in the admin), one aliased mutation
   * each in one call. A definition that exists already comes back as a TAKEN user error.
   */
  async createMetafieldDefinitions(shopDomain: string, accessToken: Secret, definitions: MetafieldDefinitionInput[]): Promise<AdminOutcome<{ userErrors: AdminUserError[][] }>> {
    const variables = Object.fromEntries(definitions.map((d, i) => [`d${i}`, d]));
    const document = `mutation EligibilityMetafieldDefinitions(${definitions.map((_, i) => `$d${i}: MetafieldDefinitionInput!`).join(', ')}) {
${definitions.map((_, i) => `  d${i}: metafieldDefinitionCreate(definition: $d${i}) { createdDefinition { id } userErrors { field message code } }`).join('\n')}
}`;
    const outcome = await this.call(shopDomain, accessToken, document, variables);
    if (outcome.kind !== 'data') return outcome;
    const userErrors: AdminUserError[][] = [];
    for (let i = 0; i < definitions.length; i++) {
      const errors = userErrorsSchema.safeParse((outcome.data[`d${i}`] as { userErrors?: unknown } | undefined)?.userErrors);
      if (!errors.success) return { kind: 'retry', reason: 'Shopify answered metafieldDefinitionCreate without userErrors' };
      userErrors.push(errors.data);
    }
    return { kind: 'data', value: { userErrors }, cost: costOf(outcome.extensions) };
  }

  private async call(shopDomain: string, accessToken: Secret, document: string, variables: Record<string, unknown>): Promise<GraphqlOutcome> {
    const outcome = await shopifyGraphql({
      url: shopifyUrl(shopDomain, `/admin/api/${this.options.apiVersion}/graphql.json`, this.options.apiOrigin),
      accessToken,
      document,
      variables,
      timeoutMs: this.options.timeoutMs,
      fetch: this.options.fetch,
    });
    if (outcome.kind === 'retry' && !outcome.throttled) {
      this.options.logger.warn({ shopify: { shop: shopDomain, reason: outcome.reason } }, 'Shopify Admin API call will be retried');
    }
    return outcome;
  }
}

function costOf(extensions: Record<string, unknown> | undefined): AdminCost | undefined {
  const cost = extensions?.cost;
  return cost && typeof cost === 'object' ? (cost as AdminCost) : undefined;
}

/**
 * How long to wait before a query of `nextCost` points fits in the shop's bucket (0 when it fits
 * now), from the throttle status of the last answer: the next page is scheduled then instead of
 * being sent to be throttled.
 */
export function waitForBucketMs(cost: AdminCost | undefined, nextCost: number): number {
  const status = cost?.throttleStatus;
  if (!status?.restoreRate || status.currentlyAvailable === undefined) return 0;
  const missing = nextCost - status.currentlyAvailable;
  return missing <= 0 ? 0 : Math.ceil((missing / status.restoreRate) * 1000);
}
