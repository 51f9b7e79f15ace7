import type { FlexMode } from '@prisma/client';
import { z } from 'zod';
import type { Repositories } from '../db/repositories';
import { defineJobType, enqueueJob } from '../outbox/job-type';

/**
 * The catalog sync's outbox jobs (README "Catalog sync"). A full sync is a chain of page jobs, each
 * enqueuing the next in the transaction that records its page, so a crash resumes at the page it
 * was on; products/* webhooks enqueue pushes; eligibility goes to Shopify metafields in batches.
 * They run on the outbox's catalog lane, apart from payment work.
 */
const mode = z.enum(['LIVE', 'TEST']);

export const CATALOG_SYNC_PAGE = defineJobType(
  'catalog.sync-page',
  z.object({ shopId: z.string(), mode, run: z.number().int(), page: z.number().int().min(0), cursor: z.string().nullable() }),
);

export const CATALOG_PUSH = defineJobType(
  'catalog.push',
  z.object({
    shopId: z.string(),
    mode,
    /** Push these products' variants; or, with `pending`, any variant of the mode that needs it (in batches). */
    productIds: z.array(z.string()).max(250).optional(),
    pending: z.literal(true).optional(),
    batch: z.number().int().min(0).default(0),
    /** Products whose webhook carried only some of their variants: read them from Shopify first. */
    refetch: z.array(z.string()).max(250).optional(),
  }),
);

export const CATALOG_METAFIELDS = defineJobType('catalog.eligibility-metafields', z.object({ shopId: z.string(), mode, productIds: z.array(z.string()).max(1000) }));

export const CATALOG_METAFIELD_DEFINITIONS = defineJobType('catalog.metafield-definitions', z.object({ shopId: z.string() }));

export const CATALOG_JOB_KINDS = [CATALOG_SYNC_PAGE.kind, CATALOG_PUSH.kind, CATALOG_METAFIELDS.kind, CATALOG_METAFIELD_DEFINITIONS.kind];

/**
 * Starts a full sync of the shop's catalog into its Flex account of `mode` (a connect, a new key, the
 * merchant's "Sync again"): a new run from the first page; a run still going is superseded.
 */
export async function startCatalogSync(repos: Repositories, shopId: string, flexMode: FlexMode, now: Date): Promise<number> {
  const sync = await repos.catalogSyncs.startRun(shopId, flexMode, now);
  await enqueueJob(repos.jobs, CATALOG_SYNC_PAGE, { shopId, mode: flexMode, run: sync.run, page: 0, cursor: null }, {
    dedupeKey: pageJobKey(shopId, flexMode, sync.run, 0),
    shopId,
    subject: { type: 'shop', id: shopId },
    runAt: now,
  });
  await enqueueJob(repos.jobs, CATALOG_METAFIELD_DEFINITIONS, { shopId }, {
    dedupeKey: `${CATALOG_METAFIELD_DEFINITIONS.kind}:${shopId}`,
    shopId,
    subject: { type: 'shop', id: shopId },
    runAt: now,
  });
  return sync.run;
}

export function pageJobKey(shopId: string, flexMode: FlexMode, run: number, page: number): string {
  return `${CATALOG_SYNC_PAGE.kind}:${shopId}:${flexMode}:r${run}:p${page}`;
}

/**
 * Eligibility metafields come from one mode: live when the shop has a live key, else test (the
 * storefront is one; a test-only shop still wants to see what Flex says).
 */
export async function metafieldModeOf(repos: Repositories, shopId: string): Promise<FlexMode | null> {
  const modes = (await repos.flexConnections.listForShop(shopId)).map((c) => c.mode);
  return modes.includes('LIVE') ? 'LIVE' : modes.includes('TEST') ? 'TEST' : null;
}

/** Queues the eligibility metafields of these products, when `mode` is the one they come from. */
export async function enqueueMetafields(repos: Repositories, shopId: string, flexMode: FlexMode, productIds: string[], origin: string, now: Date): Promise<void> {
  if (productIds.length === 0 || (await metafieldModeOf(repos, shopId)) !== flexMode) return;
  await enqueueJob(repos.jobs, CATALOG_METAFIELDS, { shopId, mode: flexMode, productIds: [...new Set(productIds)].slice(0, 1000) }, {
    dedupeKey: `${CATALOG_METAFIELDS.kind}:${origin}`,
    shopId,
    subject: { type: 'shop', id: shopId },
    runAt: now,
  });
}
