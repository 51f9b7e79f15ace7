import { Prisma, type CartSnapshot, type CartSnapshotSource, type FlexMode } from '@prisma/client';
import { randomUUID } from 'node:crypto';
import type { ShopId } from '../../lib/ids';
import type { DbClient } from '../db-client';
import type { SqlRunner } from '../sql';
import { syncedVariantsById, syncedVariantsSql, type SyncedVariant, type SyncedVariantRow } from './catalog-variants';
import type { NewShopifyWebhookDelivery } from './shopify-webhook-deliveries';

/** One line of a cart snapshot: what was bought, never at what price (the catalog says that). */
export interface CartSnapshotLine {
  /** Null for a line with no product variant (a custom line): such a cart cannot be re-priced. */
  variantId: string | null;
  productId: string | null;
  title: string;
  quantity: number;
  /** The discounts Shopify allocated to this line, in minor units. */
  discountMinor: number;
}

export interface CartSnapshotInput {
  shopId: ShopId;
  source: CartSnapshotSource;
  checkoutToken: string;
  cartToken: string | null;
  urlToken: string | null;
  currency: string;
  totalMinor: number;
  subtotalMinor: number;
  taxMinor: number;
  shippingMinor: number;
  discountMinor: number;
  lines: CartSnapshotLine[];
  observedAt: Date;
  receivedAt: Date;
  expiresAt: Date;
}

export type CartSnapshotRecord = Omit<CartSnapshot, 'lines' | 'totalMinor' | 'subtotalMinor' | 'taxMinor' | 'shippingMinor' | 'discountMinor'> & {
  lines: CartSnapshotLine[];
  totalMinor: number;
  subtotalMinor: number;
  taxMinor: number;
  shippingMinor: number;
  discountMinor: number;
};

export class CartSnapshotRepository {
  constructor(
    private readonly db: DbClient,
    private readonly sql: SqlRunner,
  ) {}

  /**
   * Stores the snapshot as the newest description of its checkout from its source, unless a newer
   * one is already stored (webhooks and pixel posts arrive out of order). True when stored.
   */
  async save(input: CartSnapshotInput): Promise<boolean> {
    const { stored } = await this.upsert(Prisma.sql`SELECT ${input.shopId}::uuid AS id`, input);
    return stored;
  }

  /**
   * The snapshot of the installed (ACTIVE) shop of `shopDomain`, stored in the statement that records
   * the webhook delivery that brought it: one round trip and no transaction for the checkout of every
   * buyer. The delivery is recorded once per webhook id, with its outcome worked out in the statement
   * (`outcomes`: the shop not installed, a newer description of the checkout already stored, or
   * stored); the snapshot is stored only by the delivery that recorded it (a redelivery, or a
   * concurrent copy, which waits at the insert for the first one's commit, changes nothing). Null for
   * such a repeat. `outcomeAgrees` is false only when a concurrent description of the same checkout
   * changed the answer between the statement's read and its write: the caller then corrects it.
   */
  async saveRecordingDelivery(
    shopDomain: string,
    input: Omit<CartSnapshotInput, 'shopId'>,
    delivery: NewShopifyWebhookDelivery,
    outcomes: Record<'stored' | 'olderThanStored' | 'notInstalled', string>,
  ): Promise<{ deliveryId: string; saved: 'stored' | 'older_than_stored' | 'shop_not_installed'; outcomeAgrees: boolean } | null> {
    const recorded = Prisma.sql`, delivery AS (
        INSERT INTO "ShopifyWebhookDelivery" (id, "shopDomain", "webhookId", topic, payload, "receivedAt", outcome, "processedAt")
        VALUES (${delivery.id ?? randomUUID()}::uuid, ${delivery.shopDomain}, ${delivery.webhookId}, ${delivery.topic}, ${JSON.stringify(delivery.payload)}::jsonb, ${delivery.receivedAt},
          CASE
            WHEN NOT EXISTS (SELECT 1 FROM shop) THEN ${outcomes.notInstalled}
            WHEN EXISTS (SELECT 1 FROM "CartSnapshot" c, shop WHERE c."shopId" = shop.id AND c.source = ${input.source}::"CartSnapshotSource"
              AND c."checkoutToken" = ${input.checkoutToken} AND c."observedAt" > ${input.observedAt}) THEN ${outcomes.olderThanStored}
            ELSE ${outcomes.stored}
          END,
          ${delivery.processedAt ?? delivery.receivedAt})
        ON CONFLICT ("webhookId") DO NOTHING
        RETURNING id::text AS id, outcome
      )`;
    const { deliveryId, deliveryOutcome, shopFound, stored } = await this.upsert(Prisma.sql`SELECT id FROM "Shop" WHERE domain = ${shopDomain} AND status = 'ACTIVE'`, input, recorded);
    if (deliveryId === null) return null;
    const saved = !shopFound ? 'shop_not_installed' : stored ? 'stored' : 'older_than_stored';
    const expected = { shop_not_installed: outcomes.notInstalled, stored: outcomes.stored, older_than_stored: outcomes.olderThanStored }[saved];
    return { deliveryId, saved, outcomeAgrees: deliveryOutcome === expected };
  }

