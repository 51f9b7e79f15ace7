// Each shop's products and variants: what the Admin API reads, what checkouts are priced from, and the
// REST payloads of the products/* webhooks. Prices are kept in cents.
import { restMoney, toCents } from './money';

export const PRODUCT_GID = 'gid://shopify/Product/';
export const VARIANT_GID = 'gid://shopify/ProductVariant/';

export type ProductStatus = 'ACTIVE' | 'ARCHIVED' | 'DRAFT';

export interface VariantRecord {
  id: number;
  productId: number;
  title: string;
  sku: string | null;
  barcode: string | null;
  priceCents: number;
  compareAtPriceCents: number | null;
  position: number;
  taxable: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ProductRecord {
  shop: string;
  id: number;
  title: string;
  handle: string;
  descriptionHtml: string;
  status: ProductStatus;
  vendor: string;
  productType: string;
  tags: string[];
  createdAt: string;
  updatedAt: string;
  publishedAt: string | null;
  variants: VariantRecord[];
}

export interface VariantInput {
  /** Keep an existing variant (updates only); new variants get an id. */
  id?: number | string;
  title?: string;
  sku?: string | null;
  barcode?: string | null;
  /** Decimal string or number of the shop's currency ("12.50"). */
  price: string | number;
  compareAtPrice?: string | number | null;
  taxable?: boolean;
}

export interface ProductInput {
  title: string;
  /** HTML; `description` (plain text) is derived from it as on Shopify. */
  descriptionHtml?: string;
  /** Plain-text convenience: becomes `<p>…</p>` when `descriptionHtml` is not given. */
  description?: string;
  handle?: string;
  status?: ProductStatus | Lowercase<ProductStatus>;
  vendor?: string;
  productType?: string;
  tags?: string[];
  /** At least one; default a single "Default Title" variant priced 0. */
  variants?: VariantInput[];
}

export interface SeedCatalogInput {
  /** Total variants to create, spread over `products` (default: 4 variants per product). */
  variants: number;
  products?: number;
  /** Share (0–1) of products whose titles and barcodes look HSA/FSA-eligible (default 0.3). */
  eligibleShare?: number;
  /** Price range in cents (default 299–9999). */
  minPriceCents?: number;
  maxPriceCents?: number;
}

// Eligible-looking words and GS1 prefixes; Flex judges eligibility by itself, the simulator only
// makes catalogs that look realistic.
const ELIGIBLE_TITLES = ['Digital Thermometer', 'Blood Pressure Monitor', 'First Aid Kit', 'Reading Glasses', 'Sunscreen SPF 50', 'Contact Lens Solution', 'Knee Brace', 'Pulse Oximeter'];
const OTHER_TITLES = ['Cotton T-Shirt', 'Coffee Mug', 'Yoga Mat', 'Water Bottle', 'Canvas Tote', 'Scented Candle', 'Phone Case', 'Notebook'];
const VARIANT_TITLES = ['Small', 'Medium', 'Large', 'X-Large', 'Blue', 'Red', 'Black', 'White'];

export class Catalog {
  private readonly products = new Map<string, Map<number, ProductRecord>>();
  private readonly variants = new Map<string, Map<number, VariantRecord>>();
  // Ids look like Shopify's (13–14 digits) and only grow, so id order is creation order.
  private nextProductId = 8_000_000_000_000;
  private nextVariantId = 44_000_000_000_000;

  constructor(private readonly now: () => Date) {}

  private productsOf(shop: string): Map<number, ProductRecord> {
    let map = this.products.get(shop);
    if (!map) {
      map = new Map();
      this.products.set(shop, map);
      this.variants.set(shop, new Map());
    }
    return map;
  }

  private variantsOf(shop: string): Map<number, VariantRecord> {
    this.productsOf(shop);
    return this.variants.get(shop)!;
  }

  listProducts(shop: string): ProductRecord[] {
    return [...this.productsOf(shop).values()];
  }

  listVariants(shop: string): VariantRecord[] {
    return [...this.variantsOf(shop).values()];
  }

  product(shop: string, id: number | string): ProductRecord | undefined {
    return this.productsOf(shop).get(parseId(id, PRODUCT_GID));
  }

  variant(shop: string, id: number | string): VariantRecord | undefined {
    return this.variantsOf(shop).get(parseId(id, VARIANT_GID));
  }

  productCount(shop: string): number {
    return this.productsOf(shop).size;
  }

  variantCount(shop: string): number {
    return this.variantsOf(shop).size;
  }

