import { Prisma, type CatalogVariant, type FlexMode } from '@prisma/client';
import { toSafeNumber } from '../../lib/money';
import type { DbClient } from '../db-client';
import type { SqlRunner } from '../sql';

export type CatalogVariantRecord = CatalogVariant;

/** A variant that is in Flex as it is in Shopify now: what a cart line is priced and sent with. */
export interface SyncedVariant {
  shopifyProductId: string;
  shopifyVariantId: string;
  title: string;
  sku: string | null;
  barcode: string | null;
  /** Integer minor units of `currency`; the amount of `flexPriceId`. */
  priceMinor: number;
  currency: string;
  flexProductId: string;
  /** The variant's active Flex price. */
  flexPriceId: string;
  /** Flex's `hsa_fsa_eligibility` of the product, or null before Flex said. */
  eligibility: string | null;
  /** Flex's `eligibility_rationale`. */
  eligibilityReason: string | null;
}

/**
 * A variant as Shopify describes it, as the catalog sync mirrors it in Flex (catalog/catalog-item.ts
 * builds these the same way from an Admin API page and from a products/* webhook).
 */
export interface DesiredVariant {
  shopifyProductId: string;
  shopifyVariantId: string;
  title: string;
  productTitle: string;
  variantTitle: string;
  description: string;
  productUrl: string;
  productType: string | null;
  sku: string | null;
  barcode: string | null;
  priceMinor: number;
  currency: string;
  /** The product's updated_at (a variant change updates its product too). */
  shopifyUpdatedAt: Date;
}

/** What Flex holds for a variant after a push, written back in one statement per batch. */
export interface PushResult {
  id: string;
  flexProductId: string | null;
  flexProductRevision: number | null;
  flexProductActive: boolean;
  flexProductGeneration: number;
  flexPriceId: string | null;
  flexPriceMinor: number | null;
  flexPriceGeneration: number;
  staleFlexPriceId: string | null;
  flexRejectedFor: string | null;
  lastError: string | null;
  eligibility: string | null;
  eligibilityReason: string | null;
  eligibilityAt: Date | null;
  syncedAt: Date | null;
  /** The push got to the end (its answers are all recorded), so the next one needs no lookups. */
  finished: boolean;
}

export type PushSelection = { variantIds: string[] } | { productIds: string[] } | { pending: true };

export type ClaimedVariant = CatalogVariantRecord & {
  /** A push of it started before and did not finish: objects whose answers were lost may exist. */
  recovering: boolean;
};

export interface CatalogProgress {
  total: number;
  synced: number;
  pending: number;
  rejected: number;
  deleted: number;
}

export type EligibilityFilter = 'eligible' | 'letter_of_medical_necessity' | 'not_eligible' | 'unknown';

/** The marker of a revision and amount Flex refused: not sent again until one of them changes. */
export function rejectionMarker(productRevision: number, priceMinor: number | bigint): string {
  return `r${productRevision}:p${priceMinor}`;
}

// Whether a variant needs a push: a deleted one whose Flex product is still active; any other whose
// product, revision or price is not Flex's yet, or an old price still to deactivate (unless Flex
// refused exactly this revision and amount).
const NEEDS_PUSH = Prisma.sql`(CASE WHEN v."deletedAt" IS NOT NULL THEN v."flexProductId" IS NOT NULL AND v."flexProductActive"
  ELSE v."flexRejectedFor" IS DISTINCT FROM ('r' || v."productRevision" || ':p' || v."priceMinor") AND (
    v."flexProductId" IS NULL OR v."flexProductRevision" IS DISTINCT FROM v."productRevision" OR NOT v."flexProductActive"
    OR v."flexPriceId" IS NULL OR v."flexPriceMinor" IS DISTINCT FROM v."priceMinor" OR v."staleFlexPriceId" IS NOT NULL) END)`;

