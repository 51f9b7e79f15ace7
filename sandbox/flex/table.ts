import type { Owned, Scope } from './types';

// In-memory tables sized for benchmarks: the app syncs 20,000 variants into one account, so every
// list a client pages through is read from a per-scope (or per-filter) array in creation order,
// never from a scan of all objects of all accounts.

export function scopeKey(scope: Scope): string {
  return `${scope.accountId}\u0000${scope.testMode ? 'test' : 'live'}`;
}

/** Inserts keeping the array in ascending `seq` (appending is the common case). */
function insertBySeq<T extends Owned>(items: T[], item: T): void {
  if (items.length === 0 || items[items.length - 1].seq < item.seq) {
    items.push(item);
    return;
  }
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid].seq < item.seq) lo = mid + 1;
    else hi = mid;
  }
  if (items[lo]?.id !== item.id) items.splice(lo, 0, item);
}

/** Position of `item` in an array in ascending `seq`, or -1. */
export function positionOf<T extends Owned>(items: readonly T[], item: T): number {
  let lo = 0;
  let hi = items.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const seq = items[mid].seq;
    if (seq === item.seq) return items[mid].id === item.id ? mid : -1;
    if (seq < item.seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Objects of one type, by id, plus the objects of each (account, mode) in creation order. Offers
 * the `Map` methods the rest of the sandbox uses (`get`, `set`, `has`, `delete`, `values`, `size`).
 */
export class Table<T extends Owned> {
  private readonly byId = new Map<string, T>();
  private readonly byScope = new Map<string, T[]>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  set(id: string, item: T): this {
    const known = this.byId.get(id);
    this.byId.set(id, item);
    if (known !== item) {
      const key = scopeKey(item);
      let group = this.byScope.get(key);
      if (!group) this.byScope.set(key, (group = []));
      insertBySeq(group, item);
    }
    return this;
  }

  delete(id: string): boolean {
    const item = this.byId.get(id);
    if (!item) return false;
    this.byId.delete(id);
    const group = this.byScope.get(scopeKey(item));
    const at = group ? positionOf(group, item) : -1;
    if (group && at !== -1) group.splice(at, 1);
    return true;
  }

  values(): IterableIterator<T> {
    return this.byId.values();
  }

  /** The objects of one account and mode, oldest first (a live array: do not modify). */
  inScope(scope: Scope): readonly T[] {
    return this.byScope.get(scopeKey(scope)) ?? [];
  }
}

/** Objects grouped under a key (say, prices by product), each group oldest first. */
export class GroupIndex<T extends Owned> {
  private readonly groups = new Map<string, T[]>();

  add(key: string, item: T): void {
    let group = this.groups.get(key);
    if (!group) this.groups.set(key, (group = []));
    insertBySeq(group, item);
  }

  remove(key: string, item: T): void {
    const group = this.groups.get(key);
    if (!group) return;
    const at = positionOf(group, item);
    if (at !== -1) group.splice(at, 1);
    if (group.length === 0) this.groups.delete(key);
  }

  get(key: string): readonly T[] {
    return this.groups.get(key) ?? [];
  }
}

export interface Page {
  limit: number;
  offset?: number;
  startingAfter?: string;
  endingBefore?: string;
}

/**
 * One newest-first page of `items` (oldest first, as tables and indexes keep them) that pass
 * `matches`, walking only as far as the page needs. `starting_after` wins over `ending_before`,
 * and a cursor wins over `offset`; a cursor that is not in the filtered list gives an empty page.
 */
export function pageNewestFirst<T extends Owned>(
  items: readonly T[],
  page: Page,
  find: (id: string) => T | undefined,
  matches: (item: T) => boolean = () => true,
): T[] {
  const out: T[] = [];
  const cursorAt = (id: string): number => {
    const cursor = find(id);
    return cursor && matches(cursor) ? positionOf(items, cursor) : -1;
  };
  if (page.endingBefore !== undefined && page.startingAfter === undefined) {
    // The `limit` matching items just newer than the cursor, still newest first.
    const at = cursorAt(page.endingBefore);
    if (at === -1) return out;
    for (let i = at + 1; i < items.length && out.length < page.limit; i++) if (matches(items[i])) out.push(items[i]);
    return out.reverse();
  }
  let from = items.length - 1;
  if (page.startingAfter !== undefined) {
    const at = cursorAt(page.startingAfter);
    if (at === -1) return out;
    from = at - 1;
  }
  let skip = page.startingAfter === undefined ? (page.offset ?? 0) : 0;
  for (let i = from; i >= 0 && out.length < page.limit; i--) {
    if (!matches(items[i])) continue;
    if (skip > 0) skip--;
    else out.push(items[i]);
  }
  return out;
}