  create(shop: string, input: ProductInput): ProductRecord {
    if (!input.title?.trim()) throw new Error('product title is required');
    const at = this.now().toISOString();
    const id = this.nextProductId++;
    const product: ProductRecord = {
      shop,
      id,
      title: input.title,
      handle: this.uniqueHandle(shop, input.handle ?? input.title, id),
      descriptionHtml: input.descriptionHtml ?? (input.description ? `<p>${escapeText(input.description)}</p>` : ''),
      status: normalizeStatus(input.status),
      vendor: input.vendor ?? shopVendor(shop),
      productType: input.productType ?? '',
      tags: input.tags ?? [],
      createdAt: at,
      updatedAt: at,
      publishedAt: normalizeStatus(input.status) === 'ACTIVE' ? at : null,
      variants: [],
    };
    const variants = input.variants?.length ? input.variants : [{ price: 0 }];
    product.variants = variants.map((v, i) => this.newVariant(product, v, i + 1, at));
    this.productsOf(shop).set(id, product);
    for (const v of product.variants) this.variantsOf(shop).set(v.id, v);
    return product;
  }

  /** Updates fields; `variants`, when given, is the full new list (inputs with an `id` keep that variant). */
  update(shop: string, id: number | string, patch: Partial<ProductInput>): ProductRecord {
    const product = this.product(shop, id);
    if (!product) throw Object.assign(new Error(`No product ${id} in ${shop}`), { status: 404 });
    const at = this.now().toISOString();
    if (patch.title !== undefined) product.title = patch.title;
    if (patch.handle !== undefined) product.handle = this.uniqueHandle(shop, patch.handle, product.id);
    if (patch.descriptionHtml !== undefined) product.descriptionHtml = patch.descriptionHtml;
    else if (patch.description !== undefined) product.descriptionHtml = `<p>${escapeText(patch.description)}</p>`;
    if (patch.status !== undefined) {
      product.status = normalizeStatus(patch.status);
      if (product.status === 'ACTIVE' && !product.publishedAt) product.publishedAt = at;
    }
    if (patch.vendor !== undefined) product.vendor = patch.vendor;
    if (patch.productType !== undefined) product.productType = patch.productType;
    if (patch.tags !== undefined) product.tags = patch.tags;
    if (patch.variants) {
      const byId = this.variantsOf(shop);
      const kept = new Set<number>();
      product.variants = patch.variants.map((input, i) => {
        const existingId = input.id === undefined ? undefined : parseId(input.id, VARIANT_GID);
        const existing = existingId === undefined ? undefined : byId.get(existingId);
        if (existing && existing.productId === product.id) {
          kept.add(existing.id);
          if (input.title !== undefined) existing.title = input.title;
          if (input.sku !== undefined) existing.sku = input.sku;
          if (input.barcode !== undefined) existing.barcode = input.barcode;
          existing.priceCents = toCents(input.price);
          if (input.compareAtPrice !== undefined) existing.compareAtPriceCents = input.compareAtPrice === null ? null : toCents(input.compareAtPrice);
          if (input.taxable !== undefined) existing.taxable = input.taxable;
          existing.position = i + 1;
          existing.updatedAt = at;
          return existing;
        }
        const created = this.newVariant(product, input, i + 1, at);
        kept.add(created.id);
        byId.set(created.id, created);
        return created;
      });
      for (const [variantId, variant] of byId) {
        if (variant.productId === product.id && !kept.has(variantId)) byId.delete(variantId);
      }
    }
    product.updatedAt = at;
    return product;
  }

  delete(shop: string, id: number | string): ProductRecord | undefined {
    const product = this.product(shop, id);
    if (!product) return undefined;
    this.productsOf(shop).delete(product.id);
    for (const v of product.variants) this.variantsOf(shop).delete(v.id);
    return product;
  }

  /** Many products at once, no webhooks: for catalog-sync tests and benchmarks. */
  seed(shop: string, input: SeedCatalogInput): { products: number; variants: number } {
    const total = Math.max(0, Math.floor(input.variants));
    const productCount = Math.max(1, Math.min(total || 1, Math.floor(input.products ?? Math.ceil(total / 4))));
    const eligibleShare = input.eligibleShare ?? 0.3;
    const min = input.minPriceCents ?? 299;
    const max = Math.max(min, input.maxPriceCents ?? 9999);
    const at = this.now().toISOString();
    const products = this.productsOf(shop);
    const variants = this.variantsOf(shop);
    let made = 0;
    for (let p = 0; p < productCount; p++) {
      const perProduct = Math.floor(total / productCount) + (p < total % productCount ? 1 : 0);
      const eligible = (p * 9973) % 1000 < eligibleShare * 1000; // spread evenly, deterministic
      const names = eligible ? ELIGIBLE_TITLES : OTHER_TITLES;
      const id = this.nextProductId++;
      const title = `${names[p % names.length]} ${p + 1}`;
      const product: ProductRecord = {
        shop,
        id,
        title,
        handle: slug(title),
        descriptionHtml: '',
        status: 'ACTIVE',
        vendor: shopVendor(shop),
        productType: eligible ? 'Health' : 'Goods',
        tags: [],
        createdAt: at,
        updatedAt: at,
        publishedAt: at,
        variants: [],
      };
      for (let v = 0; v < perProduct; v++) {
        const variant: VariantRecord = {
          id: this.nextVariantId++,
          productId: id,
          title: perProduct === 1 ? 'Default Title' : VARIANT_TITLES[v % VARIANT_TITLES.length]!,
          sku: `SKU-${p + 1}-${v + 1}`,
          // Eligible-looking items carry a UPC-A barcode; others mostly none.
          barcode: eligible ? upc(id + v) : v % 3 === 0 ? upc(id * 7 + v) : null,
          priceCents: min + ((p * 131 + v * 17) % (max - min + 1)),
          compareAtPriceCents: null,
          position: v + 1,
          taxable: true,
          createdAt: at,
          updatedAt: at,
        };
        product.variants.push(variant);
        variants.set(variant.id, variant);
        made += 1;
      }
      products.set(id, product);
    }
    return { products: productCount, variants: made };
  }

