import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the work in progress concerns (an outbox job, a webhook), added to every log line written
 * while doing it, however deep in a use case the line is written: the logger reads it (the `mixin`
 * in logger.ts), so no code threads a logger or ids through its calls for this.
 */
export interface LogContext {
  /** The shop's domain, as request log lines name it. */
  shop?: string;
  shopId?: string;
  /** Our payment id (PaymentSession.id), as request log lines name it. */
  paymentSessionId?: string;
  job?: { id: string; kind: string; attempt: number; subjectType: string | null; subject: string | null };
  flexWebhook?: { mode?: string; deliveryId?: string; eventType?: string };
  shopifyWebhook?: { topic: string; webhookId: string };
  [field: string]: unknown;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `work` with `fields` added to the context it is called in (a nested context; the caller's is unchanged). */
export function withLogContext<T>(fields: LogContext, work: () => T): T {
  return storage.run({ ...storage.getStore(), ...defined(fields) }, work);
}

/**
 * Runs `work` in a context of its own, inheriting nothing: a job the worker claims after a
 * webhook woke it is not that webhook's work.
 */
export function withOwnLogContext<T>(fields: LogContext, work: () => T): T {
  return storage.run(defined(fields), work);
}

/** Runs `work`, and what it starts, outside any context (a poll loop woken from a request). */
export function outsideLogContext<T>(work: () => T): T {
  return storage.exit(work);
}

/**
 * Adds what has just become known (the shop, once found; the payment) to the current context, for
 * the rest of its lines, the ones its caller writes afterwards included. Nothing outside a context.
 */
export function addLogContext(fields: LogContext): void {
  const store = storage.getStore();
  if (store) Object.assign(store, defined(fields));
}

export function currentLogContext(): Readonly<LogContext> | undefined {
  return storage.getStore();
}

function defined(fields: LogContext): LogContext {
  const result: LogContext = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined && value !== null) result[key] = value;
  return result;
}
