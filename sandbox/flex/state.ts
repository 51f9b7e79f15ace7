import { FlexSandboxError, notFound } from './errors';
import { newId, randomToken } from './ids';
import { GroupIndex, scopeKey, Table } from './table';
import type {
  Account,
  BalanceTransactionRec,
  CaptureRec,
  EventRec,
  IntentRec,
  Owned,
  PayoutRec,
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

export type { Page } from './table';

/**
 * All objects of all accounts, in memory. Objects of both modes share one table per type; every
 * lookup goes through `find` with the caller's scope, so an object of another account or mode is
 * indistinguishable from one that does not exist.
 */
export class FlexState {
  readonly accounts = new Map<string, Account>();
  private readonly keys = new Map<string, KeyEntry>();
  readonly products = new Table<ProductRec>();
  readonly prices = new Table<PriceRec>();
  readonly sessions = new Table<SessionRec>();
  readonly intents = new Table<IntentRec>();
  readonly captures = new Table<CaptureRec>();
  readonly refunds = new Table<RefundRec>();
  readonly webhooks = new Table<WebhookRec>();
  readonly events = new Table<EventRec>();
  readonly balanceTransactions = new Table<BalanceTransactionRec>();
  readonly payouts = new Table<PayoutRec>();
  /** Secondary indexes for the filters clients page through (keys from `byReference`, product ids). */
  readonly productsByReference = new GroupIndex<ProductRec>();
  readonly pricesByProduct = new GroupIndex<PriceRec>();
  readonly sessionsByReference = new GroupIndex<SessionRec>();
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

  /** Another secret key of an account (Flex's dashboard lets a merchant make several, to rotate them). */
  addKey(accountId: string, testMode: boolean): string {
    if (!this.accounts.has(accountId)) throw new FlexSandboxError('not_found', `No account ${accountId}`, 404);
    const key = testMode ? `fsk_test_${randomToken(32)}` : `fsk_${randomToken(32)}`;
    this.keys.set(key, { accountId, testMode, revoked: false });
    return key;
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

  /** Key of a `client_reference_id` within one account and mode. */
  byReference(scope: Scope, clientReferenceId: string): string {
    return `${scopeKey(scope)}\u0000${clientReferenceId}`;
  }

  /**
   * What a list filtered by `checkout_session` reads: the objects the session lists by id (its
   * intents, captures or refunds), oldest first; without the filter, every object of the scope.
   */
  ofSession<T extends Owned>(scope: Scope, table: Table<T>, sessionId: string | undefined, ids: (session: SessionRec) => string[]): readonly T[] {
    if (sessionId === undefined) return table.inScope(scope);
    const session = this.sessions.get(sessionId);
    if (!session || session.accountId !== scope.accountId || session.testMode !== scope.testMode) return [];
    return ids(session)
      .map((id) => table.get(id))
      .filter((item): item is T => item !== undefined)
      .sort((a, b) => a.seq - b.seq);
  }

  find<T extends Owned>(table: Table<T>, scope: Scope, id: string): T {
    const found = table.get(id);
    if (!found || found.accountId !== scope.accountId || found.testMode !== scope.testMode) throw notFound();
    return found;
  }

  /** Newest first, like Flex's lists; with a scope, only that account and mode are read. */
  list<T extends Owned>(table: Table<T>, scope: Scope | undefined, filter: (item: T) => boolean = () => true): T[] {
    if (scope) {
      const inScope = table.inScope(scope);
      const out: T[] = [];
      for (let i = inScope.length - 1; i >= 0; i--) if (filter(inScope[i])) out.push(inScope[i]);
      return out;
    }
    const out: T[] = [];
    for (const item of table.values()) if (filter(item)) out.push(item);
    return out.sort((a, b) => b.seq - a.seq);
  }
}
