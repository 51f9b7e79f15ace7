/**
 * The bench shop's catalog and its buyers' cart (issue 13: measure the payment path as a shop has it
 * now). Each shop of the benchmark (the floor's and each app's) gets these products in the Shopify
 * simulator before its server starts; the apps sync them to Flex (CatalogVariant rows with their Flex
 * price) before anything is measured, the floor makes one Flex product and price per variant up front.
 * Every benchmark payment is this cart: three lines, four items, no discount, shipping or tax, so its
 * total is the benchmark's amount (49.99) and the Flex checkout is three priced lines.
 */
export interface BenchProduct {
  title: string;
  price: string;
  barcode: string;
}

export const BENCH_PRODUCTS: BenchProduct[] = [
  { title: 'Digital Thermometer', price: '12.50', barcode: '00036000291452' },
  { title: 'Compression Bandage', price: '8.25', barcode: '00012345678905' },
  { title: 'Sunscreen SPF 50', price: '16.74', barcode: '00098765432109' },
];

/** The cart: (product index, quantity). 2 × 12.50 + 8.25 + 16.74 = 49.99. */
export const BENCH_CART: Array<{ product: number; quantity: number }> = [
  { product: 0, quantity: 2 },
  { product: 1, quantity: 1 },
  { product: 2, quantity: 1 },
];

/** A variant of a shop's bench catalog, as the floor needs it (its Flex price is made from this). */
export interface BenchVariant {
  variantId: string;
  title: string;
  unitAmountMinor: number;
}

/** The Admin API scopes the bench shops are installed with: the app's, without the pixel's (no pixel runs in the benchmark). */
export const BENCH_SHOP_SCOPES = ['read_products', 'write_products', 'read_orders', 'write_orders'];
