// The floor of the catalog sync benchmark (bench/catalog-sync.ts): the least a process can do to
// mirror a Shopify catalog in Flex. It reads the same variant pages from the Admin API (same query,
// same page size) and makes the same two Flex calls per variant (product, then price, with
// Idempotency-Keys), as many in flight as the app, and nothing else: no database, no leases, no
// metafields, no retries. It prints {"variants":…,"ms":…} and exits.

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const SHOPIFY_URL = env('FLOOR_SHOPIFY_URL');
const SHOPIFY_TOKEN = env('FLOOR_SHOPIFY_TOKEN');
const FLEX_URL = env('FLOOR_FLEX_URL');
const FLEX_KEY = env('FLOOR_FLEX_KEY');
const PAGE_SIZE = Number(process.env.FLOOR_PAGE_SIZE ?? 100);
const CONCURRENCY = Number(process.env.FLOOR_CONCURRENCY ?? 4);

const QUERY = `query CatalogPage($first: Int!, $after: String) {
  shop { currencyCode }
  productVariants(first: $first, after: $after, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes { legacyResourceId title sku barcode price updatedAt product { legacyResourceId title handle descriptionHtml productType updatedAt } }
  }
}`;

interface Node {
  legacyResourceId: string;
  title: string;
  price: string;
  barcode: string | null;
  product: { title: string; handle: string };
}

async function flex(path: string, body: unknown, key: string): Promise<Record<string, any>> {
  const res = await fetch(`${FLEX_URL}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${FLEX_KEY}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`Flex ${path} answered ${res.status}`);
  return (await res.json()) as Record<string, any>;
}

async function main(): Promise<void> {
  const started = performance.now();
  let after: string | null = null;
  let variants = 0;
  for (;;) {
    const res = await fetch(SHOPIFY_URL, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': SHOPIFY_TOKEN },
      body: JSON.stringify({ query: QUERY, variables: { first: PAGE_SIZE, after } }),
    });
    const body = (await res.json()) as { data: { productVariants: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Node[] } } };
    const page = body.data.productVariants;
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < page.nodes.length) {
          const v = page.nodes[next++]!;
          const { product } = await flex('/v1/products', { product: { name: `${v.product.title} - ${v.title}`, url: `https://x/products/${v.product.handle}`, upc_code: v.barcode, client_reference_id: v.legacyResourceId } }, `floor-product-${v.legacyResourceId}`);
          const cents = Math.round(Number(v.price) * 100);
          await flex('/v1/prices', { price: { product: product.product_id, unit_amount: cents } }, `floor-price-${v.legacyResourceId}-${cents}`);
        }
      }),
    );
    variants += page.nodes.length;
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  process.stdout.write(`${JSON.stringify({ variants, ms: performance.now() - started })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
