// Webhooks that Shopify sends by itself when something happens (products/*, checkouts/*, orders/*,
// refunds/create), as opposed to `sendWebhook`, which a test calls explicitly. Like Shopify, only
// topics the app subscribed to are sent, only with the access scope the topic needs, and never inside
// the request that caused them. Tests can drop, delay or duplicate deliveries per topic.
import type { WebhookDelivery, WebhookOptions } from './webhooks';

/** Scopes a topic needs (shopify.dev, webhook topics reference). `write_*` implies `read_*`. */
export const TOPIC_SCOPES: Record<string, string> = {
  'products/create': 'read_products',
  'products/update': 'read_products',
  'products/delete': 'read_products',
  'checkouts/create': 'read_orders',
  'checkouts/update': 'read_orders',
  'orders/create': 'read_orders',
  'orders/paid': 'read_orders',
  'orders/updated': 'read_orders',
  'refunds/create': 'read_orders',
};

export type WebhookFaultAction = 'drop' | 'delay' | 'duplicate';

export interface WebhookFaultRule {
  /** Only this topic (e.g. `orders/create`); default any automatic webhook. */
  topic?: string;
  action: WebhookFaultAction;
  /** How many webhooks are affected, default 1 (`Infinity` allowed). */
  times?: number;
  /** `delay`: added before the delivery. */
  delayMs?: number;
  /** `duplicate`: extra deliveries with the same `X-Shopify-Webhook-Id`, default 1. */
  copies?: number;
}

export type WebhookEventOutcome = 'delivered' | 'dropped' | 'not_subscribed' | 'missing_scope' | 'no_app' | 'stopped';

/** One webhook Shopify decided to send, whatever became of it. */
export interface WebhookEventRecord {
  at: string;
  shop: string;
  topic: string;
  webhookId: string | null;
  payload: unknown;
  outcome: WebhookEventOutcome;
  delayedMs: number;
  /** The deliveries made (more than one when duplicated); also in `shopify.webhookDeliveries`. */
  deliveries: WebhookDelivery[];
}

export class WebhookFaults {
  private rules: Array<{ rule: WebhookFaultRule; remaining: number }> = [];

  add(rule: WebhookFaultRule): void {
    const times = rule.times ?? 1;
    if (!(times === Infinity || (Number.isInteger(times) && times >= 1))) throw new Error(`webhook fault: times must be a positive integer`);
    if (!['drop', 'delay', 'duplicate'].includes(rule.action)) throw new Error(`webhook fault: unknown action ${rule.action}`);
    this.rules.push({ rule: { ...rule }, remaining: times });
  }

  reset(): void {
    this.rules = [];
  }

  pending(): WebhookFaultRule[] {
    return this.rules.map((r) => ({ ...r.rule, times: r.remaining }));
  }

  /** Every armed rule of each action that matches the topic fires once. */
  take(topic: string): { drop: boolean; delayMs: number; copies: number } {
    const effect = { drop: false, delayMs: 0, copies: 0 };
    for (const action of ['drop', 'delay', 'duplicate'] as const) {
      const index = this.rules.findIndex((r) => r.rule.action === action && (!r.rule.topic || r.rule.topic === topic));
      if (index < 0) continue;
      const armed = this.rules[index]!;
      armed.remaining -= 1;
      if (armed.remaining <= 0) this.rules.splice(index, 1);
      if (action === 'drop') effect.drop = true;
      if (action === 'delay') effect.delayMs += armed.rule.delayMs ?? 1000;
      if (action === 'duplicate') effect.copies += armed.rule.copies ?? 1;
    }
    return effect;
  }
}

export interface DispatchContext {
  now(): Date;
  /** The topics the app subscribed to; `'*'` = every topic. */
  subscriptions(): readonly string[] | '*';
  hasScope(shop: string, scope: string): boolean;
  hasApp(): boolean;
  send(shop: string, topic: string, payload: unknown, options: WebhookOptions): Promise<WebhookDelivery>;
  faults: WebhookFaults;
  records: WebhookEventRecord[];
  onRecord(): void;
}

export class WebhookDispatcher {
  /** Scheduled deliveries: stop() settles them as 'stopped'. */
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly ctx: DispatchContext) {}

  /**
   * Schedules the webhook (never inside the caller's request: even 0 ms goes through a timer) and
   * resolves with its record once delivered, dropped or skipped.
   */
  emit(shop: string, topic: string, payload: unknown, options: { delayMs?: number; webhookId?: string } = {}): Promise<WebhookEventRecord> {
    const record: WebhookEventRecord = {
      at: this.ctx.now().toISOString(),
      shop,
      topic,
      webhookId: null,
      payload,
      outcome: 'delivered',
      delayedMs: 0,
      deliveries: [],
    };
    const skip = this.skipReason(shop, topic);
    if (skip) {
      record.outcome = skip;
      this.ctx.records.push(record);
      this.ctx.onRecord();
      return Promise.resolve(record);
    }
    const fault = this.ctx.faults.take(topic);
    const delayMs = (options.delayMs ?? 0) + fault.delayMs;
    record.delayedMs = delayMs;
    const work = new Promise<WebhookEventRecord>((resolve) => {
      const timer = setTimeout(async () => {
        this.timers.delete(timer);
        if (this.stopped) {
          record.outcome = 'stopped';
        } else if (fault.drop) {
          record.outcome = 'dropped';
        } else {
          const webhookId = options.webhookId ?? crypto.randomUUID();
          record.webhookId = webhookId;
          // Same webhook id (and event id) on every copy: what a duplicate delivery looks like.
          const eventId = crypto.randomUUID();
          for (let copy = 0; copy <= fault.copies && !this.stopped; copy++) {
            record.deliveries.push(await this.ctx.send(shop, topic, payload, { webhookId, eventId }));
          }
        }
        this.ctx.records.push(record);
        this.ctx.onRecord();
        resolve(record);
      }, delayMs);
      this.timers.set(timer, () => {
        record.outcome = 'stopped';
        this.ctx.records.push(record);
        resolve(record);
      });
    });
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
    return work;
  }

  /** Until every scheduled webhook has been delivered or dropped. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  stop(): void {
    this.stopped = true;
    for (const [timer, settle] of this.timers) {
      clearTimeout(timer);
      settle();
    }
    this.timers.clear();
  }

  private skipReason(shop: string, topic: string): WebhookEventOutcome | null {
    if (!this.ctx.hasApp()) return 'no_app';
    const subscriptions = this.ctx.subscriptions();
    if (subscriptions !== '*' && !subscriptions.includes(topic)) return 'not_subscribed';
    const scope = TOPIC_SCOPES[topic];
    if (scope && !this.ctx.hasScope(shop, scope)) return 'missing_scope';
    return null;
  }
}