  /**
   * The snapshot upserted for the shop `shopQuery` selects (its `id`); nothing when it selects none.
   * With `delivery` (a CTE named delivery, after shop), only when that CTE returns its row.
   */
  private async upsert(
    shopQuery: Prisma.Sql,
    input: Omit<CartSnapshotInput, 'shopId'>,
    delivery?: Prisma.Sql,
  ): Promise<{ shopFound: boolean; stored: boolean; deliveryId: string | null; deliveryOutcome: string | null }> {
    const rows = await this.sql.query<{ shop_found: boolean; stored: boolean; delivery_id: string | null; delivery_outcome: string | null }>`
      WITH shop AS (${shopQuery})${delivery ?? Prisma.empty}, saved AS (
        INSERT INTO "CartSnapshot" (id, "shopId", source, "checkoutToken", "cartToken", "urlToken", currency,
          "totalMinor", "subtotalMinor", "taxMinor", "shippingMinor", "discountMinor", lines, "observedAt", "receivedAt", "expiresAt")
        SELECT ${randomUUID()}::uuid, shop.id, ${input.source}::"CartSnapshotSource", ${input.checkoutToken}, ${input.cartToken}, ${input.urlToken},
          ${input.currency}, ${input.totalMinor}, ${input.subtotalMinor}, ${input.taxMinor}, ${input.shippingMinor}, ${input.discountMinor},
          ${JSON.stringify(input.lines)}::jsonb, ${input.observedAt}, ${input.receivedAt}, ${input.expiresAt}
        FROM shop ${delivery ? Prisma.sql`WHERE EXISTS (SELECT 1 FROM delivery)` : Prisma.empty}
        ON CONFLICT ("shopId", source, "checkoutToken") DO UPDATE SET
          "cartToken" = COALESCE(EXCLUDED."cartToken", "CartSnapshot"."cartToken"),
          "urlToken" = COALESCE(EXCLUDED."urlToken", "CartSnapshot"."urlToken"),
          currency = EXCLUDED.currency, "totalMinor" = EXCLUDED."totalMinor", "subtotalMinor" = EXCLUDED."subtotalMinor",
          "taxMinor" = EXCLUDED."taxMinor", "shippingMinor" = EXCLUDED."shippingMinor", "discountMinor" = EXCLUDED."discountMinor",
          lines = EXCLUDED.lines, "observedAt" = EXCLUDED."observedAt", "receivedAt" = EXCLUDED."receivedAt", "expiresAt" = EXCLUDED."expiresAt"
        WHERE "CartSnapshot"."observedAt" <= EXCLUDED."observedAt"
        RETURNING 1
      )
      SELECT EXISTS (SELECT 1 FROM shop) AS shop_found, EXISTS (SELECT 1 FROM saved) AS stored,
        ${delivery ? Prisma.sql`(SELECT id FROM delivery)` : Prisma.sql`NULL::text`} AS delivery_id,
        ${delivery ? Prisma.sql`(SELECT outcome FROM delivery)` : Prisma.sql`NULL::text`} AS delivery_outcome`;
    const row = rows[0]!;
    return { shopFound: row.shop_found, stored: row.stored, deliveryId: row.delivery_id, deliveryOutcome: row.delivery_outcome };
  }