// In Flex as in Shopify: not deleted, product active, its active price of the current amount.
const SYNCED = Prisma.sql`(v."deletedAt" IS NULL AND v."flexProductId" IS NOT NULL AND v."flexProductActive" AND v."flexPriceId" IS NOT NULL AND v."flexPriceMinor" = v."priceMinor")`;

const ELIGIBILITY_CLASS = Prisma.sql`(CASE WHEN v.eligibility IS NULL THEN 'unknown' WHEN v.eligibility = 'not_eligible' THEN 'not_eligible'
  WHEN v.eligibility = 'letter_of_medical_necessity' THEN 'letter_of_medical_necessity' ELSE 'eligible' END)`;

/** A synced variant as syncedVariantsSql selects it (`priceMinor` as text: exact in JSON too). */
export type SyncedVariantRow = Omit<SyncedVariant, 'priceMinor'> & { priceMinor: string };

/**
 * The synced variants (SYNCED) of a shop and mode whose Shopify variant id `variantIdIn` matches (`=
 * ANY(…)`, or `IN (subquery)`), as SyncedVariantRow.
 */
export function syncedVariantsSql(shopId: string | Prisma.Sql, mode: FlexMode | Prisma.Sql, variantIdIn: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    SELECT v."shopifyProductId", v."shopifyVariantId", v.title, v.sku, v.barcode, v."priceMinor"::text AS "priceMinor", v.currency,
      v."flexProductId", v."flexPriceId", v.eligibility, v."eligibilityReason"
    FROM "CatalogVariant" v
    WHERE v."shopId" = ${shopId}::uuid AND v.mode = ${mode}::"FlexMode" AND v."shopifyVariantId" ${variantIdIn} AND ${SYNCED}`;
}

export function syncedVariantsById(rows: readonly SyncedVariantRow[]): Map<string, SyncedVariant> {
  const found = new Map<string, SyncedVariant>();
  for (const row of rows) {
    found.set(row.shopifyVariantId, {
      shopifyProductId: row.shopifyProductId,
      shopifyVariantId: row.shopifyVariantId,
      title: row.title,
      sku: row.sku,
      barcode: row.barcode,
      priceMinor: toSafeNumber(BigInt(row.priceMinor)),
      currency: row.currency,
      flexProductId: row.flexProductId,
      flexPriceId: row.flexPriceId,
      eligibility: row.eligibility,
      eligibilityReason: row.eligibilityReason,
    });
  }
  return found;
}

/**
 * The catalog of each shop and mode as mirrored in Flex (README "Catalog sync"). Pages and webhooks
 * write what Shopify says; pushes claim the variants that differ from Flex under a lease (so a webhook's
 * push and a sync page never push one variant at once) and write back what Flex holds.
 */
export class CatalogVariantRepository {
  constructor(
    private readonly db: DbClient,
    private readonly sql: SqlRunner,
  ) {}

  /**
   * The synced variants among `shopifyVariantIds` (numeric ids as strings), by variant id; a variant
   * that is deleted, not yet in Flex or whose price in Flex is not its current one is left out. The
   * pay page reads them with the cart's snapshots (cartReadSql: in its claim of the payment, or
   * CartSnapshotRepository.findByTokenWithCatalog).
   */
  async variantsForCart(shopId: string, mode: FlexMode, shopifyVariantIds: string[]): Promise<Map<string, SyncedVariant>> {
    if (shopifyVariantIds.length === 0) return new Map();
    const rows = await this.sql.query<SyncedVariantRow>`${syncedVariantsSql(shopId, mode, Prisma.sql`= ANY(${[...new Set(shopifyVariantIds)]}::text[])`)}`;
    return syncedVariantsById(rows);
  }

  /**
   * Writes what Shopify says about these variants. A description older than the stored one (a late
   * webhook, a page read before an update) changes nothing; a change of what Flex's product shows bumps
   * `productRevision`; a deleted variant comes back only with a newer update. `run` marks them seen by
   * that full sync.
   */
  async upsertFromShopify(shopId: string, mode: FlexMode, run: number, items: DesiredVariant[]): Promise<void> {
    if (items.length === 0) return;
    const values = items.map(
      (i) => Prisma.sql`(${shopId}::uuid, ${mode}::"FlexMode", ${i.shopifyProductId}, ${i.shopifyVariantId}, ${i.title}, ${i.productTitle}, ${i.variantTitle},
        ${i.description}, ${i.productUrl}, ${i.productType}, ${i.sku}, ${i.barcode}, ${BigInt(i.priceMinor)}, ${i.currency}, ${i.shopifyUpdatedAt}::timestamptz, ${run}, now())`,
    );
    await this.db.$executeRaw`
      INSERT INTO "CatalogVariant" AS v ("shopId", mode, "shopifyProductId", "shopifyVariantId", title, "productTitle", "variantTitle",
        description, "productUrl", "productType", sku, barcode, "priceMinor", currency, "shopifyUpdatedAt", "lastSeenRun", "updatedAt")
      VALUES ${Prisma.join(values)}
      ON CONFLICT ("shopId", mode, "shopifyVariantId") DO UPDATE SET
        "productRevision" = v."productRevision" + CASE WHEN v."deletedAt" IS NOT NULL
          OR (v.title, v.description, v."productUrl", v."productType", v.sku, v.barcode) IS DISTINCT FROM
             (EXCLUDED.title, EXCLUDED.description, EXCLUDED."productUrl", EXCLUDED."productType", EXCLUDED.sku, EXCLUDED.barcode) THEN 1 ELSE 0 END,
        "shopifyProductId" = EXCLUDED."shopifyProductId", title = EXCLUDED.title, "productTitle" = EXCLUDED."productTitle",
        "variantTitle" = EXCLUDED."variantTitle", description = EXCLUDED.description, "productUrl" = EXCLUDED."productUrl",
        "productType" = EXCLUDED."productType", sku = EXCLUDED.sku, barcode = EXCLUDED.barcode, "priceMinor" = EXCLUDED."priceMinor",
        currency = EXCLUDED.currency, "shopifyUpdatedAt" = EXCLUDED."shopifyUpdatedAt", "deletedAt" = NULL,
        "lastSeenRun" = GREATEST(v."lastSeenRun", EXCLUDED."lastSeenRun"), "updatedAt" = now()
      WHERE EXCLUDED."shopifyUpdatedAt" >= v."shopifyUpdatedAt"
        AND (v."deletedAt" IS NULL OR EXCLUDED."shopifyUpdatedAt" > v."deletedAt")`;
    // Seen, even when what was read is older than what is stored.
    await this.db.$executeRaw`
      UPDATE "CatalogVariant" SET "lastSeenRun" = ${run}
      WHERE "shopId" = ${shopId}::uuid AND mode = ${mode}::"FlexMode" AND "shopifyVariantId" = ANY(${items.map((i) => i.shopifyVariantId)}::text[])
        AND "lastSeenRun" < ${run} AND "deletedAt" IS NULL`;
  }

  /** products/delete: every variant of the product. */
  async markProductDeleted(shopId: string, mode: FlexMode, shopifyProductId: string, at: Date): Promise<number> {
    const { count } = await this.db.catalogVariant.updateMany({ where: { shopId, mode, shopifyProductId, deletedAt: null }, data: { deletedAt: at } });
    return count;
  }

  /** products/update: the variants the product no longer has. */
  async markVariantsRemoved(shopId: string, mode: FlexMode, shopifyProductId: string, keepVariantIds: string[], at: Date): Promise<number> {
    const { count } = await this.db.catalogVariant.updateMany({
      where: { shopId, mode, shopifyProductId, deletedAt: null, shopifyVariantId: { notIn: keepVariantIds } },
      data: { deletedAt: at },
    });
    return count;
  }

  /** The end of a full sync: the variants it did not see were deleted while nobody was listening. */
  async markUnseenDeleted(shopId: string, mode: FlexMode, run: number, at: Date): Promise<number> {
    const { count } = await this.db.catalogVariant.updateMany({ where: { shopId, mode, deletedAt: null, lastSeenRun: { lt: run } }, data: { deletedAt: at } });
    return count;
  }

  /**
   * Claims up to `limit` of the selected variants that need a push and no other push holds, for
   * `leaseUntil`. Marks the push started; `recovering` says an earlier one did not finish.
   */
  async claimForPush(shopId: string, mode: FlexMode, selection: PushSelection, lease: { token: string; until: Date; now: Date }, limit: number): Promise<ClaimedVariant[]> {
    const selected =
      'variantIds' in selection
        ? Prisma.sql`v."shopifyVariantId" = ANY(${selection.variantIds}::text[])`
        : 'productIds' in selection
          ? Prisma.sql`v."shopifyProductId" = ANY(${selection.productIds}::text[])`
          : Prisma.sql`TRUE`;
    const claimed = await this.db.$queryRaw<Array<{ id: string; recovering: boolean }>>`
      WITH c AS (
        SELECT v.id, v."pushStartedAt" AS previous FROM "CatalogVariant" v
        WHERE v."shopId" = ${shopId}::uuid AND v.mode = ${mode}::"FlexMode" AND ${selected} AND ${NEEDS_PUSH}
          AND (v."leaseUntil" IS NULL OR v."leaseUntil" < ${lease.now} OR v."leaseToken" = ${lease.token})
        ORDER BY v."shopifyVariantId"
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE "CatalogVariant" v SET "leaseToken" = ${lease.token}, "leaseUntil" = ${lease.until}, "pushStartedAt" = COALESCE(v."pushStartedAt", ${lease.now})
      FROM c WHERE v.id = c.id
      RETURNING v.id, (c.previous IS NOT NULL) AS recovering`;
    if (claimed.length === 0) return [];
    const recovering = new Map(claimed.map((c) => [c.id, c.recovering]));
    const rows = await this.db.catalogVariant.findMany({ where: { id: { in: [...recovering.keys()] } }, orderBy: { shopifyVariantId: 'asc' } });
    return rows.map((row) => ({ ...row, recovering: recovering.get(row.id) ?? false }));
  }

  /** Selected variants that need a push but another push holds (it pushes them, or this one later). */
  async countHeldElsewhere(shopId: string, mode: FlexMode, selection: PushSelection, token: string, now: Date): Promise<number> {
    const selected =
      'variantIds' in selection
        ? Prisma.sql`v."shopifyVariantId" = ANY(${selection.variantIds}::text[])`
        : 'productIds' in selection
          ? Prisma.sql`v."shopifyProductId" = ANY(${selection.productIds}::text[])`
          : Prisma.sql`TRUE`;
    const [row] = await this.db.$queryRaw<Array<{ n: number }>>`
      SELECT count(*)::int AS n FROM "CatalogVariant" v
      WHERE v."shopId" = ${shopId}::uuid AND v.mode = ${mode}::"FlexMode" AND ${selected} AND ${NEEDS_PUSH}
        AND v."leaseUntil" >= ${now} AND v."leaseToken" IS DISTINCT FROM ${token}`;
    return row?.n ?? 0;
  }

  /** Whether any variant of the shop and mode still needs a push (and is not refused by Flex). */
  async hasPending(shopId: string, mode: FlexMode): Promise<boolean> {
    const rows = await this.db.$queryRaw<Array<{ one: number }>>`
      SELECT 1 AS one FROM "CatalogVariant" v WHERE v."shopId" = ${shopId}::uuid AND v.mode = ${mode}::"FlexMode" AND ${NEEDS_PUSH} LIMIT 1`;
    return rows.length > 0;
  }

  /** Writes what Flex holds for each variant, only while the push still holds its lease. */
  async recordPushResults(token: string, results: PushResult[]): Promise<number> {
    if (results.length === 0) return 0;
    const values = results.map(
      (r) => Prisma.sql`(${r.id}::uuid, ${r.flexProductId}::text, ${r.flexProductRevision}::int, ${r.flexProductActive}::boolean, ${r.flexProductGeneration}::int,
        ${r.flexPriceId}::text, ${r.flexPriceMinor === null ? null : BigInt(r.flexPriceMinor)}::bigint, ${r.flexPriceGeneration}::int, ${r.staleFlexPriceId}::text,
        ${r.flexRejectedFor}::text, ${r.lastError}::text, ${r.eligibility}::text, ${r.eligibilityReason}::text, ${r.eligibilityAt}::timestamptz,
        ${r.syncedAt}::timestamptz, ${r.finished}::boolean)`,
    );
    return this.db.$executeRaw`
      UPDATE "CatalogVariant" v SET
        "flexProductId" = r.fpid, "flexProductRevision" = r.frev, "flexProductActive" = r.factive, "flexProductGeneration" = r.fgen,
        "flexPriceId" = r.fprice, "flexPriceMinor" = r.fminor, "flexPriceGeneration" = r.fpgen, "staleFlexPriceId" = r.stale,
        "flexRejectedFor" = r.rejected, "lastError" = r.err, eligibility = r.elig, "eligibilityReason" = r.reason,
        "eligibilityAt" = r.eligat, "syncedAt" = COALESCE(r.synced, v."syncedAt"),
        "pushStartedAt" = CASE WHEN r.finished THEN NULL ELSE v."pushStartedAt" END, "updatedAt" = now()
      FROM (VALUES ${Prisma.join(values)}) AS r(id, fpid, frev, factive, fgen, fprice, fminor, fpgen, stale, rejected, err, elig, reason, eligat, synced, finished)
      WHERE v.id = r.id AND v."leaseToken" = ${token}`;
  }

  async releaseLeases(token: string): Promise<void> {
    await this.db.catalogVariant.updateMany({ where: { leaseToken: token }, data: { leaseToken: null, leaseUntil: null } });
  }

  /** One variant that Flex has a product for (to check the key still sees the mapped objects). */
  async anyMapped(shopId: string, mode: FlexMode): Promise<{ id: string; flexProductId: string } | null> {
    const row = await this.db.catalogVariant.findFirst({ where: { shopId, mode, flexProductId: { not: null } }, select: { id: true, flexProductId: true } });
    return row ? { id: row.id, flexProductId: row.flexProductId! } : null;
  }

  /**
   * The key now belongs to another Flex account: none of the mapped objects exist there. Everything
   * is made again, under new generations so no idempotency key of the old objects is reused.
   */
  async forgetFlexObjects(shopId: string, mode: FlexMode): Promise<number> {
    return this.db.$executeRaw`
      UPDATE "CatalogVariant" SET "flexProductId" = NULL, "flexProductRevision" = NULL, "flexProductActive" = false,
        "flexProductGeneration" = "flexProductGeneration" + 1, "flexPriceId" = NULL, "flexPriceMinor" = NULL,
        "flexPriceGeneration" = "flexPriceGeneration" + 1, "staleFlexPriceId" = NULL, "flexRejectedFor" = NULL, "pushStartedAt" = NULL,
        eligibility = NULL, "eligibilityReason" = NULL, "eligibilityAt" = NULL, "syncedAt" = NULL, "updatedAt" = now()
      WHERE "shopId" = ${shopId}::uuid AND mode = ${mode}::"FlexMode"`;
  }

  async progress(shopId: string, mode: FlexMode): Promise<CatalogProgress> {
    const [row] = await this.db.$queryRaw<Array<Record<keyof CatalogProgress, number>>>`
      SELECT count(*) FILTER (WHERE v."deletedAt" IS NULL)::int AS total,
        count(*) FILTER (WHERE ${SYNCED})::int AS synced,
        count(*) FILTER (WHERE ${NEEDS_PUSH})::int AS pending,
        count(*) FILTER (WHERE v."deletedAt" IS NULL AND v."flexRejectedFor" = ('r' || v."productRevision" || ':p' || v."priceMinor"))::int AS rejected,
        count(*) FILTER (WHERE v."deletedAt" IS NOT NULL)::int AS deleted
      FROM "CatalogVariant" v WHERE v."shopId" = ${shopId}::uuid AND v.mode = ${mode}::"FlexMode"`;
    return row ?? { total: 0, synced: 0, pending: 0, rejected: 0, deleted: 0 };
  }

  /** Variants (not deleted) per eligibility class: eligible, letter_of_medical_necessity, not_eligible, unknown. */
  async eligibilityCounts(shopId: string, mode: FlexMode): Promise<Record<EligibilityFilter, number>> {
    const rows = await this.db.$queryRaw<Array<{ class: EligibilityFilter; n: number }>>`
      SELECT ${ELIGIBILITY_CLASS} AS class, count(*)::int AS n FROM "CatalogVariant" v
      WHERE v."shopId" = ${shopId}::uuid AND v.mode = ${mode}::"FlexMode" AND v."deletedAt" IS NULL GROUP BY 1`;
    const counts: Record<EligibilityFilter, number> = { eligible: 0, letter_of_medical_necessity: 0, not_eligible: 0, unknown: 0 };
    for (const r of rows) counts[r.class] = r.n;
    return counts;
  }

  /** A page of the catalog for the settings page, by product title then variant, optionally one eligibility class. */
  async page(shopId: string, mode: FlexMode, options: { offset: number; limit: number; eligibility?: EligibilityFilter }): Promise<CatalogVariantRecord[]> {
    const filter = options.eligibility ? Prisma.sql`AND ${ELIGIBILITY_CLASS} = ${options.eligibility}` : Prisma.empty;
    return this.db.$queryRaw<CatalogVariantRecord[]>`
      SELECT * FROM "CatalogVariant" v
      WHERE v."shopId" = ${shopId}::uuid AND v.mode = ${mode}::"FlexMode" AND v."deletedAt" IS NULL ${filter}
      ORDER BY v."productTitle", v."shopifyProductId", v."variantTitle", v."shopifyVariantId"
      OFFSET ${options.offset} LIMIT ${options.limit}`;
  }

  /** The products' variants that are not deleted (for their metafields). */
  listOfProducts(shopId: string, mode: FlexMode, shopifyProductIds: string[]): Promise<CatalogVariantRecord[]> {
    return this.db.catalogVariant.findMany({
      where: { shopId, mode, shopifyProductId: { in: shopifyProductIds }, deletedAt: null },
      orderBy: { shopifyVariantId: 'asc' },
    });
  }

  async markVariantMetafieldsWritten(written: Array<{ id: string; digest: string }>): Promise<void> {
    if (written.length === 0) return;
    const values = written.map((w) => Prisma.sql`(${w.id}::uuid, ${w.digest}::text)`);
    await this.db.$executeRaw`
      UPDATE "CatalogVariant" v SET "variantMetafieldDigest" = w.digest FROM (VALUES ${Prisma.join(values)}) AS w(id, digest) WHERE v.id = w.id`;
  }

  async markProductMetafieldsWritten(shopId: string, mode: FlexMode, written: Array<{ shopifyProductId: string; digest: string }>): Promise<void> {
    if (written.length === 0) return;
    const values = written.map((w) => Prisma.sql`(${w.shopifyProductId}::text, ${w.digest}::text)`);
    await this.db.$executeRaw`
      UPDATE "CatalogVariant" v SET "productMetafieldDigest" = w.digest FROM (VALUES ${Prisma.join(values)}) AS w(pid, digest)
      WHERE v."shopId" = ${shopId}::uuid AND v.mode = ${mode}::"FlexMode" AND v."shopifyProductId" = w.pid`;
  }
}
