import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { MutualTlsConfig, SessionRouteAuth } from './http/servers';
import { derivedKeyId, KEY_ID_PATTERN, type EncryptionKey } from './lib/secret-box';

/**
 * Configuration comes only from environment variables, parsed once at start-up. A missing or
 * malformed value stops the app with a message naming the variable.
 *
 * Without SHOPIFY_API_KEY the app runs in sandbox mode: it starts the bundled Flex sandbox and
 * Shopify simulator and points itself at them, so a newcomer can run it with no configuration.
 */

export const DEFAULT_SHOPIFY_API_VERSION = '2026-10';

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const httpUrl = z
  .string()
  .trim()
  .url({ message: 'must be an absolute http(s) URL' })
  .refine((v) => /^https?:\/\//.test(v), 'must start with http:// or https://')
  .transform((v) => v.replace(/\/+$/, ''));

const optionalHttpUrl = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v))
  .pipe(httpUrl.optional());

const postgresUrl = z
  .string()
  .trim()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL');

const encryptionKey = z
  .string()
  .trim()
  .refine((v) => decodeKey(v) !== undefined, 'must be 32 bytes, given as 64 hex characters or base64');

const port = z.coerce
  .number({ message: 'must be a number' })
  .int('must be an integer')
  .min(0, 'must be between 0 and 65535')
  .max(65535, 'must be between 0 and 65535');

const positiveInt = z.coerce.number({ message: 'must be a number' }).int('must be an integer').positive();

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: port.default(3000),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  APP_URL: optionalHttpUrl,
  DATABASE_URL: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(postgresUrl.optional()),
  DATABASE_POOL_SIZE: positiveInt.default(10),
  DATABASE_PREPARED_STATEMENTS: z.enum(['true', 'false', '']).default('true'),
  DATA_DIR: z.string().trim().min(1).default('.data'),
  ENCRYPTION_KEY: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v))
    .pipe(encryptionKey.optional()),
  ENCRYPTION_KEYS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      const parsed = parseKeyList(v);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    }),
  RETENTION_DAYS: positiveInt.default(90),
  SHOPIFY_API_KEY: optionalString,
  SHOPIFY_API_SECRET: optionalString,
  SHOPIFY_API_VERSION: z
    .string()
    .trim()
    .regex(/^\d{4}-(01|04|07|10)$/, 'must be a quarterly Shopify API version such as 2026-10')
    .default(DEFAULT_SHOPIFY_API_VERSION),
  SHOPIFY_API_ORIGIN: optionalHttpUrl,
  FLEX_API_URL: optionalHttpUrl,
  FLEX_TIMEOUT_MS: positiveInt.default(10_000),
  SHOPIFY_TIMEOUT_MS: positiveInt.default(10_000),
  PAYMENTS_MTLS_CA: optionalString,
  PAYMENTS_MTLS_CERT: optionalString,
  PAYMENTS_MTLS_KEY: optionalString,
  PAYMENTS_MTLS_PORT: port.optional(),
  PAYMENTS_PROXY_SECRET: optionalString,
  PAYMENTS_PROXY_HOST: optionalString,
  PAYMENTS_PROXY_PORT: port.optional(),
  SANDBOX_FLEX_PORT: port.default(4100),
  SANDBOX_SHOPIFY_PORT: port.default(4200),
  RECONCILE_AFTER_SECONDS: positiveInt.default(60),
  METRICS_PORT: port.optional(),
  METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
  METRICS_TOKEN: optionalString,
});

export type Env = z.infer<typeof envSchema>;

