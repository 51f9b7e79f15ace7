import type { FlexConnectionRepository, FlexConnectionWithSecrets } from '../db/repositories/flex-connections';
import { toDecimalString } from '../lib/money';
import type { FlexAccountClient } from './flex-client';

/**
 * Until products and carts are synced, a Shopify payment goes to Flex as one line item: the shop's
 * catch-all product at a price of exactly the amount due. Flex prices are immutable, so there is
 * one price per amount, created on first use and reused after that.
 *
 * Flex judges HSA/FSA eligibility per product, and this product carries no GTIN/UPC, so Flex will
 * mostly treat it as not eligible: buyers can still pay by regular card (README, assumptions).
 */
export class CatchAllCatalog {
  /**
   * Prices never change once made, so they are kept in memory too. The key includes the product:
   * a new Flex key (possibly another account) gets a new catch-all product, and so new keys here.
   */
  private readonly known = new Map<string, string>();
  private static readonly MAX_KNOWN = 10_000;

  constructor(private readonly connections: FlexConnectionRepository) {}

  async priceFor(
    connection: FlexConnectionWithSecrets,
    flex: FlexAccountClient,
    shopDomain: string,
    amountMinor: number,
    currency: string,
  ): Promise<string> {
    const memoKey = connection.catchAllProductId ? this.memoKey(connection, connection.catchAllProductId, currency, amountMinor) : undefined;
    const memo = memoKey ? this.known.get(memoKey) : undefined;
    if (memo) return memo;
    const cached = await this.connections.findCatchAllPrice(connection.id, currency, amountMinor);
    if (cached) return this.remember(memoKey, cached);

    const productId = connection.catchAllProductId ?? (await this.createProduct(connection, flex, shopDomain));
    const price = await flex.createPrice(
      { product: productId, unit_amount: amountMinor, description: `Shopify order, ${toDecimalString(amountMinor, currency)} ${currency}` },
      // Deterministic, so a retry after a lost response finds the price Flex already made; with the
      // generation, so a price made again after Flex deactivated one is new, not that one replayed.
      `catch-all-price:${productId}:${currency}:${amountMinor}:g${connection.catchAllPriceGeneration}`,
    );
    const saved = await this.connections.saveCatchAllPrice(connection.id, currency, amountMinor, price.price_id);
    return this.remember(this.memoKey(connection, productId, currency, amountMinor), saved);
  }

  /** Drops a cached price Flex no longer knows (price_not_found), so the next call recreates it. */
  async forgetPrice(connection: FlexConnectionWithSecrets, amountMinor: number, currency: string): Promise<void> {
    if (connection.catchAllProductId) this.known.delete(this.memoKey(connection, connection.catchAllProductId, currency, amountMinor));
    await this.connections.deleteCatchAllPrice(connection.id, currency, amountMinor);
    connection.catchAllPriceGeneration = await this.connections.nextCatchAllPriceGeneration(connection.id);
  }

  private memoKey(connection: FlexConnectionWithSecrets, productId: string, currency: string, amountMinor: number): string {
    return `${connection.id}:${productId}:${currency}:${amountMinor}`;
  }

  private remember(key: string | undefined, priceId: string): string {
    if (!key) return priceId;
    if (this.known.size >= CatchAllCatalog.MAX_KNOWN) this.known.clear();
    this.known.set(key, priceId);
    return priceId;
  }

  private async createProduct(connection: FlexConnectionWithSecrets, flex: FlexAccountClient, shopDomain: string): Promise<string> {
    const product = await flex.createProduct(
      {
        name: `Order at ${shopDomain}`,
        description: `Shopify order paid with Flex at ${shopDomain}`,
        client_reference_id: `shopify:${shopDomain}:catch-all`,
        metadata: { shopify_shop_domain: shopDomain, purpose: 'catch-all' },
      },
      `catch-all-product:${connection.shopId}:${connection.mode}`,
    );
    await this.connections.setCatchAllProduct(connection.id, product.product_id);
    connection.catchAllProductId = product.product_id;
    return product.product_id;
  }
}
