import { randomUUID } from 'node:crypto';
import type { FlexMode } from '@prisma/client';
import { rejectionMarker, type ClaimedVariant, type PushResult, type PushSelection } from '../db/repositories/catalog-variants';
import type { Transactor } from '../db/transactor';
import { FlexApiError, type FlexAccountClient } from '../flex/flex-client';
import type { FlexProduct } from '../flex/flex-types';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { formatMoney, toSafeNumber } from '../lib/money';
import { sleep } from '../lib/sleep';
import { flexProductFor, flexProductReference } from './catalog-item';

/** The push must stop and its job run again later (rate limited for long, out of time, Flex down). */
export class PushLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'PushLater';
  }
}

export interface PushTarget {
  shopId: string;
  shopDomain: string;
  mode: FlexMode;
  flex: FlexAccountClient;
}

export interface PushOutcome {
  /** Variants claimed and pushed to the end (in sync now, or refused by Flex for good). */
  pushed: number;
  /** Of those, the ones Flex refused (4xx): they wait for Shopify to change them. */
  refused: number;
  /** Selected variants another push holds now. */
  heldElsewhere: number;
  /** As many were claimed as the limit allowed: there may be more. */
  full: boolean;
  /** The Shopify products of the variants pushed (their eligibility may be new). */
  productIds: string[];
}

export interface PushOptions {
  /** Flex calls in flight at once for one push (default 4). */
  concurrency?: number;
  /** How long a push may hold a variant (default 5 min; longer than `budgetMs`). */
  leaseMs?: number;
  /** How long a push may take, waits for Flex's rate limit included, before it stops for later (default 90 s). */
  budgetMs?: number;
}

const RESULT_FLUSH = 50;

/**
 * The pace of one Flex account and mode's catalog pushes, learned from its 429s (Flex publishes no
 * limits): each 429 doubles the spacing between calls, each run of successes shortens it by a tenth.
 * Kept across pushes, so the next page does not burst into the limit again, and so the sync leaves
 * room under the account's limit for buyers' checkouts.
 */
class Pacer {
  private intervalMs = 0;
  private nextSlot = 0;
  private successes = 0;
  private slowedAt = 0;

  /** Waits for this call's slot. */
  async slot(): Promise<void> {
    if (this.intervalMs === 0) return;
    const now = Date.now();
    const at = Math.max(now, this.nextSlot);
    this.nextSlot = at + this.intervalMs;
    if (at > now) await sleep(at - now);
  }

  succeeded(): void {
    if (this.intervalMs === 0 || ++this.successes < 20) return;
    this.successes = 0;
    this.intervalMs = this.intervalMs < 1 ? 0 : this.intervalMs * 0.9;
  }

  /** Calls in flight together all meet the same 429: that is one signal, not one per call. */
  rateLimited(): void {
    this.successes = 0;
    if (Date.now() - this.slowedAt < 1_000) return;
    this.slowedAt = Date.now();
    this.intervalMs = Math.min(1_000, Math.max(5, this.intervalMs * 2));
  }
}

const PACERS_KEPT = 1_000;

/**
 * Makes Flex hold what Shopify says for the selected variants: a product per variant (made, PATCHed
 * when its name, description, URL or barcode change, deactivated when the variant is deleted) and its
 * active price (a new amount is a new price; the old one is deactivated, since Flex prices are
 * immutable). Every create and update carries an Idempotency-Key derived from the shop, mode, variant
 * and, for prices, the amount and a generation, so a retry after a lost answer finds what Flex made.
 * A variant whose last push did not finish first looks for objects Flex made without our knowing (by
 * client_reference_id, and the product's active prices), so even after Flex forgets a key nothing
 * is made twice.
 *
 * Flex's 429 pauses the whole push for its Retry-After; a push that would run past its budget stops
 * and its job runs again later. What Flex holds is written back in batches, under the push's lease.
 */
