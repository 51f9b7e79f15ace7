import { createHash } from 'node:crypto';
import type { FlexMode } from '@prisma/client';
import type { z } from 'zod';
import type { CatalogVariantRecord } from '../db/repositories/catalog-variants';
import type { JobRecord } from '../db/repositories/jobs';
import type { Transactor } from '../db/transactor';
import type { FlexClient } from '../flex/flex-client';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { JobHandler, JobResult } from '../outbox/outbox-worker';
import type { ShopifyAccessTokens } from '../shopify/access-tokens';
import { METAFIELDS_PER_CALL, type MetafieldDefinitionInput, type MetafieldInput, type ShopifyCatalogApi } from '../shopify/admin-catalog';
import { CATALOG_METAFIELD_DEFINITIONS, CATALOG_METAFIELDS } from './catalog-jobs';
import { catalogTarget, describeShopifyRefusal } from './catalog-target';
import { eligibilityClass, type EligibilityClass } from './eligibility';

/**
 * Flex's eligibility, written back to Shopify so the storefront and the merchant can use it (a
 * payment customization, a badge, a filter): on each product and each variant, in the `flex`
 * namespace,
 * - `flex.hsa_fsa_eligibility` (single line text): `eligible`, `letter_of_medical_necessity` or
 *   `not_eligible` (see eligibility.ts); on a product whose variants differ, `mixed`;
 * - `flex.eligibility_rationale` (multi-line text): the reason Flex gives (`eligibility_rationale`).
 * Metafield definitions make them typed and visible in the admin.
 */
export const METAFIELD_NAMESPACE = 'flex';
export const ELIGIBILITY_KEY = 'hsa_fsa_eligibility';
export const RATIONALE_KEY = 'eligibility_rationale';

const DEFINITIONS: MetafieldDefinitionInput[] = (['PRODUCT', 'PRODUCTVARIANT'] as const).flatMap((ownerType) => [
  {
    namespace: METAFIELD_NAMESPACE,
    key: ELIGIBILITY_KEY,
    name: 'HSA/FSA eligibility (Flex)',
    description: `Whether Flex accepts HSA/FSA cards for this ${ownerType === 'PRODUCT' ? 'product (mixed: its variants differ)' : 'variant'}: eligible, letter_of_medical_necessity or not_eligible.`,
    ownerType,
    type: 'single_line_text_field',
  },
  {
    namespace: METAFIELD_NAMESPACE,
    key: RATIONALE_KEY,
    name: 'HSA/FSA eligibility reason (Flex)',
    description: 'The reason Flex gives for its eligibility decision.',
    ownerType,
    type: 'multi_line_text_field',
  },
]);

/** Metafields per owner (eligibility, reason): 12 owners fill one call of 25. */
const OWNERS_PER_CALL = Math.floor(METAFIELDS_PER_CALL / 2);
const RATIONALE_LIMIT = 2_000;

type MetafieldsPayload = z.infer<typeof CATALOG_METAFIELDS.payload>;

interface Owner {
  ownerId: string;
  eligibility: EligibilityClass | 'mixed';
  rationale: string;
  digest: string;
  /** What to mark written: a variant row, or a product's rows. */
  mark: { variantRowId: string } | { shopifyProductId: string };
}

interface MetafieldJobDeps {
  transactor: Transactor;
  flex: FlexClient;
  admin: ShopifyCatalogApi;
  tokens: ShopifyAccessTokens;
  clock: Clock;
  logger: Logger;
}

/**
 * Writes the eligibility metafields of some products and their variants (those whose values changed
 * since they were last written), 12 owners (24 metafields) per `metafieldsSet`, marking each batch
 * written as it goes, so a retry continues where it stopped.
 */
export class WriteEligibilityMetafieldsJob implements JobHandler<MetafieldsPayload> {
  readonly type = CATALOG_METAFIELDS;

  constructor(private readonly deps: MetafieldJobDeps) {}

  async handle(_job: JobRecord, p: MetafieldsPayload): Promise<JobResult> {
    const { repos } = this.deps.transactor;
    const found = await catalogTarget(this.deps, p.shopId, p.mode);
    if (!found.ok && 'stop' in found) return { status: 'succeeded', result: { skipped: found.stop } };
    if (!found.ok) return { status: 'retry', error: found.retry, retryAfterMs: 1_000 };
    const rows = await repos.catalog.listOfProducts(p.shopId, p.mode, p.productIds);
    let owners = ownersToWrite(rows);
    let written = 0;
    while (owners.length > 0) {
      const batch = owners.slice(0, OWNERS_PER_CALL);
      const outcome = await this.deps.admin.setMetafields(found.shop.domain, found.token, batch.flatMap(metafieldsOf));
      if (outcome.kind === 'retry') return { status: 'retry', error: outcome.reason, retryAfterMs: outcome.retryAfterMs };
      if (outcome.kind === 'failed') {
        await repos.catalogSyncs.noteProblem(p.shopId, p.mode, `Eligibility could not be written to Shopify: ${describeShopifyRefusal(outcome.reason)}`, this.deps.clock.now());
        return { status: 'succeeded', result: { stopped: outcome.reason, written } };
      }
      const { userErrors } = outcome.value;
      if (userErrors.length > 0) {
        // All or nothing: an owner deleted since (INVALID) is dropped and the rest sent again.
        const invalid = userErrors.filter((e) => e.code === 'INVALID' && typeof e.elementIndex === 'number');
        if (invalid.length < userErrors.length) {
          return { status: 'failed', error: `Shopify refused the eligibility metafields: ${userErrors.map((e) => `${e.code ?? ''} ${e.message}`).join('; ')}` };
        }
        const gone = new Set(invalid.map((e) => batch[Math.floor(e.elementIndex! / 2)]?.ownerId));
        owners = owners.filter((o) => !gone.has(o.ownerId));
        continue;
      }
      await this.markWritten(p.shopId, p.mode, batch);
      written += batch.length;
      owners = owners.slice(batch.length);
    }
    return { status: 'succeeded', result: { written } };
  }