export interface AppConfig {
  nodeEnv: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  port: number;
  host: string;
  /** Public URL of the app; Flex success/cancel URLs and the Flex webhook URL are built from it. */
  appUrl: string;
  /** PostgreSQL URL, or undefined for the embedded database in `dataDir`. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** PostgreSQL: prepare the hot statements (db/sql.ts); false behind a pooler that cannot keep them. */
  databasePreparedStatements: boolean;
  dataDir: string;
  /** Keys for secrets at rest, newest last: new secrets use the newest, older ones still open. */
  encryptionKeys: EncryptionKey[];
  /** The newest of `encryptionKeys` (merchant session cookies are signed with a key derived from it). */
  encryptionKey: Buffer;
  shopify: {
    apiKey: string;
    apiSecret: string;
    apiVersion: string;
    /** When set, every call to a shop's Shopify API goes to this origin instead of https://{shop}. */
    apiOrigin: string | undefined;
    timeoutMs: number;
  };
  flex: { apiUrl: string; timeoutMs: number };
  /**
   * How Shopify's session requests (payment, refund, capture, void) prove they come from Shopify:
   * the app's own mTLS listener, or a TLS-terminating proxy on a private listener that sets a shared
   * secret header per request after verifying Shopify's client certificate. None only in sandbox mode.
   */
  sessionAuth: SessionRouteAuth;
  /** True when no Shopify credentials are configured: the bundled sandboxes stand in for both services. */
  sandboxMode: boolean;
  sandbox: { flexPort: number; shopifyPort: number };
  reconcileAfterSeconds: number;
  /** Raw requests and webhook payloads (buyer data) are pruned once older than this. */
  retentionDays: number;
  /**
   * `GET /metrics` (Prometheus) is served on a listener of its own, never the public one: on a
   * private address by default, and with a bearer token required when one is set (always, when the
   * address is not private).
   */
  metrics: MetricsListenerConfig;
}

export interface MetricsListenerConfig {
  host: string;
  /** 0: any free port (the log says which). */
  port: number;
  token: string | undefined;
}

/** The metrics listener's port when METRICS_PORT is unset (sandbox mode: any free port). */
export const DEFAULT_METRICS_PORT = 9464;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * ENCRYPTION_KEYS: "<id>:<key>,<id>:<key>", newest last. The problem with it (never naming a key),
 * or the keys.
 */
function parseKeyList(text: string): EncryptionKey[] | string {
  const keys: EncryptionKey[] = [];
  const entries = text.split(',').map((entry) => entry.trim());
  for (const [index, entry] of entries.entries()) {
    const separator = entry.indexOf(':');
    const id = separator < 0 ? '' : entry.slice(0, separator).trim();
    const where = `entry ${index + 1}${id ? ` ("${id}")` : ''}`;
    if (separator < 0) return `${where}: must be <id>:<key> (a list of <id>:<key> separated by commas, newest last)`;
    if (!KEY_ID_PATTERN.test(id)) return `${where}: the id must be 1 to 64 letters, digits, "-" or "_"`;
    const key = decodeKey(entry.slice(separator + 1));
    if (!key) return `${where}: the key must be 32 bytes, given as 64 hex characters or base64`;
    if (keys.some((k) => k.id === id)) return `${where}: the id "${id}" is used twice`;
    if (keys.some((k) => k.key.equals(key))) return `${where}: the same key is listed twice`;
    keys.push({ id, key });
  }
  return keys;
}

/** Decodes a 32-byte key given as hex or base64; undefined when it is neither. */
export function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    const buf = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
    if (buf.length === 32) return buf;
  }
  return undefined;
}

