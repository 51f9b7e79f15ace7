import type { Clock } from './clock';
import { errorBody } from './errors';
import type { Scope } from './types';

export interface StoredResponse {
  status: number;
  body: unknown;
}

export type IdempotencyOutcome =
  /** First use of the key: the caller does the work, then `complete`s or `release`s the slot. */
  | { kind: 'new'; complete(response: StoredResponse): void; release(): void }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'conflict'; response: StoredResponse };

interface Entry {
  fingerprint: string;
  state: 'in_flight' | 'done';
  response?: StoredResponse;
  createdAtMs: number;
}

/** Keys are kept for 24 hours of sandbox time, like Stripe's. */
const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;

/** JSON with object keys sorted at every level, so `{a,b}` and `{b,a}` compare equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * `Idempotency-Key` handling, scoped per (account, mode): the same key may be used by another
 * account, or in the other mode of the same account, without any effect.
 */
export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private inserts = 0;

  constructor(private readonly clock: Clock) {}

  begin(scope: Scope, key: string, request: { method: string; path: string; body: unknown }): IdempotencyOutcome {
    const slot = `${scope.accountId}\u0000${scope.testMode ? 'test' : 'live'}\u0000${key}`;
    const fingerprint = `${request.method} ${request.path} ${canonicalJson(request.body ?? {})}`;
    const now = this.clock.nowMs();
    const existing = this.entries.get(slot);
    if (existing && now - existing.createdAtMs < KEY_LIFETIME_MS) {
      if (existing.state === 'in_flight') {
        return {
          kind: 'conflict',
          response: {
            status: 409,
            body: errorBody('idempotency_request_in_progress', 'A request with this Idempotency-Key is still being processed; retry later'),
          },
        };
      }
      if (existing.fingerprint !== fingerprint) {
        return {
          kind: 'conflict',
          response: {
            status: 400,
            body: errorBody(
              'idempotency_key_reused',
              'This Idempotency-Key was already used with a different method, path or body',
            ),
          },
        };
      }
      return { kind: 'replay', response: existing.response as StoredResponse };
    }
    const entry: Entry = { fingerprint, state: 'in_flight', createdAtMs: now };
    this.entries.set(slot, entry);
    if (++this.inserts % 1000 === 0) this.prune(now);
    return {
      kind: 'new',
      complete: (response) => {
        entry.state = 'done';
        entry.response = response;
      },
      release: () => {
        if (this.entries.get(slot) === entry) this.entries.delete(slot);
      },
    };
  }

  /** Long benchmarks create many keys; expired ones are dropped now and then. */
  private prune(now: number): void {
    for (const [slot, entry] of this.entries) {
      if (entry.state === 'done' && now - entry.createdAtMs >= KEY_LIFETIME_MS) this.entries.delete(slot);
    }
  }
}
