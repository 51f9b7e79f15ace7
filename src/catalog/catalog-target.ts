import type { FlexMode } from '@prisma/client';
import type { FlexConnectionWithSecrets } from '../db/repositories/flex-connections';
import type { ShopRecord } from '../db/repositories/shops';
import type { Transactor } from '../db/transactor';
import type { FlexClient } from '../flex/flex-client';
import type { Secret } from '../lib/secret';
import type { ShopifyAccessTokens } from '../shopify/access-tokens';
import type { PushTarget } from './push-to-flex';

export type CatalogTarget =
  | { ok: true; shop: ShopRecord; connection: FlexConnectionWithSecrets; token: Secret; target: PushTarget }
  /** Nothing to do until the merchant acts (no key for the mode, app uninstalled). */
  | { ok: false; stop: string }
  /** Not yet (the operator's shops:add stores the Shopify token just after the keys). */
  | { ok: false; retry: string };

/** The shop, its Flex key of `mode` and its Shopify token: what every catalog job works with. */
export async function catalogTarget(
  deps: { transactor: Transactor; flex: FlexClient; tokens: ShopifyAccessTokens },
  shopId: string,
  mode: FlexMode,
): Promise<CatalogTarget> {
  const { repos } = deps.transactor;
  const shop = await repos.shops.findById(shopId);
  if (!shop || shop.status !== 'ACTIVE') return { ok: false, stop: 'The app is not installed on this shop.' };
  const connection = await repos.flexConnections.find(shopId, mode);
  if (!connection) return { ok: false, stop: `No Flex ${mode === 'LIVE' ? 'live' : 'test'} key is connected.` };
  const token = await deps.tokens.forShop(shop.domain);
  if (!token) return { ok: false, retry: 'no Shopify access token for the shop yet' };
  return { ok: true, shop, connection, token, target: { shopId, shopDomain: shop.domain, mode, flex: deps.flex.forKey(connection.apiKey) } };
}

/** Shopify's refusal of a catalog or metafield call, in words a merchant can act on. */
export function describeShopifyRefusal(reason: string): string {
  if (/access denied|ACCESS_DENIED|access scope/i.test(reason)) {
    return `Shopify does not let the app read or write products (${reason}). Open the app from your Shopify admin to approve the access it asks for, then sync again.`;
  }
  return `Shopify refused the request: ${reason}`;
}
