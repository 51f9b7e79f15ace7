import { Prisma, type FlexConnection, type FlexMode, type ShopStatus } from '@prisma/client';
import type { DbClient } from '../db-client';
import type { ShopDomain, ShopId } from '../../lib/ids';
import { Secret } from '../../lib/secret';
import type { SecretBox } from '../../lib/secret-box';
import { secretContexts } from '../../lib/secret-contexts';
import type { SqlRunner } from '../sql';

export type { FlexMode } from '@prisma/client';

/** A shop's Flex account for one mode, with its secrets decrypted (they print as "[redacted]"). */
export interface FlexConnectionWithSecrets {
  id: string;
  shopId: string;
  mode: FlexMode;
  apiKey: Secret;
  apiKeyHint: string;
  webhookEndpointId: string | null;
  webhookSecret: Secret | null;
  /** The signing secret as stored (encrypted): what names the secret a webhook was verified with (NewFlexWebhookDelivery). */
  webhookSecretCiphertext: string | null;
  catchAllProductId: string | null;
  keyRejectedAt: Date | null;
  catchAllPriceGeneration: number;
  verifiedAt: Date;
}

/** A shop and its Flex connection for one mode (null when that mode is not connected). */
export interface ShopWithConnection {
  shop: { id: ShopId; domain: ShopDomain; status: ShopStatus };
  connection: FlexConnectionWithSecrets | null;
}

export interface SaveFlexConnection {
  shopId: string;
  mode: FlexMode;
  apiKey: string;
  apiKeyHint: string;
  webhookEndpointId: string;
  webhookSecret: string;
  verifiedAt: Date;
}

/**
 * The shop and its connection of one mode, joined to the rows of another repository's statement that
 * names the shop (the pay page's claim, payment-sessions.ts): `LEFT JOIN LATERAL` SQL adding columns
 * named shop_row_* and connection_row_*, which FlexConnectionRepository.shopWithConnectionOf reads.
 */
export function joinShopWithConnectionSql(shopId: Prisma.Sql, mode: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`LEFT JOIN LATERAL (
      SELECT s.id AS shop_row_id, s.domain AS shop_row_domain, s.status AS shop_row_status,
        c.id AS connection_row_id, c.mode AS connection_row_mode, c."apiKeyCiphertext" AS "connection_row_apiKeyCiphertext", c."apiKeyHint" AS "connection_row_apiKeyHint",
        c."webhookEndpointId" AS "connection_row_webhookEndpointId", c."webhookSecretCiphertext" AS "connection_row_webhookSecretCiphertext",
        c."catchAllProductId" AS "connection_row_catchAllProductId", c."keyRejectedAt" AS "connection_row_keyRejectedAt",
        c."catchAllPriceGeneration" AS "connection_row_catchAllPriceGeneration", c."verifiedAt" AS "connection_row_verifiedAt",
        c."createdAt" AS "connection_row_createdAt", c."updatedAt" AS "connection_row_updatedAt"
      FROM "Shop" s LEFT JOIN "FlexConnection" c ON c."shopId" = s.id AND c.mode = ${mode}
      WHERE s.id = ${shopId}
    ) shop_with_connection ON true`;
}

/** The columns joinShopWithConnectionSql adds. */
export interface ShopWithConnectionColumns {
  shop_row_id: string | null;
  shop_row_domain: string | null;
  shop_row_status: ShopStatus | null;
  connection_row_id: string | null;
  connection_row_mode: FlexMode | null;
  connection_row_apiKeyCiphertext: string | null;
  connection_row_apiKeyHint: string | null;
  connection_row_webhookEndpointId: string | null;
  connection_row_webhookSecretCiphertext: string | null;
  connection_row_catchAllProductId: string | null;
  connection_row_keyRejectedAt: Date | null;
  connection_row_catchAllPriceGeneration: number | null;
  connection_row_verifiedAt: Date | null;
  connection_row_createdAt: Date | null;
  connection_row_updatedAt: Date | null;
}

export class FlexConnectionRepository {
  constructor(
    private readonly db: DbClient,
    private readonly sql: SqlRunner,
    private readonly secrets: SecretBox,
  ) {}

