import { retryAfterSeconds } from './assumptions';
import { scopeKey } from './table';
import type { Scope } from './types';
import type { DeliveryFaults } from './webhooks';

export type FaultTiming = 'before' | 'after';

export interface FailNextOptions {
  /** HTTP method to match (any if left out). */
  method?: string;
  /**
   * Which requests: a RegExp tested against the path (no query string), or a string that is a
   * literal path (`/v1/checkout/sessions/fcs_123/refund`) or a route pattern whose `:name`
   * segments match any one segment (`/v1/checkout/sessions/:id/refund`) and whose trailing `*`
   * matches the rest. A string may start with a method: `POST /v1/checkout/sessions/:id/refund`.
   * Any API path if left out.
   */
  path?: string | RegExp;
  /** Default 500. */
  status?: number;
  /** `before`: fail without doing the work. `after`: do (and store) the work, then answer the error. Default `before`. */
  when?: FaultTiming;
  /** Never answer (until `stop()`), so the client times out. With `when: 'after'` the work is done. */
  hang?: boolean;
  /** How many matching requests fail (default 1; `Infinity` for all). */
  times?: number;
  /** Body of the error answer; default `{"error":{"code":"injected_fault",…}}`. */
  body?: unknown;
}

export interface RateLimitSettings {
  /** Tokens added per second (real time, not the sandbox clock). */
  requestsPerSecond: number;
  /** Bucket size: how many calls may come at once after a pause. Default `requestsPerSecond` (at least 1). */
  burst?: number;
}

export interface FaultSettings {
  /** Probability (0–1) that an API call fails with 500 before doing any work. */
  errorRate: number;
  /** Added to every API call, while its idempotency key is held (so a concurrent retry sees 409). */
  latencyMs: number;
  /** Probability (0–1) that a webhook delivery is dropped (never attempted). */
  webhookDropRate: number;
  /** Added before every webhook delivery attempt. */
  webhookDelayMs: number;
  /**
   * A token bucket per account and mode; a call without a token is answered 429 `rate_limited`
   * with `Retry-After`, before any other work. Null: no limit.
   */
  rateLimit: RateLimitSettings | null;
}

export interface DropWebhooksOptions {
  /** Only events of this type (any if left out). */
  eventType?: string;
  /** How many deliveries to drop (default 1; `Infinity` for all). */
  times?: number;
}

/** What tests see as `flex.faults`. Faults apply to `/v1` only, never to `/__sandbox` or the hosted page. */
export interface FaultControls {
  failNext(options?: FailNextOptions): void;
  set(settings: Partial<FaultSettings>): FaultSettings;
  dropWebhooks(options?: DropWebhooksOptions): void;
  reset(): void;
  readonly settings: FaultSettings;
}

export interface InjectedFault {
  status: number;
  when: FaultTiming;
  hang: boolean;
  body: unknown;
}

interface FailRule {
  method?: string;
  matches(path: string): boolean;
  fault: InjectedFault;
  left: number;
}

interface DropRule {
  eventType?: string;
  left: number;
}

const NO_FAULTS: FaultSettings = { errorRate: 0, latencyMs: 0, webhookDropRate: 0, webhookDelayMs: 0, rateLimit: null };

function checkRateLimit(limit: RateLimitSettings | null): RateLimitSettings | null {
  if (limit === null || limit === undefined) return null;
  const { requestsPerSecond } = limit;
  if (!(Number.isFinite(requestsPerSecond) && requestsPerSecond > 0)) {
    throw new RangeError(`rateLimit.requestsPerSecond must be a positive number, got ${requestsPerSecond}`);
  }
  const burst = limit.burst ?? Math.max(1, requestsPerSecond);
  if (!(Number.isFinite(burst) && burst >= 1)) throw new RangeError(`rateLimit.burst must be at least 1, got ${burst}`);
  return { requestsPerSecond, burst };
}

interface Bucket {
  tokens: number;
  atMs: number;
}

function pathMatcher(path: string | RegExp | undefined): { method?: string; matches(path: string): boolean } {
  if (path === undefined) return { matches: () => true };
  if (path instanceof RegExp) return { matches: (p) => path.test(p) };
  const withMethod = /^([A-Za-z]+)\s+(\S+)$/.exec(path.trim());
  const pattern = (withMethod ? withMethod[2] : path.trim()).split('?')[0];
  const want = pattern.split('/');
  return {
    method: withMethod?.[1].toUpperCase(),
    matches: (actual) => {
      const got = actual.split('/');
      for (let i = 0; i < want.length; i++) {
        if (want[i] === '*' && i === want.length - 1) return got.length >= want.length;
        if (i >= got.length) return false;
        if (want[i].startsWith(':') ? got[i] === '' : want[i] !== got[i]) return false;
      }
      return got.length === want.length;
    },
  };
}