export interface LoadConfigOptions {
  /**
   * Allows sandbox mode (no Shopify credentials), supplying ENCRYPTION_KEY when none is configured
   * (a key kept in DATA_DIR). Only the development entry point passes it: the production entry point
   * refuses to start without Shopify credentials.
   */
  sandboxEncryptionKey?: (dataDir: string) => Buffer;
  /** Reads PEM values given as file paths. */
  readFile?: (path: string) => string;
  /** The operator's command line: it serves no session requests, so it needs no way to authenticate them. */
  commandLine?: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined>, options: LoadConfigOptions = {}): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  const sandboxMode = e.SHOPIFY_API_KEY === undefined && e.SHOPIFY_API_SECRET === undefined;

  if (sandboxMode && !options.sandboxEncryptionKey) {
    problems.push(
      'SHOPIFY_API_KEY, SHOPIFY_API_SECRET: required. Without them the app can only run in sandbox mode, which `npm start` starts from its own entry point (dev/start-sandbox-mode.ts), never this one',
    );
  }
  if (!sandboxMode) {
    if (!e.SHOPIFY_API_KEY) problems.push('SHOPIFY_API_KEY: required when SHOPIFY_API_SECRET is set');
    if (!e.SHOPIFY_API_SECRET) problems.push('SHOPIFY_API_SECRET: required when SHOPIFY_API_KEY is set');
    if (!e.APP_URL) problems.push('APP_URL: required when Shopify credentials are configured');
    if (!e.ENCRYPTION_KEY && !e.ENCRYPTION_KEYS) problems.push('ENCRYPTION_KEY: required when Shopify credentials are configured (or ENCRYPTION_KEYS)');
  }

  const mtlsValues = [e.PAYMENTS_MTLS_CA, e.PAYMENTS_MTLS_CERT, e.PAYMENTS_MTLS_KEY];
  let mtls: MutualTlsConfig | undefined;
  if (mtlsValues.some((v) => v !== undefined)) {
    const missing = (['PAYMENTS_MTLS_CA', 'PAYMENTS_MTLS_CERT', 'PAYMENTS_MTLS_KEY'] as const).filter((k) => e[k] === undefined);
    if (missing.length > 0) {
      problems.push(...missing.map((k) => `${k}: required when any PAYMENTS_MTLS_* variable is set`));
    } else {
      const pem = (name: 'PAYMENTS_MTLS_CA' | 'PAYMENTS_MTLS_CERT' | 'PAYMENTS_MTLS_KEY'): string => {
        const value = e[name]!;
        if (value.includes('-----BEGIN')) return value;
        try {
          const text = (options.readFile ?? defaultReadFile)(value);
          if (!text.includes('-----BEGIN')) problems.push(`${name}: ${value} is not a PEM file`);
          return text;
        } catch {
          problems.push(`${name}: cannot read PEM file ${value}`);
          return '';
        }
      };
      mtls = { ca: pem('PAYMENTS_MTLS_CA'), cert: pem('PAYMENTS_MTLS_CERT'), key: pem('PAYMENTS_MTLS_KEY'), port: e.PAYMENTS_MTLS_PORT ?? 8443 };
    }
  }

  const sessionAuth = sessionRouteAuth(e, mtls, sandboxMode || options.commandLine === true, problems);
  if (e.METRICS_TOKEN !== undefined && e.METRICS_TOKEN.length < 32) problems.push('METRICS_TOKEN: at least 32 characters (e.g. `openssl rand -hex 32`)');
  if (!isPrivateAddress(e.METRICS_HOST) && e.METRICS_TOKEN === undefined) {
    problems.push(`METRICS_TOKEN: required when METRICS_HOST (${e.METRICS_HOST}) is not a loopback or private address: metrics must not be readable from the internet without a credential`);
  }
  // ENCRYPTION_KEY, when set alongside ENCRYPTION_KEYS, is the oldest key: the one being rotated away from.
  const encryptionKeys: EncryptionKey[] = [];
  if (e.ENCRYPTION_KEY) {
    const key = decodeKey(e.ENCRYPTION_KEY)!;
    encryptionKeys.push({ id: derivedKeyId(key), key });
  }
  for (const listed of e.ENCRYPTION_KEYS ?? []) {
    if (encryptionKeys.some((k) => k.key.equals(listed.key))) problems.push(`ENCRYPTION_KEYS: "${listed.id}" is the key ENCRYPTION_KEY already gives; list it once`);
    else if (encryptionKeys.some((k) => k.id === listed.id)) problems.push(`ENCRYPTION_KEYS: the id "${listed.id}" is the id derived for ENCRYPTION_KEY; choose another`);
    else encryptionKeys.push(listed);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // The sandbox-mode key file is made only for a configuration that is otherwise good.
  if (encryptionKeys.length === 0 && options.sandboxEncryptionKey) {
    const key = options.sandboxEncryptionKey(e.DATA_DIR);
    encryptionKeys.push({ id: derivedKeyId(key), key });
  }
  if (encryptionKeys.length === 0) throw new ConfigError(['ENCRYPTION_KEY: required (or ENCRYPTION_KEYS)']);

  return {
    nodeEnv: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    port: e.PORT,
    host: e.HOST,
    appUrl: e.APP_URL ?? `http://localhost:${e.PORT}`,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databasePreparedStatements: e.DATABASE_PREPARED_STATEMENTS !== 'false',
    dataDir: e.DATA_DIR,
    encryptionKeys,
    encryptionKey: encryptionKeys[encryptionKeys.length - 1]!.key,
    shopify: {
      apiKey: e.SHOPIFY_API_KEY ?? 'sandbox-api-key',
      apiSecret: e.SHOPIFY_API_SECRET ?? 'sandbox-api-secret',
      apiVersion: e.SHOPIFY_API_VERSION,
      apiOrigin: e.SHOPIFY_API_ORIGIN,
      timeoutMs: e.SHOPIFY_TIMEOUT_MS,
    },
    flex: { apiUrl: e.FLEX_API_URL ?? 'https://api.withflex.com', timeoutMs: e.FLEX_TIMEOUT_MS },
    sessionAuth,
    sandboxMode,
    sandbox: { flexPort: e.SANDBOX_FLEX_PORT, shopifyPort: e.SANDBOX_SHOPIFY_PORT },
    reconcileAfterSeconds: e.RECONCILE_AFTER_SECONDS,
    retentionDays: e.RETENTION_DAYS,
    metrics: { host: e.METRICS_HOST, port: e.METRICS_PORT ?? (sandboxMode ? 0 : DEFAULT_METRICS_PORT), token: e.METRICS_TOKEN },
  };
}

