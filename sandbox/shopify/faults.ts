// Injected failures of the GraphQL endpoint. A faulted call is answered before anything is executed,
// so it never changes state: exactly what a client has to cope with when it retries.
import { WebhookFaults } from './webhook-dispatch';

export type FaultStatus = 500 | 502 | 503 | 429 | 'timeout' | 'throttled';

export interface FaultRule {
  /**
   * Which GraphQL endpoint: the Payments Apps API (default, as before the Admin API existed here) or
   * the Admin API (`/admin/api/{version}/graphql.json`).
   */
  api?: 'payments_apps' | 'admin';
  /** Only calls whose document contains this root field (e.g. `paymentSessionResolve`, `products`); default any call. */
  mutation?: string;
  status: FaultStatus;
  /** How many matching calls fail, default 1. */
  times?: number;
  /** `Retry-After` of a 429, default 2. */
  retryAfterSeconds?: number;
}

interface ArmedFault {
  rule: FaultRule;
  remaining: number;
}

export class Faults {
  private armed: ArmedFault[] = [];
  /** Drop, delay or duplicate the webhooks Shopify sends by itself (products/*, checkouts/*, orders/*, refunds/create). */
  readonly webhooks = new WebhookFaults();

  failNext(rule: FaultRule): void {
    const times = rule.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new Error(`failNext: times must be a positive integer, got ${times}`);
    if (![500, 502, 503, 429, 'timeout', 'throttled'].includes(rule.status)) {
      throw new Error(`failNext: unsupported status ${JSON.stringify(rule.status)}`);
    }
    this.armed.push({ rule: { ...rule }, remaining: times });
  }

  reset(): void {
    this.armed = [];
    this.webhooks.reset();
  }

  /** The next `times` (default 1) automatic webhooks of `topic` (any when omitted) are not delivered. */
  dropWebhooks(rule: { topic?: string; times?: number } = {}): void {
    this.webhooks.add({ ...rule, action: 'drop' });
  }

  /** The next `times` automatic webhooks of `topic` are delivered `delayMs` later. */
  delayWebhooks(rule: { topic?: string; times?: number; delayMs: number }): void {
    this.webhooks.add({ ...rule, action: 'delay' });
  }

  /** The next `times` automatic webhooks of `topic` are delivered `copies` extra times with the same webhook id. */
  duplicateWebhooks(rule: { topic?: string; times?: number; copies?: number } = {}): void {
    this.webhooks.add({ ...rule, action: 'duplicate' });
  }

  /** Faults still to fire, for display and assertions. */
  pending(): FaultRule[] {
    return this.armed.map((a) => ({ ...a.rule, times: a.remaining }));
  }

  /** Consumes and returns the first armed fault that matches a call with these root fields. */
  take(rootFields: string[], api: 'payments_apps' | 'admin' = 'payments_apps'): FaultRule | undefined {
    const index = this.armed.findIndex(
      (a) => (a.rule.api ?? 'payments_apps') === api && (!a.rule.mutation || rootFields.includes(a.rule.mutation)),
    );
    if (index < 0) return undefined;
    const armed = this.armed[index]!;
    armed.remaining -= 1;
    if (armed.remaining <= 0) this.armed.splice(index, 1);
    return armed.rule;
  }
}

export const THROTTLED_BODY = {
  errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
  extensions: {
    cost: {
      requestedQueryCost: 10,
      actualQueryCost: null,
      throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 0, restoreRate: 50 },
    },
  },
};

export const SERVER_ERROR_BODIES: Record<500 | 502 | 503, { errors: string }> = {
  500: { errors: 'Internal Server Error' },
  502: { errors: 'Bad Gateway' },
  503: { errors: 'Service Unavailable' },
};

export const RATE_LIMITED_BODY = {
  errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
};
