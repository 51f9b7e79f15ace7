import { z } from 'zod';
import type { Secret } from '../lib/secret';
import type { AdminCost, AdminOutcome, MetafieldInput, ShopifyAdminClient } from './admin-api-client';

export type { MetafieldInput } from './admin-api-client';

/**
 * The Admin API calls of the catalog sync: variant pages, the shop's currency, eligibility metafields
 * and their definitions. Field names are Shopify's (shopify.dev, Admin GraphQL 2025-01 … 2026-10);
 * the simulator validates every document against them. Calls go through the one Admin API client
 * (admin-api-client.ts), which keeps each shop's cost bucket.
 */

/** What a catalog call came to: the parsed value with the answer's cost, or the client's retry or failure. */
export type CatalogOutcome<T> = { kind: 'data'; value: T; cost: AdminCost | undefined } | Exclude<AdminOutcome<unknown>, { kind: 'data' }>;

/** What one page of `first` variants is expected to cost: each variant and its product, plus the shop. */
export function catalogPageCost(first: number): number {
  return 3 + 2 * first;
}

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

export class ShopifyCatalogApi {
  constructor(private readonly client: ShopifyAdminClient) {}

  /** One page of the shop's variants in id order, each with its product; `query` narrows it (search syntax). */
  async catalogPage(shopDomain: string, accessToken: Secret, page: { first: number; after: string | null; query?: string }): Promise<CatalogOutcome<AdminCatalogPage>> {
    const outcome = await this.client.request(shopDomain, accessToken, CATALOG_PAGE, { first: page.first, after: page.after, query: page.query ?? null }, catalogPageCost(page.first));
    if (outcome.kind !== 'data') return outcome;
    const parsed = catalogPageSchema.safeParse(outcome.data);
    if (!parsed.success) return { kind: 'retry', reason: `Shopify answered the catalog page with an unexpected shape: ${parsed.error.issues[0]?.message ?? ''}` };
    const { shop, productVariants } = parsed.data;
    return {
      kind: 'data',
      cost: outcome.cost,
      value: { currencyCode: shop.currencyCode, variants: productVariants.nodes, hasNextPage: productVariants.pageInfo.hasNextPage, endCursor: productVariants.pageInfo.endCursor ?? null },
    };
  }

  async shopCurrency(shopDomain: string, accessToken: Secret): Promise<CatalogOutcome<string>> {
    const outcome = await this.client.request<{ shop?: { currencyCode?: unknown } }>(shopDomain, accessToken, SHOP_CURRENCY, {}, 1);
    if (outcome.kind !== 'data') return outcome;
    const currency = outcome.data.shop?.currencyCode;
    if (typeof currency !== 'string') return { kind: 'retry', reason: 'Shopify answered without shop.currencyCode' };
    return { kind: 'data', value: currency, cost: outcome.cost };
  }

  /** Sets up to 25 metafields, all or nothing (Shopify's rule); user errors name the element. */
  async setMetafields(shopDomain: string, accessToken: Secret, metafields: MetafieldInput[]): Promise<CatalogOutcome<{ userErrors: AdminUserError[] }>> {
    if (metafields.length > METAFIELDS_PER_CALL) throw new RangeError(`metafieldsSet takes at most ${METAFIELDS_PER_CALL} metafields, got ${metafields.length}`);
    const outcome = await this.client.request<{ metafieldsSet?: { userErrors?: unknown } }>(shopDomain, accessToken, METAFIELDS_SET, { metafields }, 10);
    if (outcome.kind !== 'data') return outcome;
    const errors = userErrorsSchema.safeParse(outcome.data.metafieldsSet?.userErrors);
    if (!errors.success) return { kind: 'retry', reason: 'Shopify answered metafieldsSet without userErrors' };
    return { kind: 'data', value: { userErrors: errors.data }, cost: outcome.cost };
  }

  /**
   * Creates metafield definitions (so the values show, typed, in the admin), one aliased mutation
   * each in one call. A definition that exists already comes back as a TAKEN user error.
   */
  async createMetafieldDefinitions(shopDomain: string, accessToken: Secret, definitions: MetafieldDefinitionInput[]): Promise<CatalogOutcome<{ userErrors: AdminUserError[][] }>> {
    const variables = Object.fromEntries(definitions.map((d, i) => [`d${i}`, d]));
    const document = `mutation EligibilityMetafieldDefinitions(${definitions.map((_, i) => `$d${i}: MetafieldDefinitionInput!`).join(', ')}) {
${definitions.map((_, i) => `  d${i}: metafieldDefinitionCreate(definition: $d${i}) { createdDefinition { id } userErrors { field message code } }`).join('\n')}
}`;
    const outcome = await this.client.request<Record<string, { userErrors?: unknown } | undefined>>(shopDomain, accessToken, document, variables, 10 * definitions.length);
    if (outcome.kind !== 'data') return outcome;
    const userErrors: AdminUserError[][] = [];
    for (let i = 0; i < definitions.length; i++) {
      const errors = userErrorsSchema.safeParse(outcome.data[`d${i}`]?.userErrors);
      if (!errors.success) return { kind: 'retry', reason: 'Shopify answered metafieldDefinitionCreate without userErrors' };
      userErrors.push(errors.data);
    }
    return { kind: 'data', value: { userErrors }, cost: outcome.cost };
  }
}