export class FlexCatalogPusher {
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly budgetMs: number;
  private readonly pacers = new Map<string, Pacer>();

  constructor(
    private readonly deps: { transactor: Transactor; clock: Clock; logger: Logger },
    options: PushOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 4;
    this.budgetMs = options.budgetMs ?? 90_000;
    this.leaseMs = options.leaseMs ?? Math.max(5 * 60_000, 2 * this.budgetMs);
  }

  async push(target: PushTarget, selection: PushSelection, limit: number): Promise<PushOutcome> {
    const { repos } = this.deps.transactor;
    const token = randomUUID();
    const now = this.deps.clock.now();
    const claimed = await repos.catalog.claimForPush(target.shopId, target.mode, selection, { token, until: new Date(now.getTime() + this.leaseMs), now }, limit);
    const run = new PushRun(target, this.pacerFor(target), this.deps.clock, this.deps.logger, Date.now() + this.budgetMs);
    const results: PushResult[] = [];
    let refused = 0;
    let pushed = 0;
    const productIds = new Set<string>();
    const flush = async () => {
      const batch = results.splice(0, results.length);
      if (batch.length > 0) await repos.catalog.recordPushResults(token, batch);
    };
    try {
      let next = 0;
      const worker = async () => {
        while (!run.stopped && next < claimed.length) {
          const row = claimed[next++]!;
          const result = await run.pushVariant(row);
          results.push(result);
          if (result.finished) pushed += 1;
          if (result.finished && !row.deletedAt) productIds.add(row.shopifyProductId);
          if (result.finished && result.flexRejectedFor) refused += 1;
          if (results.length >= RESULT_FLUSH) await flush();
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.concurrency, claimed.length) }, worker));
      await flush();
    } finally {
      await repos.catalog.releaseLeases(token);
    }
    if (run.stopReason) throw run.stopReason;
    if (run.transientFailures > 0) throw new PushLater(`Flex did not answer for ${run.transientFailures} variant(s): ${run.lastTransient}`);
    const heldElsewhere = 'pending' in selection ? 0 : await repos.catalog.countHeldElsewhere(target.shopId, target.mode, selection, token, this.deps.clock.now());
    return { pushed, refused, heldElsewhere, full: claimed.length >= limit, productIds: [...productIds] };
  }

  private pacerFor(target: PushTarget): Pacer {
    const key = `${target.shopId}:${target.mode}`;
    let pacer = this.pacers.get(key);
    if (!pacer) {
      if (this.pacers.size >= PACERS_KEPT) this.pacers.clear();
      pacer = new Pacer();
      this.pacers.set(key, pacer);
    }
    return pacer;
  }
}

type VariantState = Omit<PushResult, 'id' | 'finished'>;

/** One push: the Flex calls of its variants, sharing a pause when Flex says 429, and a deadline. */
class PushRun {
  private pauseUntil = 0;
  stopReason: Error | undefined;
  transientFailures = 0;
  lastTransient = '';

  constructor(
    private readonly target: PushTarget,
    private readonly pacer: Pacer,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly deadline: number,
  ) {}

  get stopped(): boolean {
    return this.stopReason !== undefined;
  }

  async pushVariant(row: ClaimedVariant): Promise<PushResult> {
    const state: VariantState = {
      flexProductId: row.flexProductId,
      flexProductRevision: row.flexProductRevision,
      flexProductActive: row.flexProductActive,
      flexProductGeneration: row.flexProductGeneration,
      flexPriceId: row.flexPriceId,
      flexPriceMinor: row.flexPriceMinor === null ? null : toSafeNumber(row.flexPriceMinor),
      flexPriceGeneration: row.flexPriceGeneration,
      staleFlexPriceId: row.staleFlexPriceId,
      flexRejectedFor: row.flexRejectedFor,
      lastError: row.lastError,
      eligibility: row.eligibility,
      eligibilityReason: row.eligibilityReason,
      eligibilityAt: row.eligibilityAt,
      syncedAt: row.syncedAt,
    };
    try {
      if (row.deletedAt) await this.deactivate(row, state);
      else {
        await this.product(row, state);
        await this.price(row, state);
        state.syncedAt = this.clock.now();
      }
      state.lastError = null;
      return { id: row.id, ...state, finished: true };
    } catch (error) {
      return { id: row.id, ...state, ...this.failure(row, error) };
    }
  }

