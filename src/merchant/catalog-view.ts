import type { CatalogSyncStatus, FlexMode } from '@prisma/client';
import { startCatalogSync } from '../catalog/catalog-jobs';
import { ELIGIBILITY_LABELS, eligibilityClass, type EligibilityClass } from '../catalog/eligibility';
import type { Repositories } from '../db/repositories';
import { rejectionMarker, type EligibilityFilter } from '../db/repositories/catalog-variants';
import type { Transactor } from '../db/transactor';
import type { Clock } from '../lib/clock';
import type { ShopDomain } from '../lib/ids';
import { formatMoney, toSafeNumber } from '../lib/money';

/** One mode's catalog sync, as the merchant sees it. */
export interface CatalogModeView {
  mode: FlexMode;
  status: CatalogSyncStatus | 'NOT_STARTED';
  /** Variants read from Shopify by the current (or last) full sync. */
  variantsSeen: number;
  /** Variants in Flex as they are in Shopify. */
  synced: number;
  /** Variants (or deletions) still to reach Flex. */
  pending: number;
  /** Variants Flex refused (shown with the reason). */
  refused: number;
  /** Variants in the catalog (not deleted). */
  total: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  lastProblem: string | null;
  lastProblemAt: Date | null;
  eligibility: Record<EligibilityFilter, number>;
}

export interface CatalogVariantView {
  shopifyProductId: string;
  shopifyVariantId: string;
  title: string;
  sku: string | null;
  barcode: string | null;
  price: string;
  eligibility: EligibilityClass | null;
  eligibilityLabel: string;
  /** Flex's own value (e.g. auto_substantiation) and its reason. */
  flexEligibility: string | null;
  reason: string | null;
  state: 'synced' | 'pending' | 'refused';
  problem: string | null;
}

export interface CatalogListView {
  mode: FlexMode;
  page: number;
  pageSize: number;
  /** Variants matching the filter. */
  matching: number;
  filter: EligibilityFilter | null;
  variants: CatalogVariantView[];
}

export interface CatalogView {
  modes: CatalogModeView[];
  list: CatalogListView | null;
}

export const CATALOG_PAGE_SIZE = 25;
export const ELIGIBILITY_FILTERS: readonly EligibilityFilter[] = ['eligible', 'letter_of_medical_necessity', 'not_eligible', 'unknown'];

/**
 * The catalog part of the settings page: each connected mode's sync (status, variants synced and
 * seen, the last problem) and a page of the catalog with each variant's Flex eligibility and the
 * reason Flex gives, filtered by eligibility class (a catalog may have 20,000 variants).
 */
export async function loadCatalogView(repos: Repositories, shopId: string, options: { mode?: FlexMode; page?: number; filter?: EligibilityFilter | null } = {}): Promise<CatalogView> {
  const connected = (await repos.flexConnections.listForShop(shopId)).map((c) => c.mode);
  const syncs = await repos.catalogSyncs.listForShop(shopId);
  const modes: CatalogModeView[] = [];
  for (const mode of connected) {
    const sync = syncs.find((s) => s.mode === mode);
    const progress = await repos.catalog.progress(shopId, mode);
    modes.push({
      mode,
      status: sync?.status ?? 'NOT_STARTED',
      variantsSeen: sync?.variantsSeen ?? 0,
      synced: progress.synced,
      pending: progress.pending,
      refused: progress.rejected,
      total: progress.total,
      startedAt: sync?.startedAt ?? null,
      finishedAt: sync?.finishedAt ?? null,
      lastProblem: sync?.lastProblem ?? null,
      lastProblemAt: sync?.lastProblemAt ?? null,
      eligibility: await repos.catalog.eligibilityCounts(shopId, mode),
    });
  }
  const mode = options.mode && connected.includes(options.mode) ? options.mode : connected.includes('LIVE') ? 'LIVE' : connected[0];
  if (!mode) return { modes, list: null };
  const counts = modes.find((m) => m.mode === mode)!;
  const filter = options.filter ?? null;
  const matching = filter ? counts.eligibility[filter] : counts.total;
  const lastPage = Math.max(1, Math.ceil(matching / CATALOG_PAGE_SIZE));
  const page = Math.min(Math.max(1, Math.floor(options.page ?? 1)), lastPage);
  const rows = await repos.catalog.page(shopId, mode, { offset: (page - 1) * CATALOG_PAGE_SIZE, limit: CATALOG_PAGE_SIZE, eligibility: filter ?? undefined });
  return {
    modes,
    list: {
      mode,
      page,
      pageSize: CATALOG_PAGE_SIZE,
      matching,
      filter,
      variants: rows.map((row) => {
        const cls = eligibilityClass(row.eligibility);
        const price = toSafeNumber(row.priceMinor);
        const refused = row.flexRejectedFor === rejectionMarker(row.productRevision, row.priceMinor);
        const synced = row.flexProductId !== null && row.flexProductActive && row.flexPriceId !== null && row.flexPriceMinor === row.priceMinor;
        return {
          shopifyProductId: row.shopifyProductId,
          shopifyVariantId: row.shopifyVariantId,
          title: row.title,
          sku: row.sku,
          barcode: row.barcode,
          price: formatMoney(price, row.currency),
          eligibility: cls,
          eligibilityLabel: cls ? ELIGIBILITY_LABELS[cls] : 'Not judged yet',
          flexEligibility: row.eligibility,
          reason: row.eligibilityReason,
          state: refused ? 'refused' : synced ? 'synced' : 'pending',
          problem: refused || !synced ? row.lastError : null,
        };
      }),
    },
  };
}

/** The settings page's catalog section and its own pages (`/settings/catalog`), for the signed-in shop only. */
export class MerchantCatalog {
  constructor(private readonly deps: { transactor: Transactor; clock: Clock }) {}

  async view(shopDomain: ShopDomain, options: { mode?: FlexMode; page?: number; filter?: EligibilityFilter | null } = {}): Promise<CatalogView | null> {
    const { repos } = this.deps.transactor;
    const shop = await repos.shops.findByDomain(shopDomain);
    return shop ? loadCatalogView(repos, shop.id, options) : null;
  }

  /** "Sync again": a full sync of every connected mode (what is in Flex already is only checked). */
  async syncAgain(shopDomain: ShopDomain): Promise<FlexMode[]> {
    const now = this.deps.clock.now();
    return this.deps.transactor.run(async (repos) => {
      const shop = await repos.shops.findByDomain(shopDomain);
      if (!shop) return [];
      const modes = (await repos.flexConnections.listForShop(shop.id)).map((c) => c.mode);
      for (const mode of modes) await startCatalogSync(repos, shop.id, mode, now);
      return modes;
    });
  }
}