  /**
   * The pay page's join read, in one statement, for a payment stored without its checkout token (the
   * claim reads it otherwise: PaymentSessionRepository.claimCheckoutCreation) and for the join's
   * later attempts while it waits for the cart (cartReadSql says what is read).
   */
  async findByTokenWithCatalog(shopId: ShopId, token: string, now: Date, mode: FlexMode): Promise<CartRead> {
    // On the pay page: SQL as written (bench/README-queries.md).
    const rows = await this.sql.query<{ cart: CartReadJson }>`SELECT ${cartReadSql(shopId, token, now, mode)} AS cart`;
    return cartReadOf(rows[0]!.cart);
  }

  async findById(id: string): Promise<CartSnapshotRecord | null> {
    const row = await this.db.cartSnapshot.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }
}

function toRecord(row: CartSnapshot): CartSnapshotRecord {
  return {
    ...row,
    lines: row.lines as unknown as CartSnapshotLine[],
    totalMinor: Number(row.totalMinor),
    subtotalMinor: Number(row.subtotalMinor),
    taxMinor: Number(row.taxMinor),
    shippingMinor: Number(row.shippingMinor),
    discountMinor: Number(row.discountMinor),
  };
}

/** What the pay page's join reads: a checkout's snapshots (server-trusted webhook snapshots first, then newest first) and the synced catalog's variants of their lines, by variant id. */
export interface CartRead {
  snapshots: CartSnapshotRecord[];
  catalog: Map<string, SyncedVariant>;
}

/** cartReadSql's value, as the driver gives jsonb: the snapshots' rows as JSON (dates as ISO strings) and the variants' rows. */
export type CartReadJson = { snapshots: Array<Record<string, unknown>>; catalog: SyncedVariantRow[] };

/**
 * The pay page's join read as one jsonb value: the shop's unexpired snapshots any of whose tokens is
 * `token` (at most ten, newest first), and the synced catalog's variants of their lines in `mode`
 * (CatalogVariantRepository.variantsForCart's). A scalar subquery, so that it can be a statement of its
 * own (findByTokenWithCatalog) or a column of the pay page's claim, whose claimed row gives the shop,
 * the token and the mode (PaymentSessionRepository.claimCheckoutCreation: one round trip fewer on
 * every pay page). A null token reads nothing.
 */
export function cartReadSql(shopId: ShopId | Prisma.Sql, token: string | Prisma.Sql, now: Date, mode: FlexMode | Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(
      WITH snapshot AS (
        SELECT * FROM "CartSnapshot"
        WHERE "shopId" = ${shopId}::uuid AND "expiresAt" > ${now} AND ("checkoutToken" = ${token} OR "cartToken" = ${token} OR "urlToken" = ${token})
        ORDER BY "observedAt" DESC
        LIMIT 10
      ), variant AS (
        ${syncedVariantsSql(shopId, mode, Prisma.sql`IN (SELECT line->>'variantId' FROM snapshot, jsonb_array_elements(snapshot.lines) AS line)`)}
      )
      SELECT jsonb_build_object(
        'snapshots', (SELECT coalesce(jsonb_agg(to_jsonb(snapshot)), '[]'::jsonb) FROM snapshot),
        'catalog', (SELECT coalesce(jsonb_agg(variant), '[]'::jsonb) FROM variant)))`;
}

/** cartReadSql's value as records, the snapshots in the order the join tries them. */
export function cartReadOf(json: CartReadJson): CartRead {
  const snapshots = json.snapshots.map((row) => ({
    ...(row as unknown as CartSnapshot),
    observedAt: new Date(row.observedAt as string),
    receivedAt: new Date(row.receivedAt as string),
    expiresAt: new Date(row.expiresAt as string),
  }));
  const trusted = (row: CartSnapshot) => (row.source === 'WEBHOOK' ? 0 : 1);
  const byObservedAt = (a: CartSnapshot, b: CartSnapshot) => b.observedAt.getTime() - a.observedAt.getTime();
  return { snapshots: snapshots.sort((a, b) => trusted(a) - trusted(b) || byObservedAt(a, b)).map(toRecord), catalog: syncedVariantsById(json.catalog) };
}
