import pino, { type Logger } from 'pino';
import { currentLogContext } from './log-context';

export type { Logger } from 'pino';

/**
 * Structured JSON logs on stdout. Secrets must never reach a log line: callers do not log them, and
 * these paths are redacted as a second line of defence.
 */
export const REDACTED_PATHS = [
  'apiKey',
  'accessToken',
  'sealedOfflineAccessToken',
  'secret',
  'signingSecret',
  'password',
  'authorization',
  '*.apiKey',
  '*.accessToken',
  '*.sealedOfflineAccessToken',
  '*.access_token',
  '*.secret',
  '*.signing_secret',
  '*.signingSecret',
  '*.authorization',
  '*.cookie',
  'headers.authorization',
  'headers.cookie',
  'headers["x-shopify-access-token"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-shopify-access-token"]',
];

export function createLogger(options: { level: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'flex-payments-app' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      mixin: contextFields,
    },
    options.destination,
  );
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
