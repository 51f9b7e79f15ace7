import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Clock } from './clock';
import { FlexSandboxError } from './errors';
import { newSigningSecret, randomToken } from './ids';
import { webhookWire } from './serialize';
import type { FlexState } from './state';
import type { Timers } from './timers';
import type { EventRec, Scope, WebhookRec, Wire } from './types';
import { Input, envelope } from './validate';

// Signed event delivery in the Svix format Flex uses, with retries, plus the /v1/webhooks
// endpoints that register receivers. Signing is written here from the Svix spec on purpose, not
// shared with the app, so a mistake on either side shows up as a failed verification.

/** The HMAC key: base64-decode of everything after the first `_` of `fwhsec_…`. */
export function signingKey(secret: string): Buffer {
  return Buffer.from(secret.slice(secret.indexOf('_') + 1), 'base64');
}

/** `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`. */
export function signWebhook(secret: string, msgId: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', signingKey(secret)).update(`${msgId}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export type WebhookHeaderStyle = 'svix' | 'webhook' | 'both';

const COMPLETED_SPELLINGS = ['checkout.session.completed', 'checkout_session.completed'];

/** `*` subscribes to everything; the two spellings of the completed event stand for each other. */
function subscribes(endpoint: WebhookRec, type: string): boolean {
  if (endpoint.events.includes('*') || endpoint.events.includes(type)) return true;
  return COMPLETED_SPELLINGS.includes(type) && endpoint.events.some((e) => COMPLETED_SPELLINGS.includes(e));
}

export interface DeliveryAttempt {
  /** Sandbox clock, ISO-8601. */
  at: string;
  status?: number;
  error?: string;
  durationMs: number;
}

export interface DeliveryRecord {
  eventId: string;
  svixId: string;
  eventType: string;
  webhookId: string;
  url: string;
  attempts: DeliveryAttempt[];
  delivered: boolean;
  /** Dropped by a fault: never attempted. */
  dropped: boolean;
  /** No further attempt will be made (delivered, dropped, retries exhausted, or endpoint deleted). */
  done: boolean;
}

export interface DeliveryFaults {
  dropDelivery(eventType: string): boolean;
  webhookDelayMs(): number;
}

export interface DispatcherConfig {
  retryDelaysMs: number[];
  timeoutMs: number;
  headerStyle: WebhookHeaderStyle;
  recordLimit: number;
}

export class WebhookDispatcher {
  readonly deliveries: DeliveryRecord[] = [];
  private pending = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly inFlight = new Set<http.ClientRequest>();
  private stopped = false;

  constructor(
    private readonly state: FlexState,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly faults: DeliveryFaults,
    private readonly config: DispatcherConfig,
  ) {}

  publish(scope: Scope, type: string, object: Wire): EventRec {
    const now = this.clock.nowMs();
    const owned = this.state.owned(scope, 'fevt_', now);
    const body = JSON.stringify({
      event_id: owned.id,
      event_type: type,
      event_dt: Math.floor(now / 1000),
      created_at: this.clock.iso(now),
      test_mode: scope.testMode,
      object,
    });
    const event: EventRec = { ...owned, type, body, svixId: `msg_${randomToken(27)}` };
    this.state.events.set(event.id, event);
    for (const endpoint of this.state.list(this.state.webhooks, scope, (w) => subscribes(w, type)).reverse()) {
      this.deliver(event, endpoint);
    }
    return event;
  }

  /** Sends an event again (Svix "resend"): same `svix-id`, fresh timestamp and signature. */
  redeliver(eventId: string, webhookId?: string): DeliveryRecord[] {
    const event = this.state.events.get(eventId);
    if (!event) throw new FlexSandboxError('not_found', `No event ${eventId}`, 404);
    const endpoints = this.state.list(this.state.webhooks, event, (w) =>
      webhookId === undefined ? subscribes(w, event.type) : w.id === webhookId,
    );
    if (webhookId !== undefined && endpoints.length === 0) {
      throw new FlexSandboxError('not_found', `No webhook ${webhookId} for this event's account and mode`, 404);
    }
    return endpoints.reverse().map((endpoint) => this.deliver(event, endpoint));
  }

  /** Resolves once no delivery is waiting for an attempt (including scheduled retries). */
  waitForIdle(timeoutMs: number): Promise<void> {
    if (this.pending === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        reject(new Error(`Flex sandbox: ${this.pending} webhook deliveries still pending after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.idleWaiters.push(done);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const request of this.inFlight) request.destroy();
    this.inFlight.clear();
    this.pending = 0;
    this.notifyIdle();
  }

  resume(): void {
    this.stopped = false;
  }

  private deliver(event: EventRec, endpoint: WebhookRec): DeliveryRecord {
    const record: DeliveryRecord = {
      eventId: event.id,
      svixId: event.svixId,
      eventType: event.type,
      webhookId: endpoint.id,
      url: endpoint.url,
      attempts: [],
      delivered: false,
      dropped: false,
      done: false,
    };
    this.deliveries.push(record);
    if (this.deliveries.length > this.config.recordLimit * 1.1) {
      this.deliveries.splice(0, this.deliveries.length - this.config.recordLimit);
    }
    if (this.faults.dropDelivery(event.type)) {
      record.dropped = true;
      record.done = true;
      return record;
    }
    this.pending++;
    this.schedule(record, event, 0);
    return record;
  }

  private schedule(record: DeliveryRecord, event: EventRec, attempt: number): void {
    // Even a zero delay goes through a timer: delivery never runs inside the API request.
    const delay = this.config.retryDelaysMs[attempt] + this.faults.webhookDelayMs();
    this.timers.after(delay, () => void this.attempt(record, event, attempt));
  }

  private async attempt(record: DeliveryRecord, event: EventRec, attempt: number): Promise<void> {
    const endpoint = this.state.webhooks.get(record.webhookId);
    if (!endpoint) {
      record.attempts.push({ at: this.clock.iso(), error: 'endpoint deleted', durationMs: 0 });
      this.finish(record);
      return;
    }
    // Transport timestamps are real time, not the sandbox clock: the receiver checks them
    // against its own clock.
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signWebhook(endpoint.secret, event.svixId, timestamp, event.body);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Svix-Webhooks/1.0 (flex-sandbox)' };
    for (const prefix of this.config.headerStyle === 'both' ? ['svix', 'webhook'] : [this.config.headerStyle]) {
      headers[`${prefix}-id`] = event.svixId;
      headers[`${prefix}-timestamp`] = String(timestamp);
      headers[`${prefix}-signature`] = signature;
    }
    const started = Date.now();
    const outcome = await this.post(endpoint.url, headers, event.body);
    if (this.stopped) return;
    record.attempts.push({ at: this.clock.iso(), ...outcome, durationMs: Date.now() - started });
    if (outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300) {
      record.delivered = true;
      this.finish(record);
    } else if (attempt + 1 < this.config.retryDelaysMs.length) {
      this.schedule(record, event, attempt + 1);
    } else {
      this.finish(record);
    }
  }

  private finish(record: DeliveryRecord): void {
    record.done = true;
    this.pending = Math.max(0, this.pending - 1);
    if (this.pending === 0) this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter();
  }

  /** One POST without keep-alive, so no socket outlives the attempt. */
  private post(url: string, headers: Record<string, string>, body: string): Promise<{ status?: number; error?: string }> {
    return new Promise((resolve) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        resolve({ error: 'invalid url' });
        return;
      }
      const client = target.protocol === 'https:' ? https : http;
      let settled = false;
      let timedOut = false;
      const settle = (outcome: { status?: number; error?: string }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(request);
        resolve(outcome);
      };
      const request = client.request(
        target,
        { method: 'POST', agent: false, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' } },
        (response) => {
          response.resume();
          settle({ status: response.statusCode });
        },
      );
      const timer = setTimeout(() => {
        timedOut = true;
        request.destroy();
      }, this.config.timeoutMs);
      request.on('error', (err) => settle({ error: timedOut ? `timeout after ${this.config.timeoutMs} ms` : err.message }));
      request.on('close', () => settle({ error: timedOut ? `timeout after ${this.config.timeoutMs} ms` : 'connection closed' }));
      this.inFlight.add(request);
      request.end(body);
    });
  }
}

// ---- /v1/webhooks -----------------------------------------------------------------------------

function readEndpoint(v: Input, body: unknown, required: boolean): { url?: string; events?: string[] } {
  const input = envelope(v, body, 'webhook', true);
  const loc = ['webhook'];
  // Real Flex wants HTTPS; the sandbox also takes http:// because receivers in tests are local.
  const url = v.url(input, 'url', loc, { required });
  const events = v.stringList(input, 'events', loc, { required, minItems: 1 });
  return { url, events };
}

export function createWebhook(state: FlexState, clock: Clock, scope: Scope, body: unknown): Wire {
  const v = new Input();
  const { url, events } = readEndpoint(v, body, true);
  v.done();
  const endpoint: WebhookRec = {
    ...state.owned(scope, 'fwh_', clock.nowMs()),
    url: url as string,
    events: events as string[],
    secret: newSigningSecret(),
  };
  state.webhooks.set(endpoint.id, endpoint);
  return { webhook: webhookWire(endpoint) };
}

export function updateWebhook(state: FlexState, scope: Scope, id: string, body: unknown): Wire {
  const endpoint = state.find(state.webhooks, scope, id);
  const v = new Input();
  const { url, events } = readEndpoint(v, body, false);
  v.done();
  if (url !== undefined) endpoint.url = url;
  if (events !== undefined) endpoint.events = events;
  return { webhook: webhookWire(endpoint) };
}

export function deleteWebhook(state: FlexState, scope: Scope, id: string): Wire {
  const endpoint = state.find(state.webhooks, scope, id);
  state.webhooks.delete(id);
  return { webhook: { ...webhookWire(endpoint), deleted: true } };
}

export function eventWire(event: EventRec): Wire {
  return JSON.parse(event.body) as Wire;
}