  async find(shopId: string, mode: FlexMode): Promise<FlexConnectionWithSecrets | null> {
    const row = await this.db.flexConnection.findUnique({ where: { shopId_mode: { shopId, mode } } });
    return row ? this.decrypt(row) : null;
  }

  /**
   * The shop (by domain) and its connection for one mode, in one query: every payment session
   * request and every Flex webhook starts here.
   */
  async findWithShop(shopDomain: string, mode: FlexMode): Promise<ShopWithConnection | null> {
    return this.shopWithConnection(Prisma.sql`s.domain = ${shopDomain}`, mode);
  }

  private async shopWithConnection(where: Prisma.Sql, mode: FlexMode): Promise<ShopWithConnection | null> {
    // The shop's columns get names of their own: c.* has a "shopId" that is NULL when there is no connection.
    const rows = await this.sql.query<{ shop_row_id: string; shop_row_domain: string; shop_row_status: ShopStatus } & Partial<FlexConnection>>`
      SELECT s.id AS shop_row_id, s.domain AS shop_row_domain, s.status AS shop_row_status, c.*
      FROM "Shop" s
      LEFT JOIN "FlexConnection" c ON c."shopId" = s.id AND c.mode = ${mode}::"FlexMode"
      WHERE ${where}`;
    const row = rows[0];
    if (!row) return null;
    return {
      shop: { id: row.shop_row_id as ShopId, domain: row.shop_row_domain as ShopDomain, status: row.shop_row_status },
      connection: row.id ? this.decrypt(row as FlexConnection) : null,
    };
  }

  /** What joinShopWithConnectionSql read: null when the shop is gone. */
  shopWithConnectionOf(columns: ShopWithConnectionColumns): ShopWithConnection | null {
    if (!columns.shop_row_id) return null;
    const shop = { id: columns.shop_row_id as ShopId, domain: columns.shop_row_domain as ShopDomain, status: columns.shop_row_status! };
    if (!columns.connection_row_id) return { shop, connection: null };
    const row: FlexConnection = {
      id: columns.connection_row_id,
      shopId: columns.shop_row_id,
      mode: columns.connection_row_mode!,
      apiKeyCiphertext: columns.connection_row_apiKeyCiphertext!,
      apiKeyHint: columns.connection_row_apiKeyHint!,
      webhookEndpointId: columns.connection_row_webhookEndpointId,
      webhookSecretCiphertext: columns.connection_row_webhookSecretCiphertext,
      catchAllProductId: columns.connection_row_catchAllProductId,
      keyRejectedAt: columns.connection_row_keyRejectedAt,
      catchAllPriceGeneration: columns.connection_row_catchAllPriceGeneration!,
      verifiedAt: columns.connection_row_verifiedAt!,
      createdAt: columns.connection_row_createdAt!,
      updatedAt: columns.connection_row_updatedAt!,
    };
    return { shop, connection: this.decrypt(row) };
  }

  async listForShop(shopId: string): Promise<FlexConnectionWithSecrets[]> {
    const rows = await this.db.flexConnection.findMany({ where: { shopId }, orderBy: { mode: 'asc' } });
    return rows.map((row) => this.decrypt(row));
  }

  /**
   * Stores a verified key and its webhook endpoint. A new key may belong to another Flex account,
   * so the cached catalog objects of the old key are dropped.
   */
  async save(input: SaveFlexConnection): Promise<{ previous: { webhookEndpointId: string; apiKey: Secret } | null }> {
    const existing = await this.db.flexConnection.findUnique({ where: { shopId_mode: { shopId: input.shopId, mode: input.mode } } });
    const data = {
      apiKeyCiphertext: this.secrets.encrypt(input.apiKey, apiKeyContext(input.shopId, input.mode)),
      apiKeyHint: input.apiKeyHint,
      webhookEndpointId: input.webhookEndpointId,
      webhookSecretCiphertext: this.secrets.encrypt(input.webhookSecret, webhookSecretContext(input.shopId, input.mode)),
      keyRejectedAt: null,
      verifiedAt: input.verifiedAt,
    };
    if (existing) {
      const previousKey = this.secrets.decrypt(existing.apiKeyCiphertext, apiKeyContext(input.shopId, input.mode));
      await this.db.flexConnection.update({
        where: { id: existing.id },
        data: previousKey === input.apiKey ? data : { ...data, catchAllProductId: null, catchAllPrices: { deleteMany: {} } },
      });
      // The replaced endpoint belongs to the old key's account: only that key can remove it.
      const replaced = existing.webhookEndpointId && existing.webhookEndpointId !== input.webhookEndpointId;
      return { previous: replaced ? { webhookEndpointId: existing.webhookEndpointId!, apiKey: new Secret(previousKey) } : null };
    }
    await this.db.flexConnection.create({ data: { shopId: input.shopId, mode: input.mode, ...data } });
    return { previous: null };
  }

