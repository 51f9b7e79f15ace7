import { timingSafeEqual } from 'node:crypto';
import type { Repositories } from '../db/repositories';
import type { Clock } from '../lib/clock';
import { normalizeShopDomain } from '../lib/shop-domain';
import { toSnapshotInput } from './cart-snapshot';
import { pixelPostSchema, snapshotOfPixelPost } from './pixel-event';

/**
 * - stored: a cart snapshot was kept (or a newer one was already there);
 * - ignored: nothing kept and nothing said about why to the sender (an unknown shop, a wrong key,
 *   an event without a cart): the answer is the same as for a stored post;
 * - invalid: the body is not a pixel post at all (400, with what is wrong).
 */
export type PixelPostOutcome =
  | { type: 'stored'; shopDomain: string }
  | { type: 'ignored'; reason: string; shopDomain?: string }
  | { type: 'invalid'; message: string };

/**
 * `POST /pixel/checkout`: a cart the storefront's pixel saw. Public and unauthenticated, so hostile
 * until proven otherwise: bounded before parsing, checked field by field, tied to a shop only when
 * the post names an installed shop and carries that shop's pixel key, and never trusted for prices
 * (the pay page re-prices every line from the synced catalog).
 */
export class RecordPixelPost {
  constructor(private readonly deps: { repos: Repositories; clock: Clock }) {}

  /** `body`: the post's JSON, already bounded and parsed (http/json-body.ts). */
  async execute(body: unknown): Promise<PixelPostOutcome> {
    const parsed = pixelPostSchema.safeParse(body);
    if (!parsed.success) {
      return { type: 'invalid', message: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') };
    }
    const post = parsed.data;
    const shopDomain = normalizeShopDomain(post.shop);
    if (!shopDomain) return { type: 'ignored', reason: 'not a shop domain' };
    const shop = await this.deps.repos.shops.findByDomain(shopDomain);
    if (!shop || shop.status !== 'ACTIVE' || !shop.pixelKey || !sameKey(shop.pixelKey, post.key)) {
      return { type: 'ignored', reason: 'unknown shop or pixel key' };
    }
    const snapshot = snapshotOfPixelPost(post);
    if (!snapshot.ok) return { type: 'ignored', reason: snapshot.reason, shopDomain };
    await this.deps.repos.cartSnapshots.save({ ...toSnapshotInput(snapshot.draft, this.deps.clock.now()), shopId: shop.id });
    return { type: 'stored', shopDomain };
  }
}

function sameKey(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