function checkRate(name: string, value: number): void {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${value}`);
}

function checkTimes(times: number): void {
  if (!(times >= 1) || (!Number.isInteger(times) && times !== Infinity)) {
    throw new RangeError(`times must be a positive integer or Infinity, got ${times}`);
  }
}

export class Faults implements FaultControls, DeliveryFaults {
  private rules: FailRule[] = [];
  private drops: DropRule[] = [];
  private current: FaultSettings;
  private readonly baseline: FaultSettings;
  private buckets = new Map<string, Bucket>();

  /** `baselineRateLimit` (the constructor option) is what `reset()` goes back to. */
  constructor(
    private readonly random: () => number = Math.random,
    baselineRateLimit: RateLimitSettings | null = null,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.baseline = { ...NO_FAULTS, rateLimit: checkRateLimit(baselineRateLimit) };
    this.current = { ...this.baseline };
  }

  get settings(): FaultSettings {
    return { ...this.current, rateLimit: this.current.rateLimit ? { ...this.current.rateLimit } : null };
  }

  failNext(options: FailNextOptions = {}): void {
    const status = options.status ?? 500;
    if (!Number.isInteger(status) || status < 100 || status > 599) throw new RangeError(`status must be an HTTP status, got ${status}`);
    const when = options.when ?? 'before';
    if (when !== 'before' && when !== 'after') throw new RangeError(`when must be 'before' or 'after', got ${String(when)}`);
    const times = options.times ?? 1;
    checkTimes(times);
    const matcher = pathMatcher(options.path);
    const method = options.method?.toUpperCase();
    if (method && matcher.method && method !== matcher.method) {
      throw new RangeError(`failNext: method ${method} contradicts the method in path "${String(options.path)}"`);
    }
    this.rules.push({
      method: method ?? matcher.method,
      matches: matcher.matches,
      fault: {
        status,
        when,
        hang: options.hang ?? false,
        body: options.body ?? { error: { code: 'injected_fault', message: `Fault injected by the Flex sandbox (${status})` } },
      },
      left: times,
    });
  }

  set(settings: Partial<FaultSettings>): FaultSettings {
    const next = { ...this.current, ...settings };
    next.rateLimit = checkRateLimit(settings.rateLimit !== undefined ? settings.rateLimit : this.current.rateLimit);
    checkRate('errorRate', next.errorRate);
    checkRate('webhookDropRate', next.webhookDropRate);
    if (!(next.latencyMs >= 0)) throw new RangeError(`latencyMs must be >= 0, got ${next.latencyMs}`);
    if (!(next.webhookDelayMs >= 0)) throw new RangeError(`webhookDelayMs must be >= 0, got ${next.webhookDelayMs}`);
    // A new limit starts with full buckets.
    if (settings.rateLimit !== undefined) this.buckets = new Map();
    this.current = next;
    return this.settings;
  }

  dropWebhooks(options: DropWebhooksOptions = {}): void {
    const times = options.times ?? 1;
    checkTimes(times);
    this.drops.push({ eventType: options.eventType, left: times });
  }

  /** No rules, no random faults; the rate limit goes back to the constructor's `rateLimit`. */
  reset(): void {
    this.rules = [];
    this.drops = [];
    this.current = { ...this.baseline };
    this.buckets = new Map();
  }

  /** Takes a token for a call of this account and mode; without one, how long to wait. */
  takeToken(scope: Scope): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const limit = this.current.rateLimit;
    if (!limit) return { ok: true };
    const burst = limit.burst ?? Math.max(1, limit.requestsPerSecond);
    const now = this.nowMs();
    const key = scopeKey(scope);
    const bucket = this.buckets.get(key) ?? { tokens: burst, atMs: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.atMs) * limit.requestsPerSecond) / 1000);
    bucket.atMs = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: retryAfterSeconds(((1 - bucket.tokens) * 1000) / limit.requestsPerSecond) };
  }

  /** The fault for this API call, if any; consumes one use of a `failNext` rule. */
  take(method: string, path: string): InjectedFault | undefined {
    const index = this.rules.findIndex((r) => (r.method === undefined || r.method === method) && r.matches(path));
    if (index !== -1) {
      const rule = this.rules[index];
      if (--rule.left <= 0) this.rules.splice(index, 1);
      return rule.fault;
    }
    if (this.current.errorRate > 0 && this.random() < this.current.errorRate) {
      return { status: 500, when: 'before', hang: false, body: { error: { code: 'injected_fault', message: 'Random fault (errorRate)' } } };
    }
    return undefined;
  }

  latencyMs(): number {
    return this.current.latencyMs;
  }

  dropDelivery(eventType: string): boolean {
    const index = this.drops.findIndex((d) => d.eventType === undefined || d.eventType === eventType);
    if (index !== -1) {
      const rule = this.drops[index];
      if (--rule.left <= 0) this.drops.splice(index, 1);
      return true;
    }
    return this.current.webhookDropRate > 0 && this.random() < this.current.webhookDropRate;
  }

  webhookDelayMs(): number {
    return this.current.webhookDelayMs;
  }
}