/**
 * Session requests move money (a refund, a void), so with Shopify credentials they must be
 * authenticated, one way or the other, and the app refuses to start otherwise.
 */
function sessionRouteAuth(e: Env, mtls: MutualTlsConfig | undefined, servesNoRealShop: boolean, problems: string[]): SessionRouteAuth {
  const proxyVars = [e.PAYMENTS_PROXY_SECRET, e.PAYMENTS_PROXY_HOST, e.PAYMENTS_PROXY_PORT].some((v) => v !== undefined);
  if (mtls && proxyVars) {
    problems.push('PAYMENTS_PROXY_*: set together with PAYMENTS_MTLS_*; choose one way to authenticate Shopify’s session requests');
    return { kind: 'none' };
  }
  if (mtls) return { kind: 'mtls', ...mtls };
  if (proxyVars) {
    const secret = e.PAYMENTS_PROXY_SECRET ?? '';
    const host = e.PAYMENTS_PROXY_HOST ?? '127.0.0.1';
    if (secret.length < 32) problems.push('PAYMENTS_PROXY_SECRET: required in proxy mode, at least 32 characters (e.g. `openssl rand -hex 32`)');
    if (!isPrivateAddress(host)) problems.push(`PAYMENTS_PROXY_HOST: ${host} is not a loopback or private address; the proxy listener must not be reachable from the internet`);
    return { kind: 'proxy', secret, host, port: e.PAYMENTS_PROXY_PORT ?? 8444 };
  }
  if (!servesNoRealShop) {
    problems.push(
      'PAYMENTS_MTLS_CA, PAYMENTS_MTLS_CERT, PAYMENTS_MTLS_KEY or PAYMENTS_PROXY_SECRET: required with Shopify credentials. ' +
        'Shopify’s session requests must be authenticated: serve them over the app’s own mutual TLS listener, or behind a TLS proxy that verifies Shopify’s client certificate (README "Authenticating Shopify’s session requests")',
    );
  }
  return { kind: 'none' };
}

/** Loopback, RFC 1918 and IPv6 unique-local addresses: where a proxy-only listener may listen. */
export function isPrivateAddress(host: string): boolean {
  if (host === '::1' || /^127\./.test(host)) return true;
  if (/^10\./.test(host) || /^192\.168\./.test(host)) return true;
  const match = /^172\.(\d+)\./.exec(host);
  if (match && Number(match[1]) >= 16 && Number(match[1]) <= 31) return true;
  return /^f[cd][0-9a-f]{2}:/i.test(host);
}

function defaultReadFile(path: string): string {
  return readFileSync(path, 'utf8');
}
