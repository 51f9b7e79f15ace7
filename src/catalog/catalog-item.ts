import { z } from 'zod';
import type { DesiredVariant } from '../db/repositories/catalog-variants';
import type { FlexProductInput } from '../flex/flex-client';
import { parseDecimalAmount } from '../lib/money';
import type { AdminCatalogVariant } from '../shopify/admin-catalog';

/**
 * One Shopify variant as the catalog sync mirrors it in Flex, built the same way from an Admin API
 * page and from a products/* webhook (the REST product), so that the two never disagree about what
 * Flex should show: the description is the product's HTML made plain text here (not Shopify's
 * `description`, which webhooks do not carry), and the URL is built from the handle (webhooks carry
 * no `onlineStoreUrl`).
 */
export type CatalogItem = DesiredVariant;

/** What Flex gets to read about a product: enough for its eligibility pipeline, bounded in size. */
export const DESCRIPTION_LIMIT = 2_000;
const TITLE_LIMIT = 255;

export type ItemResult = { ok: true; item: CatalogItem } | { ok: false; variantId: string; problem: string };

export function itemFromAdminVariant(shopDomain: string, currency: string, node: AdminCatalogVariant): ItemResult {
  return buildItem(shopDomain, currency, {
    productId: node.product.legacyResourceId,
    variantId: node.legacyResourceId,
    productTitle: node.product.title,
    variantTitle: node.title,
    handle: node.product.handle,
    descriptionHtml: node.product.descriptionHtml ?? '',
    productType: node.product.productType ?? null,
    sku: node.sku ?? null,
    barcode: node.barcode ?? null,
    price: node.price,
    updatedAt: node.product.updatedAt,
  });
}

/** The REST product of products/create and products/update (the fields the sync reads). */
export const restProductSchema = z.looseObject({
  id: z.number().int().positive(),
  title: z.string(),
  handle: z.string(),
  body_html: z.string().nullish(),
  product_type: z.string().nullish(),
  updated_at: z.string(),
  variants: z.array(
    z.looseObject({
      id: z.number().int().positive(),
      product_id: z.number().int().positive().nullish(),
      title: z.string(),
      sku: z.string().nullish(),
      barcode: z.string().nullish(),
      price: z.string(),
    }),
  ),
  // Every variant of the product, also when `variants` holds only some of them.
  variant_gids: z.array(z.looseObject({ admin_graphql_api_id: z.string() })).nullish(),
});
export type RestProduct = z.infer<typeof restProductSchema>;

export function itemsFromRestProduct(shopDomain: string, currency: string, product: RestProduct): ItemResult[] {
  return product.variants.map((v) =>
    buildItem(shopDomain, currency, {
      productId: String(product.id),
      variantId: String(v.id),
      productTitle: product.title,
      variantTitle: v.title,
      handle: product.handle,
      descriptionHtml: product.body_html ?? '',
      productType: product.product_type ?? null,
      sku: v.sku ?? null,
      barcode: v.barcode ?? null,
      price: v.price,
      updatedAt: product.updated_at,
    }),
  );
}

/** The numeric ids of every variant the product has (from `variant_gids` when Shopify sends it). */
export function allVariantIdsOf(product: RestProduct): string[] {
  if (!product.variant_gids) return product.variants.map((v) => String(v.id));
  return product.variant_gids.map((g) => g.admin_graphql_api_id.replace(/^gid:\/\/shopify\/ProductVariant\//, ''));
}

interface RawVariant {
  productId: string;
  variantId: string;
  productTitle: string;
  variantTitle: string;
  handle: string;
  descriptionHtml: string;
  productType: string | null;
  sku: string | null;
  barcode: string | null;
  price: string;
  updatedAt: string;
}

function buildItem(shopDomain: string, currency: string, raw: RawVariant): ItemResult {
  const price = parseDecimalAmount(raw.price.trim(), currency);
  if (!price.ok) return { ok: false, variantId: raw.variantId, problem: `price ${price.reason}` };
  const updatedAt = new Date(raw.updatedAt);
  if (Number.isNaN(updatedAt.getTime())) return { ok: false, variantId: raw.variantId, problem: `updated_at "${raw.updatedAt}" is not a date` };
  const productTitle = raw.productTitle.trim() || `Product ${raw.productId}`;
  const variantTitle = raw.variantTitle.trim();
  // Shopify calls the only variant of a product without options "Default Title".
  const title = variantTitle && variantTitle !== 'Default Title' ? `${productTitle} - ${variantTitle}` : productTitle;
  return {
    ok: true,
    item: {
      shopifyProductId: raw.productId,
      shopifyVariantId: raw.variantId,
      title: title.slice(0, TITLE_LIMIT),
      productTitle,
      variantTitle,
      description: plainText(raw.descriptionHtml).slice(0, DESCRIPTION_LIMIT),
      productUrl: `https://${shopDomain}/products/${encodeURIComponent(raw.handle)}`,
      productType: raw.productType?.trim() || null,
      sku: raw.sku?.trim() || null,
      barcode: raw.barcode?.trim() || null,
      priceMinor: price.minor,
      currency,
      shopifyUpdatedAt: updatedAt,
    },
  };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

/** The words of an HTML description: tags and scripts out, common entities decoded, spaces collapsed. */
export function plainText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#39|[a-z]+);/gi, (whole, name: string) => ENTITIES[name.toLowerCase()] ?? whole)
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The barcode as Flex's product codes. Flex matches GTIN/UPC against its eligibility lists; a 12-digit
 * code is a UPC-A (`upc_code`), 8, 13 and 14 digits are GTINs (`gtin`). Anything else (a store's own
 * code) is not a GTIN and is left out rather than sent as one; it stays in the metadata.
 */
export function productCodes(barcode: string | null): { upc_code: string | null; gtin: string | null } {
  const digits = barcode?.replace(/[\s-]/g, '') ?? '';
  if (!/^\d+$/.test(digits)) return { upc_code: null, gtin: null };
  if (digits.length === 12) return { upc_code: digits, gtin: null };
  if (digits.length === 8 || digits.length === 13 || digits.length === 14) return { upc_code: null, gtin: digits };
  return { upc_code: null, gtin: null };
}

/** Flex's product for a variant: name, description, URL, codes, type; our reference and Shopify's ids. */
export function flexProductFor(
  shopDomain: string,
  v: Pick<CatalogItem, 'shopifyProductId' | 'shopifyVariantId' | 'title' | 'description' | 'productType' | 'sku' | 'barcode'> & { productUrl: string | null },
): FlexProductInput {
  const metadata: Record<string, string> = {
    shopify_shop_domain: shopDomain,
    shopify_product_id: v.shopifyProductId,
    shopify_variant_id: v.shopifyVariantId,
  };
  if (v.sku) metadata.shopify_sku = v.sku;
  if (v.barcode) metadata.shopify_barcode = v.barcode;
  return {
    name: v.title,
    description: v.description,
    url: v.productUrl,
    ...productCodes(v.barcode),
    categories: v.productType ? [v.productType] : [],
    client_reference_id: flexProductReference(shopDomain, v.shopifyVariantId),
    metadata,
  };
}

export function flexProductReference(shopDomain: string, shopifyVariantId: string): string {
  return `shopify:${shopDomain}:variant:${shopifyVariantId}`;
}
