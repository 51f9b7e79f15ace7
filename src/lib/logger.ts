import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Structured JSON logs on stdout. Secrets must never reach a log line: callers do not log them, and
 * these paths are redacted as a second line of defence.
 */
export const REDACTED_PATHS = [
  'apiKey',
  'accessToken',
  'secret',
  'signingSecret',
  'password',
  'authorization',
  '*.apiKey',
  '*.accessToken',
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
    },
    options.destination,
  );
}
