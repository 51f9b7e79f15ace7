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
  // The settings form's Flex keys, Shopify's refresh token and the app's own secrets, were one ever logged.
  'liveKey',
  'testKey',
  'refreshToken',
  'apiSecret',
  'apiSecretKey',
  'clientSecret',
  'encryptionKey',
  // Sealed, but named after what they seal.
  'apiKeyCiphertext',
  'webhookSecretCiphertext',
  'verifiedWithCiphertext',
];

export const REDACTED = '[redacted]';

const redactedKeys = new Set(REDACTED_KEYS.map(keyForm));

function keyForm(key: string): string {
  return key.replace(/[-_]/g, '').toLowerCase();
}

/** Deeper than any line we write: what lies below is replaced whole, unread. */
const MAX_DEPTH = 10;
const TOO_DEEP = '[redacted: deeper than 10 levels]';
const CIRCULAR = '[Circular]';

/**
 * The value with every field named like a secret replaced by "[redacted]", copied only where
 * something was replaced: the caller's objects are never changed, and a line with no such field
 * costs one look at each key. Written here rather than with pino's `redact` option because that
 * takes paths, so "any depth" has to be spelled as `*.key` wildcards, and with those a log line cost
 * 32.9 µs of CPU against 6.6 µs with this walk (6.0 µs with no redaction at all; 2026-12-02, bench/README-queries.md
 * "The eleventh round as the README told it") while reaching only one level down. It reaches ten levels; what lies deeper is
 * replaced whole, unread. A cycle is cut at its back-reference (one through an Error, which is
 * serialized afresh on each pass, only at the depth limit). An Error inside a line is replaced by
 * pino's own serialization of it (type, message, stack, the causes' messages and stacks, its fields,
 * aggregate errors), redacted; the line's `err` is left to pino's err serializer, whose output
 * `redactedErrorSerializer` redacts.
 */
export function redactSecrets<T>(value: T): T {
  return walk(value, []) as T;
}

function walk(value: unknown, ancestors: object[]): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date || Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  if (ancestors.includes(value)) return CIRCULAR;
  if (ancestors.length >= MAX_DEPTH) return TOO_DEEP;
  if (isErrorLike(value)) return walk(pino.stdSerializers.err(value), ancestors);
  ancestors.push(value);
  let copy: Record<string, unknown> | unknown[] | undefined;
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    const field = source[key];
    let redacted = field;
    if (redactedKeys.has(keyForm(key))) redacted = field === undefined || field === null ? field : REDACTED;
    else if (field !== null && typeof field === 'object') redacted = walk(field, ancestors);
    if (redacted === field) continue;
    copy ??= Array.isArray(value) ? [...(value as unknown[])] : (Object.assign(Object.create(Object.getPrototypeOf(value) as object | null) as object, value) as Record<string, unknown>);
    (copy as Record<string, unknown>)[key] = redacted;
  }
  ancestors.pop();
  return copy ?? value;
}

/**
 * An Error, from this realm or another (a DOMException under jest): a string message and a stack
 * the object does not list as a field of its own, as an error's is. What pino's err serializer makes
 * of one lists them, so it is walked as the plain object it is, not serialized again.
 */
function isErrorLike(value: object): value is Error {
  if (value instanceof Error) return true;
  const candidate = value as { message?: unknown; stack?: unknown };
  return typeof candidate.message === 'string' && typeof candidate.stack === 'string' && !Object.prototype.propertyIsEnumerable.call(value, 'stack');
}

/**
 * The line's fields redacted; if reading a nested field throws (a getter), the line keeps none of
 * them rather than risk one. (A throwing getter at the top of a line throws earlier, in pino's merge
 * of the mixin, as it always did.)
 */
function redactLine(line: Record<string, unknown>): Record<string, unknown> {
  try {
    const { err, ...rest } = line;
    // `err` stays an Error for pino's err serializer (redactedErrorSerializer), which runs after this.
    const redacted = walk(rest, []) as Record<string, unknown>;
    return err === undefined ? (redacted === rest ? line : redacted) : { ...redacted, err };
  } catch (error) {
    return { logFieldsUnreadable: (error as Error)?.message ?? String(error) };
  }
}

/** pino's own err serializer (it leaves anything that is not error-like as it is), its output redacted. */
function redactedErrorSerializer(error: unknown): unknown {
  return redactSecrets(pino.stdSerializers.err(error as Error));
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
        log: redactLine,
      },
      serializers: { err: redactedErrorSerializer },
      mixin: contextFields,
    },
    options.destination,
  );
  // A child's bound fields are serialized once, when it is made, and pino gives them to no formatter
  // (it sets `formatters.bindings` aside for children): redacted on their way in. Children are made
  // with Object.create(parent), so theirs inherit this `child` too. Both are pino 10's internals, not
  // its documented API: test/unit/logger.test.ts's child test fails if an upgrade changes them.
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