  private async markWritten(shopId: string, mode: FlexMode, batch: Owner[]): Promise<void> {
    const { repos } = this.deps.transactor;
    await repos.catalog.markVariantMetafieldsWritten(batch.flatMap((o) => ('variantRowId' in o.mark ? [{ id: o.mark.variantRowId, digest: o.digest }] : [])));
    await repos.catalog.markProductMetafieldsWritten(shopId, mode, batch.flatMap((o) => ('shopifyProductId' in o.mark ? [{ shopifyProductId: o.mark.shopifyProductId, digest: o.digest }] : [])));
  }
}

/** Every product and variant among `rows` whose eligibility metafields differ from what was written. */
export function ownersToWrite(rows: CatalogVariantRecord[]): Owner[] {
  const owners: Owner[] = [];
  const byProduct = new Map<string, CatalogVariantRecord[]>();
  for (const row of rows) {
    const cls = eligibilityClass(row.eligibility);
    if (!cls) continue;
    const rationale = (row.eligibilityReason?.trim() || defaultRationale(cls)).slice(0, RATIONALE_LIMIT);
    const digest = digestOf(cls, rationale);
    if (row.variantMetafieldDigest !== digest) {
      owners.push({ ownerId: `gid://shopify/ProductVariant/${row.shopifyVariantId}`, eligibility: cls, rationale, digest, mark: { variantRowId: row.id } });
    }
    byProduct.set(row.shopifyProductId, [...(byProduct.get(row.shopifyProductId) ?? []), row]);
  }
  for (const [productId, variants] of byProduct) {
    const classes = new Set(variants.map((v) => eligibilityClass(v.eligibility)));
    const eligibility = classes.size === 1 ? [...classes][0]! : 'mixed';
    const reasons = [...new Set(variants.map((v) => v.eligibilityReason?.trim()).filter((r): r is string => Boolean(r)))];
    const rationale = (reasons.length === 0 ? defaultRationale(eligibility) : reasons.slice(0, 5).join('\n')).slice(0, RATIONALE_LIMIT);
    const digest = digestOf(eligibility, rationale);
    if (variants.some((v) => v.productMetafieldDigest !== digest)) {
      owners.unshift({ ownerId: `gid://shopify/Product/${productId}`, eligibility, rationale, digest, mark: { shopifyProductId: productId } });
    }
  }
  return owners;
}

function metafieldsOf(owner: Owner): MetafieldInput[] {
  return [
    { ownerId: owner.ownerId, namespace: METAFIELD_NAMESPACE, key: ELIGIBILITY_KEY, type: 'single_line_text_field', value: owner.eligibility },
    { ownerId: owner.ownerId, namespace: METAFIELD_NAMESPACE, key: RATIONALE_KEY, type: 'multi_line_text_field', value: owner.rationale },
  ];
}

function defaultRationale(eligibility: EligibilityClass | 'mixed'): string {
  return eligibility === 'mixed' ? 'The variants of this product differ in HSA/FSA eligibility.' : 'Flex gave no reason.';
}

function digestOf(eligibility: string, rationale: string): string {
  return createHash('sha256').update(`${eligibility}\n${rationale}`).digest('hex').slice(0, 16);
}

/**
 * The metafield definitions, once per shop: typed and shown (pinned) on products and variants in the
 * admin. A definition that exists already is fine; when the shop's pinned definitions are full, the
 * definition is made unpinned.
 */
export class CreateEligibilityDefinitionsJob implements JobHandler<z.infer<typeof CATALOG_METAFIELD_DEFINITIONS.payload>> {
  readonly type = CATALOG_METAFIELD_DEFINITIONS;

  constructor(private readonly deps: MetafieldJobDeps) {}

  async handle(_job: JobRecord, { shopId }: z.infer<typeof CATALOG_METAFIELD_DEFINITIONS.payload>): Promise<JobResult> {
    const { repos } = this.deps.transactor;
    const shop = await repos.shops.findById(shopId);
    if (!shop || shop.status !== 'ACTIVE') return { status: 'succeeded', result: { skipped: 'not installed' } };
    const token = await this.deps.tokens.forShop(shop.domain);
    if (!token) return { status: 'retry', error: 'no Shopify access token for the shop yet', retryAfterMs: 1_000 };
    let pending = DEFINITIONS.map((d) => ({ ...d, pin: true }));
    const created: string[] = [];
    while (pending.length > 0) {
      const outcome = await this.deps.admin.createMetafieldDefinitions(shop.domain, token, pending);
      if (outcome.kind === 'retry') return { status: 'retry', error: outcome.reason, retryAfterMs: outcome.retryAfterMs };
      if (outcome.kind === 'failed') return { status: 'succeeded', result: { skipped: describeShopifyRefusal(outcome.reason) } };
      const again: typeof pending = [];
      outcome.value.userErrors.forEach((errors, i) => {
        const definition = pending[i]!;
        if (errors.length === 0) created.push(`${definition.ownerType}.${definition.key}`);
        else if (errors.some((e) => e.code === 'PINNED_LIMIT_REACHED') && definition.pin) again.push({ ...definition, pin: false });
        else if (!errors.every((e) => e.code === 'TAKEN')) this.deps.logger.warn({ shopId, definition: definition.key, errors }, 'Shopify refused a metafield definition');
      });
      pending = again;
    }
    return { status: 'succeeded', result: { created } };
  }
}