  /** What a failed push leaves: a refusal is final for this revision and amount; anything else is tried again. */
  private failure(row: ClaimedVariant, error: unknown): Pick<PushResult, 'flexRejectedFor' | 'lastError' | 'finished'> {
    const message = (error as Error).message;
    if (error instanceof FlexApiError && error.kind === 'rejected') {
      this.logger.warn({ variant: row.shopifyVariantId, err: message }, 'Flex refused a catalog product or price');
      return { flexRejectedFor: rejectionMarker(row.productRevision, row.priceMinor), lastError: message, finished: true };
    }
    if (error instanceof PushLater) this.stopReason ??= error;
    else if (error instanceof FlexApiError && error.kind === 'unauthorized') this.stopReason ??= error;
    else {
      this.transientFailures += 1;
      this.lastTransient = message;
    }
    return { flexRejectedFor: row.flexRejectedFor, lastError: message, finished: false };
  }

  private key(row: ClaimedVariant, what: string): string {
    return `catalog:${this.target.shopDomain}:${this.target.mode}:variant:${row.shopifyVariantId}:${what}`;
  }

  private async deactivate(row: ClaimedVariant, state: VariantState): Promise<void> {
    if (!state.flexProductId || !state.flexProductActive) return;
    const productId = state.flexProductId;
    await this.ignoringNotFound(() => this.target.flex.updateProduct(productId, { active: false }, this.key(row, `deactivate:${productId}:r${row.productRevision}`)));
    state.flexProductActive = false;
  }

  private async product(row: ClaimedVariant, state: VariantState): Promise<void> {
    const body = flexProductFor(this.target.shopDomain, row);
    if (!state.flexProductId && row.recovering) {
      // The last push may have made it and lost the answer.
      const [found] = await this.call(() => this.target.flex.listProductsByReference(flexProductReference(this.target.shopDomain, row.shopifyVariantId), { active: true }));
      if (found) {
        state.flexProductId = found.product_id;
        state.flexProductRevision = null; // PATCHed below to what Shopify says now
        state.flexProductActive = found.active !== false;
      }
    }
    if (state.flexProductId && (state.flexProductRevision !== row.productRevision || !state.flexProductActive)) {
      const productId = state.flexProductId;
      const { client_reference_id: _reference, ...patch } = body;
      try {
        const updated = await this.call(() => this.target.flex.updateProduct(productId, { ...patch, active: true }, this.key(row, `product:${productId}:r${row.productRevision}`)));
        this.judged(state, updated);
        state.flexProductRevision = row.productRevision;
        state.flexProductActive = true;
        return;
      } catch (error) {
        if (!(error instanceof FlexApiError) || error.kind !== 'not_found') throw error;
        // Flex no longer has the product: made again (a new generation, so not the old one replayed),
        // with prices of its own.
        state.flexProductGeneration += 1;
        state.flexProductId = null;
        state.flexPriceId = null;
        state.flexPriceMinor = null;
        state.staleFlexPriceId = null;
      }
    }
    if (!state.flexProductId) {
      const created = await this.call(() => this.target.flex.createProduct(body, this.key(row, `product:g${state.flexProductGeneration}`)));
      state.flexProductId = created.product_id;
      state.flexProductRevision = row.productRevision;
      state.flexProductActive = true;
      this.judged(state, created);
    }
  }

