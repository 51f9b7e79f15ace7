import { FlexSandboxError, notFound } from './errors';
import { newId, randomToken } from './ids';
import type {
  Account,
  CaptureRec,
  EventRec,
  IntentRec,
  Owned,
  PriceRec,
  ProductRec,
  RefundRec,
  Scope,
  SessionRec,
  WebhookRec,
} from './types';

export interface CreateAccountInput {
  name?: string;
  /** Fixed ids and keys make `npm start` set-ups reproducible; tests normally let the sandbox pick. */
  accountId?: string;
  liveKey?: string;
  testKey?: string;
}

interface KeyEntry extends Scope {
  revoked: boolean;
}

export interface Page {
  limit: number;
  offset?: number;
  startingAfter?: string;
  endingBefore?: string;
}

/**
 * All objects of all accounts, in memory. Objects of both modes share one map per type; every
 * lookup goes through `find` with the caller's scope, so an object of another account or mode is
 * indistinguishable from one that does not exist.
 */
export class FlexState {
  readonly accounts = new Map<string, Account>();
  private readonly keys = new Map<string, KeyEntry>();
  readonly products = new Map<string, ProductRec>();
  readonly prices = new Map<string, PriceRec>();
  readonly sessions = new Map<string, SessionRec>();
  readonly intents = new Map<string, IntentRec>();
  readonly captures = new Map<string, CaptureRec>();
  readonly refunds = new Map<string, RefundRec>();
  readonly webhooks = new Map<string, WebhookRec>();
  readonly events = new Map<string, EventRec>();
  private seq = 0;

  createAccount(input: CreateAccountInput = {}): Account {
    const accountId = input.accountId ?? newId('facct_');
    const liveKey = input.liveKey ?? `fsk_${randomToken(32)}`;
    const testKey = input.testKey ?? `fsk_test_${randomToken(32)}`;
    if (this.accounts.has(accountId)) {
      throw new FlexSandboxError('account_exists', `Account ${accountId} already exists`);
    }
    if (!liveKey.startsWith('fsk_') || liveKey.startsWith('fsk_test_')) {
      throw new FlexSandboxError('invalid_key', 'A live key must start with fsk_ (and not fsk_test_)', 400);
    }
    if (!testKey.startsWith('fsk_test_')) {
      throw new FlexSandboxError('invalid_key', 'A test key must start with fsk_test_', 400);
    }
    for (const key of [liveKey, testKey]) {
      if (this.keys.has(key)) throw new FlexSandboxError('key_exists', `Key ${key.slice(0, 12)}… is already in use`);
    }
    const account: Account = { accountId, name: input.name ?? 'Sandbox Store', liveKey, testKey };
    this.accounts.set(accountId, account);
    this.keys.set(liveKey, { accountId, testMode: false, revoked: false });
    this.keys.set(testKey, { accountId, testMode: true, revoked: false });
    return account;
  }

  authenticate(key: string): Scope | undefined {
    const entry = this.keys.get(key);
    if (!entry || entry.revoked) return undefined;
    return { accountId: entry.accountId, testMode: entry.testMode };
  }

  revokeKey(key: string): void {
    const entry = this.keys.get(key);
    if (!entry) throw new FlexSandboxError('not_found', 'Unknown API key', 404);
    entry.revoked = true;
  }

  /** The id, owner and creation fields every new object starts with. */
  owned(scope: Scope, prefix: string, nowMs: number): Owned {
    return { id: newId(prefix), accountId: scope.accountId, testMode: scope.testMode, seq: ++this.seq, createdAtMs: nowMs };
  }

  find<T extends Owned>(map: Map<string, T>, scope: Scope, id: string): T {
    const found = map.get(id);
    if (!found || found.accountId !== scope.accountId || found.testMode !== scope.testMode) throw notFound();
    return found;
  }

  /** Newest first, like Flex's lists. */
  list<T extends Owned>(map: Map<string, T>, scope: Scope | undefined, filter: (item: T) => boolean = () => true): T[] {
    const out: T[] = [];
    for (const item of map.values()) {
      if (scope && (item.accountId !== scope.accountId || item.testMode !== scope.testMode)) continue;
      if (filter(item)) out.push(item);
    }
    return out.sort((a, b) => b.seq - a.seq);
  }
}

/** Cursor (`starting_after`/`ending_before`) or offset paging over a newest-first list. */
export function paginate<T extends Owned>(items: T[], page: Page): T[] {
  let from = 0;
  let to = items.length;
  if (page.startingAfter !== undefined) {
    const at = items.findIndex((i) => i.id === page.startingAfter);
    from = at === -1 ? items.length : at + 1;
  } else if (page.endingBefore !== undefined) {
    const at = items.findIndex((i) => i.id === page.endingBefore);
    to = at === -1 ? 0 : at;
    from = Math.max(0, to - page.limit);
    return items.slice(from, to);
  } else if (page.offset !== undefined) {
    from = page.offset;
  }
  return items.slice(from, Math.min(to, from + page.limit));
}
