import pino, { type Logger } from 'pino';
import { currentLogContext } from './log-context';

export type { Logger } from 'pino';

/**
 * Structured JSON logs on stdout. Secrets must never reach a log line: callers do not log them, and
 * any field named like one of these is redacted, at any depth, as a second line of defence. Matched
 * without regard to case or to `-`/`_` (`Authorization`, `x-shopify-access-token`, `signing_secret`).
 */
export const REDACTED_KEYS: readonly string[] = [
  'apiKey',
  'accessToken',
  'sealedOfflineAccessToken',
  'secret',
  'signingSecret',
  'webhookSecret',
  'password',
  'authorization',
  'cookie',
  'xShopifyAccessToken',
];

export const REDACTED = '[redacted]';

const redactedKeys = new Set(REDACTED_KEYS.map(keyForm));

function keyForm(key: string): string {
  return key.replace(/[-_]/g, '').toLowerCase();
}

/** Deeper than any line we write; a cycle or a huge structure stops here rather than walking on. */
const MAX_DEPTH = 10;

/**
 * The value with every field named like a secret replaced by "[redacted]", copied only where
 * something was replaced: the caller's objects are never changed, and a line with no such field
 * costs one look at each key. Written here rather than with pino's `redact` option because that
 * takes paths, so "any depth" has to be spelled as `*.key` wildcards, and those cost 25–30 µs of CPU
 * per line (five times the rest of the line; 2026-12-02, README "Performance") while reaching only
 * one level down. An Error keeps its prototype, so pino still serializes it as one.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (value instanceof Date || Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  let copy: Record<string, unknown> | unknown[] | undefined;
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    const field = source[key];
    let redacted = field;
    if (redactedKeys.has(keyForm(key))) redacted = field === undefined || field === null ? field : REDACTED;
    else if (field !== null && typeof field === 'object') redacted = redactSecrets(field, depth + 1);
    if (redacted === field) continue;
    copy ??= copyOf(value);
    (copy as Record<string, unknown>)[key] = redacted;
  }
  return (copy ?? value) as T;
}

function copyOf(value: object): Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return [...(value as unknown[])];
  if (value instanceof Error) {
    // message, stack and cause are not enumerable on an Error: carried over by name.
    const error = Object.create(Object.getPrototypeOf(value) as object) as Record<string, unknown>;
    for (const key of ['name', 'message', 'stack', 'cause']) if (key in value) error[key] = (value as unknown as Record<string, unknown>)[key];
    return Object.assign(error, value);
  }
  return { ...(value as Record<string, unknown>) };
}

export function createLogger(options: { level: string; destination?: pino.DestinationStream }): Logger {
  const logger = pino(
    {
      level: options.level,
      base: { service: 'flex-payments-app' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // Each line's fields, the log context's included (mixin is merged before this runs).
        log: (line) => redactSecrets(line),
      },
      mixin: contextFields,
    },
    options.destination,
  );
  // A child's bound fields are serialized once, when it is made, and pino gives them to no formatter
  // (it sets `formatters.bindings` aside for children): redacted on their way in. Children are made
  // with Object.create(parent), so theirs inherit this `child` too.
  const pinoChild = (Object.getPrototypeOf(logger) as { child: (this: Logger, bindings: pino.Bindings, childOptions?: pino.ChildLoggerOptions) => Logger }).child;
  const redactedChild = function (this: Logger, bindings: pino.Bindings, childOptions?: pino.ChildLoggerOptions): Logger {
    return pinoChild.call(this, redactSecrets(bindings), childOptions);
  };
  logger.child = redactedChild as unknown as Logger['child'];
  return logger;
}

/**
 * The fields of the work in progress (lib/log-context.ts) for a log line. A field the line gives
 * itself wins; one the logger is bound to (a child logger's) is left out, so no key appears twice.
 */
function contextFields(_line: object, _level: number, logger: Logger): Record<string, unknown> {
  const context = currentLogContext();
  if (!context) return {};
  const bound = logger.bindings();
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) if (!(key in bound)) fields[key] = value;
  return fields;
}