  async remove(shopId: string, mode: FlexMode): Promise<FlexConnectionWithSecrets | null> {
    const found = await this.find(shopId, mode);
    if (found) await this.db.flexConnection.delete({ where: { id: found.id } });
    return found;
  }

  async removeAllForShop(shopId: string): Promise<number> {
    const { count } = await this.db.flexConnection.deleteMany({ where: { shopId } });
    return count;
  }

  async markKeyRejected(id: string, at: Date): Promise<void> {
    await this.db.flexConnection.updateMany({ where: { id, keyRejectedAt: null }, data: { keyRejectedAt: at } });
  }

  async clearKeyRejected(id: string): Promise<void> {
    await this.db.flexConnection.updateMany({ where: { id, keyRejectedAt: { not: null } }, data: { keyRejectedAt: null } });
  }

  async setCatchAllProduct(id: string, productId: string): Promise<void> {
    await this.db.flexConnection.update({ where: { id }, data: { catchAllProductId: productId } });
  }

  async findCatchAllPrice(connectionId: string, currency: string, amountMinor: number): Promise<string | null> {
    const row = await this.db.flexCatchAllPrice.findUnique({
      where: { connectionId_currency_amountMinor: { connectionId, currency, amountMinor: BigInt(amountMinor) } },
    });
    return row?.flexPriceId ?? null;
  }

  /** Records a price; when another request recorded one first, that one is kept and returned. */
  async saveCatchAllPrice(connectionId: string, currency: string, amountMinor: number, flexPriceId: string): Promise<string> {
    // ON CONFLICT DO NOTHING: concurrent first payments of a new amount must not fail on the unique key.
    await this.db.flexCatchAllPrice.createMany({
      data: [{ connectionId, currency, amountMinor: BigInt(amountMinor), flexPriceId }],
      skipDuplicates: true,
    });
    const row = await this.db.flexCatchAllPrice.findUniqueOrThrow({
      where: { connectionId_currency_amountMinor: { connectionId, currency, amountMinor: BigInt(amountMinor) } },
    });
    return row.flexPriceId;
  }

  /** Bumps the generation in the idempotency keys of the catch-all prices made from now on. */
  async nextCatchAllPriceGeneration(id: string): Promise<number> {
    const row = await this.db.flexConnection.update({ where: { id }, data: { catchAllPriceGeneration: { increment: 1 } }, select: { catchAllPriceGeneration: true } });
    return row.catchAllPriceGeneration;
  }

  async deleteCatchAllPrice(connectionId: string, currency: string, amountMinor: number): Promise<void> {
    await this.db.flexCatchAllPrice.deleteMany({ where: { connectionId, currency, amountMinor: BigInt(amountMinor) } });
  }

  private decrypt(row: FlexConnection): FlexConnectionWithSecrets {
    return {
      id: row.id,
      shopId: row.shopId,
      mode: row.mode,
      apiKey: new Secret(this.secrets.decrypt(row.apiKeyCiphertext, apiKeyContext(row.shopId, row.mode))),
      apiKeyHint: row.apiKeyHint,
      webhookEndpointId: row.webhookEndpointId,
      webhookSecret: row.webhookSecretCiphertext
        ? new Secret(this.secrets.decrypt(row.webhookSecretCiphertext, webhookSecretContext(row.shopId, row.mode)))
        : null,
      webhookSecretCiphertext: row.webhookSecretCiphertext,
      catchAllProductId: row.catchAllProductId,
      keyRejectedAt: row.keyRejectedAt,
      catchAllPriceGeneration: row.catchAllPriceGeneration,
      verifiedAt: row.verifiedAt,
    };
  }
}

const apiKeyContext = secretContexts.flexApiKey;
const webhookSecretContext = secretContexts.flexWebhookSecret;