  private async price(row: ClaimedVariant, state: VariantState): Promise<void> {
    const productId = state.flexProductId!;
    const amount = toSafeNumber(row.priceMinor);
    await this.deactivateStale(row, state);
    if (state.flexPriceId && state.flexPriceMinor === amount) return;
    let priceId: string | undefined;
    if (row.recovering) {
      // Prices made by pushes whose answers were lost: one of the right amount is adopted, the rest go.
      const active = await this.call(() => this.target.flex.listPricesOfProduct(productId, { active: true }));
      priceId = active.find((p) => p.unit_amount === amount && p.price_id !== state.flexPriceId)?.price_id;
      for (const orphan of active) {
        if (orphan.price_id === priceId || orphan.price_id === state.flexPriceId) continue;
        await this.ignoringNotFound(() => this.target.flex.deactivatePrice(orphan.price_id, `catalog:${this.target.shopDomain}:${this.target.mode}:price-deactivate:${orphan.price_id}`));
      }
    }
    if (!priceId) {
      const created = await this.call(() =>
        this.target.flex.createPrice(
          {
            product: productId,
            unit_amount: amount,
            description: `${row.title}, ${formatMoney(amount, row.currency)}`,
            metadata: { shopify_variant_id: row.shopifyVariantId, price_generation: String(state.flexPriceGeneration) },
          },
          this.key(row, `price:${productId}:${amount}:g${state.flexPriceGeneration}`),
        ),
      );
      priceId = created.price_id;
    }
    state.staleFlexPriceId = state.flexPriceId;
    state.flexPriceId = priceId;
    state.flexPriceMinor = amount;
    state.flexPriceGeneration += 1;
    await this.deactivateStale(row, state);
  }

  private async deactivateStale(_row: ClaimedVariant, state: VariantState): Promise<void> {
    const stale = state.staleFlexPriceId;
    if (!stale) return;
    await this.ignoringNotFound(() => this.target.flex.deactivatePrice(stale, `catalog:${this.target.shopDomain}:${this.target.mode}:price-deactivate:${stale}`));
    state.staleFlexPriceId = null;
  }

  private judged(state: VariantState, product: FlexProduct): void {
    if (product.hsa_fsa_eligibility === undefined || product.hsa_fsa_eligibility === null) return;
    state.eligibility = product.hsa_fsa_eligibility;
    state.eligibilityReason = product.eligibility_rationale ?? null;
    state.eligibilityAt = this.clock.now();
  }

  private async ignoringNotFound(call: () => Promise<unknown>): Promise<void> {
    try {
      await this.call(call);
    } catch (error) {
      if (!(error instanceof FlexApiError) || error.kind !== 'not_found') throw error;
    }
  }

  /**
   * One Flex call: a 429 pauses every call of this push for Retry-After (the limit is the account's,
   * not the call's) and then tries again; other unknown outcomes are tried twice more with the same
   * Idempotency-Key. Past the budget the push stops for its job to run again.
   */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; ) {
      if (this.stopReason) throw this.stopReason;
      const wait = this.pauseUntil - Date.now();
      if (wait > 0) {
        if (Date.now() + wait > this.deadline) throw new PushLater(`Flex rate limited the catalog push; going on in ${Math.ceil(wait / 1000)} s`, wait);
        await sleep(wait);
      }
      if (Date.now() > this.deadline) throw new PushLater('the catalog push ran out of time; going on with the next run', 0);
      await this.pacer.slot();
      try {
        const answer = await request();
        this.pacer.succeeded();
        return answer;
      } catch (error) {
        if (!(error instanceof FlexApiError) || error.kind !== 'unavailable') throw error;
        if (error.status === 429) {
          this.pacer.rateLimited();
          this.pauseUntil = Math.max(this.pauseUntil, Date.now() + (error.retryAfterMs ?? 1_000));
          continue;
        }
        if (attempt >= 3) throw error;
        await sleep(300 * attempt);
        attempt += 1;
      }
    }
  }
}