  private newVariant(product: ProductRecord, input: VariantInput, position: number, at: string): VariantRecord {
    return {
      id: this.nextVariantId++,
      productId: product.id,
      title: input.title ?? 'Default Title',
      sku: input.sku ?? null,
      barcode: input.barcode ?? null,
      priceCents: toCents(input.price),
      compareAtPriceCents: input.compareAtPrice === undefined || input.compareAtPrice === null ? null : toCents(input.compareAtPrice),
      position,
      taxable: input.taxable ?? true,
      createdAt: at,
      updatedAt: at,
    };
  }

  private uniqueHandle(shop: string, wanted: string, selfId: number): string {
    const base = slug(wanted) || `product-${selfId}`;
    const taken = new Set(this.listProducts(shop).filter((p) => p.id !== selfId).map((p) => p.handle));
    if (!taken.has(base)) return base;
    for (let n = 1; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
  }
}

export function parseId(id: number | string, gidPrefix: string): number {
  if (typeof id === 'number') return id;
  const text = id.startsWith(gidPrefix) ? id.slice(gidPrefix.length) : id;
  return /^\d+$/.test(text) ? Number(text) : NaN;
}

function normalizeStatus(status: string | undefined): ProductStatus {
  const upper = (status ?? 'ACTIVE').toUpperCase();
  if (upper !== 'ACTIVE' && upper !== 'ARCHIVED' && upper !== 'DRAFT') throw new Error(`Unknown product status ${status}`);
  return upper;
}

function shopVendor(shop: string): string {
  return shop.replace(/\.myshopify\.com$/, '');
}

export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Plain text of the HTML description, as Product.description is. */
export function plainText(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A 12-digit UPC-A with a valid check digit. */
function upc(seed: number): string {
  const digits = String(seed % 100_000_000_000).padStart(11, '0');
  let sum = 0;
  for (let i = 0; i < 11; i++) sum += Number(digits[i]) * (i % 2 === 0 ? 3 : 1);
  return digits + ((10 - (sum % 10)) % 10);
}

/**
 * REST product payload of products/create and products/update (shopify.dev webhook reference, topic
 * products/create; the REST Product resource).
 */
export function productWebhookPayload(product: ProductRecord, variantLimit: number | null = null): Record<string, unknown> {
  return {
    admin_graphql_api_id: PRODUCT_GID + product.id,
    body_html: product.descriptionHtml,
    created_at: product.createdAt,
    handle: product.handle,
    id: product.id,
    product_type: product.productType,
    published_at: product.publishedAt,
    template_suffix: null,
    title: product.title,
    updated_at: product.updatedAt,
    vendor: product.vendor,
    status: product.status.toLowerCase(),
    published_scope: 'web',
    tags: product.tags.join(', '),
    variants: product.variants.slice(0, variantLimit ?? undefined).map((v) => ({
      admin_graphql_api_id: VARIANT_GID + v.id,
      barcode: v.barcode,
      compare_at_price: v.compareAtPriceCents === null ? null : restMoney(v.compareAtPriceCents),
      created_at: v.createdAt,
      id: v.id,
      inventory_policy: 'deny',
      position: v.position,
      price: restMoney(v.priceCents),
      product_id: product.id,
      sku: v.sku,
      taxable: v.taxable,
      title: v.title,
      updated_at: v.updatedAt,
      option1: v.title,
      option2: null,
      option3: null,
      image_id: null,
      inventory_item_id: null,
      inventory_quantity: 0,
      old_inventory_quantity: 0,
    })),
    options: [{ name: 'Title', position: 1, values: product.variants.map((v) => v.title) }],
    images: [],
    image: null,
    media: [],
    variant_gids: product.variants.map((v) => ({ admin_graphql_api_id: VARIANT_GID + v.id, updated_at: v.updatedAt })),
    has_variants_that_requires_components: false,
    category: null,
  };
}
