import { parseArgs } from 'node:util';
import { composeApp } from '../app/composition-root';
import { ConfigError, loadConfig, type LoadConfigOptions } from '../config';
import { openDatabase } from '../db/database';
import { createLogger } from '../lib/logger';

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** All of standard input (for --secrets-from-stdin). */
  stdin?: () => Promise<string>;
  /** Aborted when the operator asks to stop (Ctrl-C): long commands stop after the current batch. */
  signal?: AbortSignal;
  configOptions?: LoadConfigOptions;
}

/**
 * The secrets shops:add takes, and where they come from: environment variables, or NAME=value lines
 * on standard input. Never command-line flags, which other users see in `ps` and which stay in the
 * shell's history.
 */
const SHOP_SECRETS = {
  accessToken: { variable: 'SHOP_ACCESS_TOKEN', flag: '--access-token', what: "the shop's offline Shopify access token", required: true },
  flexApiKey: { variable: 'FLEX_API_KEY', flag: '--flex-api-key', what: 'the Flex live secret key', required: true },
  flexTestApiKey: { variable: 'FLEX_TEST_API_KEY', flag: '--flex-test-api-key', what: 'the Flex test secret key', required: false },
} as const;
type ShopSecret = keyof typeof SHOP_SECRETS;

const MAX_STDIN_BYTES = 64 * 1024;

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  shops:add --shop <shop>.myshopify.com [--secrets-from-stdin]
      Registers a shop: checks each Flex key with Flex, registers the Flex webhook endpoint, stores
      the keys and the shop's offline Shopify token encrypted. Re-run it to replace keys.
      Secrets are never taken as flags (they would show in ps and the shell history). Set them in
      the environment: SHOP_ACCESS_TOKEN, FLEX_API_KEY and optionally FLEX_TEST_API_KEY; or, with
      --secrets-from-stdin, give them on standard input as NAME=value lines with the same names
      (blank lines and lines starting with # are skipped).
  jobs:list [--status NEEDS_ATTENTION|QUEUED|RUNNING|SUCCEEDED|CANCELED] [--limit N]
      Lists outbox jobs (Shopify mutations), newest first.
  jobs:retry <job id>
      Puts a job that needs attention back in the queue, once its cause is fixed.
  db:vacuum
      VACUUM (ANALYZE) of the whole database: the space of deleted and replaced rows becomes reusable
      and the planner's statistics current. The embedded database needs it from time to time (PGlite
      is PostgreSQL in single-user mode, which runs no autovacuum; stop the app first, it holds the
      database); PostgreSQL's autovacuum does it on its own (there, run it as the tables' owner:
      PostgreSQL skips, with a warning, tables it may not vacuum). Applies no migrations.
  secrets:rotate [--batch-size N]
      Re-encrypts every stored secret with the newest key of ENCRYPTION_KEYS (N rows per
      transaction, default 100). Safe to interrupt and run again; once it reports every secret on
      the newest key, older keys can be removed from the configuration.
`;

/** The operator's command line. Returns the process exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    io.stdout(USAGE);
    return command ? 0 : 64;
  }
  const secretFlags = secretFlagsIn(rest);
  if (secretFlags.length > 0) {
    io.stderr(
      `Refused: ${secretFlags.join(', ')} would put a secret on the command line, where other users see it (ps) and the shell keeps it (history). ` +
        `Nothing was done. Set ${secretFlags.map((f) => variableOfFlag(f)).join(', ')} in the environment instead, or give ${secretFlags.length > 1 ? 'them' : 'it'} on standard input with --secrets-from-stdin.\n`,
    );
    return 64;
  }
  let config;
  try {
    config = loadConfig(io.env, { ...io.configOptions, commandLine: true });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`${error.message}\n`);
      return 78;
    }
    throw error;
  }
  const logger = createLogger({ level: io.env.LOG_LEVEL ?? 'warn', destination: { write: (line: string) => io.stderr(line) } });

  switch (command) {
    case 'shops:add': {
      let values;
      let positionals;
      try {
        ({ values, positionals } = parseArgs({
          args: rest,
          options: { shop: { type: 'string' }, 'secrets-from-stdin': { type: 'boolean' } },
          strict: true,
          allowPositionals: true,
        }));
      } catch (error) {
        io.stderr(`${(error as Error).message}\n\n${USAGE}`);
        return 64;
      }
      // Not echoed: a stray argument may well be a secret pasted in the wrong place.
      if (positionals.length > 0) {
        io.stderr(`shops:add takes no arguments besides its options (${positionals.length} given); secrets go in the environment or on standard input\n\n${USAGE}`);
        return 64;
      }
      if (!values.shop) {
        io.stderr(`Missing --shop\n\n${USAGE}`);
        return 64;
      }
      const secrets = await shopSecrets(io, values['secrets-from-stdin'] === true);
      if ('problem' in secrets) {
        io.stderr(`${secrets.problem}\nNothing was done.\n`);
        return 64;
      }
      const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2, preparedStatements: config.databasePreparedStatements, logger });
      try {
        const app = composeApp(config, database, logger);
        const result = await app.registerShop.execute({
          shopDomain: values.shop,
          accessToken: secrets.accessToken,
          flexApiKey: secrets.flexApiKey,
          flexTestApiKey: secrets.flexTestApiKey,
        });
        if (!result.ok) {
          io.stderr(`Shop not registered; nothing was stored:\n${result.problems.map((p) => `  - ${p}`).join('\n')}\n`);
          return 1;
        }
        io.stdout(
          `Registered ${values.shop}.\n${result.connections.map((c) => `  Flex ${c.mode.toLowerCase()} key ${c.apiKeyHint}, webhook endpoint ${c.webhookEndpointId}`).join('\n')}\n` +
            (result.shopifyReady === 'acknowledged'
              ? '  Shopify acknowledged paymentsAppConfigure(ready: true).\n'
              : '  paymentsAppConfigure(ready: true) is queued; the running app will deliver it (see jobs:list).\n'),
        );
        return 0;
      } finally {
        await database.close();
      }
    }
    case 'jobs:list':
    case 'jobs:retry': {
      const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2, preparedStatements: config.databasePreparedStatements, logger });
      try {
        const app = composeApp(config, database, logger);
        if (command === 'jobs:retry') {
          const id = rest[0];
          if (!id) {
            io.stderr(`jobs:retry needs a job id\n`);
            return 64;
          }
          const requeued = await app.repos.jobs.requeue(id, app.clock.now()).catch(() => false);
          if (!requeued) {
            io.stderr(`Job ${id} is not waiting for attention\n`);
            return 1;
          }
          io.stdout(`Job ${id} queued again\n`);
          return 0;
        }
        const { values } = parseArgs({ args: rest, options: { status: { type: 'string' }, limit: { type: 'string' } } });
        const status = values.status ? [values.status.toUpperCase() as 'NEEDS_ATTENTION'] : undefined;
        const jobs = await app.repos.jobs.list({ status, limit: values.limit ? Number(values.limit) : 50 });
        for (const job of jobs) {
          io.stdout(`${job.id}  ${job.status.padEnd(15)} ${job.kind}  ${job.dedupeKey}  attempts=${job.attempts}${job.lastError ? `  last error: ${job.lastError}` : ''}\n`);
        }
        if (jobs.length === 0) io.stdout('No jobs\n');
        return 0;
      } finally {
        await database.close();
      }
    }
    case 'db:vacuum': {
      if (rest.length > 0) {
        io.stderr(`db:vacuum takes no arguments\n\n${USAGE}`);
        return 64;
      }
      // Maintenance only: the schema stays as the app left it.
      const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1, preparedStatements: config.databasePreparedStatements, logger, migrate: false });
      try {
        const started = performance.now();
        await database.pool.query('VACUUM (ANALYZE)');
        io.stdout(`Vacuumed and analyzed ${database.description} in ${((performance.now() - started) / 1000).toFixed(1)} s.\n`);
        return 0;
      } finally {
        await database.close();
      }
    }
    case 'secrets:rotate': {
      let batchSize = 100;
      try {
        const { values } = parseArgs({ args: rest, options: { 'batch-size': { type: 'string' } }, strict: true });
        if (values['batch-size'] !== undefined) {
          batchSize = Number(values['batch-size']);
          if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new Error('--batch-size must be a whole number from 1 to 10000');
        }
      } catch (error) {
        io.stderr(`${(error as Error).message}\n\n${USAGE}`);
        return 64;
      }
      const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2, preparedStatements: config.databasePreparedStatements, logger });
      try {
        const { secretRotation } = composeApp(config, database, logger);
        const keyId = config.encryptionKeys[config.encryptionKeys.length - 1]!.id;
        io.stdout(`Re-encrypting stored secrets with key "${keyId}", ${batchSize} rows per transaction.\n`);
        const report = await secretRotation.run({
          batchSize,
          signal: io.signal,
          onProgress: (p) => io.stdout(`  ${p.label}: ${p.done} of ${p.total} rows re-encrypted\n`),
        });
        for (const f of report.failures) io.stderr(`  ${f.table} ${f.id} ${f.column}: ${f.reason}\n`);
        if (report.interrupted) {
          io.stdout(`Interrupted: ${report.resealed} rows re-encrypted by this run, ${report.remaining} still sealed with an older key. Run secrets:rotate again to finish.\n`);
          return 130;
        }
        if (report.failures.length > 0) {
          io.stderr(
            `${report.failures.length} secrets could not be decrypted with any configured key and were left as they were. ` +
              'Keep the older keys configured until they are dealt with (reconnect Flex or reinstall for those shops).\n',
          );
          return 1;
        }
        if (report.remaining > 0) {
          io.stderr(`${report.remaining} rows were sealed with an older key while this ran: is every instance running with the new key? Run secrets:rotate again.\n`);
          return 1;
        }
        const older = config.encryptionKeys.slice(0, -1).map((k) => `"${k.id}"`);
        io.stdout(
          `Done: ${report.resealed} rows re-encrypted; every stored secret is sealed with key "${report.keyId}".` +
            (older.length > 0 ? ` ${older.join(', ')} can now be removed from the configuration (then restart).` : '') +
            '\n',
        );
        return 0;
      } finally {
        await database.close();
      }
    }
    default:
      io.stderr(`Unknown command "${command}"\n\n${USAGE}`);
      return 64;
  }
}

/** The secret-carrying flags in an argument list (`--access-token x` or `--access-token=x`). */
function secretFlagsIn(args: string[]): string[] {
  const flags = Object.values(SHOP_SECRETS).map((s) => s.flag as string);
  return flags.filter((flag) => args.some((arg) => arg === flag || arg.startsWith(`${flag}=`)));
}

function variableOfFlag(flag: string): string {
  return Object.values(SHOP_SECRETS).find((s) => s.flag === flag)!.variable;
}

/**
 * shops:add's secrets, from the environment or from NAME=value lines on standard input. A name given
 * both ways is refused rather than one silently winning. Problems never quote a value.
 */
async function shopSecrets(io: CliIo, fromStdin: boolean): Promise<{ accessToken: string; flexApiKey: string; flexTestApiKey: string | undefined } | { problem: string }> {
  const found: Partial<Record<ShopSecret, string>> = {};
  const names = Object.keys(SHOP_SECRETS) as ShopSecret[];
  for (const name of names) {
    const value = io.env[SHOP_SECRETS[name].variable]?.trim();
    if (value) found[name] = value;
  }
  if (fromStdin) {
    if (!io.stdin) return { problem: '--secrets-from-stdin: standard input cannot be read here' };
    const text = await io.stdin();
    if (Buffer.byteLength(text) > MAX_STDIN_BYTES) return { problem: `--secrets-from-stdin: standard input is over ${MAX_STDIN_BYTES / 1024} KiB; expected a few NAME=value lines` };
    const seen = new Set<ShopSecret>();
    for (const [index, raw] of text.split(/\r?\n/).entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const equals = line.indexOf('=');
      const variable = equals > 0 ? line.slice(0, equals).trim() : '';
      const name = names.find((n) => SHOP_SECRETS[n].variable === variable);
      if (!name) {
        const expected = names.map((n) => SHOP_SECRETS[n].variable).join(', ');
        return { problem: `standard input, line ${index + 1}: expected NAME=value with NAME one of ${expected}` };
      }
      if (seen.has(name)) return { problem: `standard input, line ${index + 1}: ${variable} is given twice` };
      if (found[name] !== undefined) return { problem: `${variable} is set in the environment and given on standard input; give it once` };
      seen.add(name);
      const value = unquote(line.slice(equals + 1).trim());
      if (value) found[name] = value;
    }
  }
  const missing = names.filter((n) => SHOP_SECRETS[n].required && !found[n]);
  if (missing.length > 0) {
    return {
      problem: `Missing ${missing.map((n) => `${SHOP_SECRETS[n].what} (${SHOP_SECRETS[n].variable})`).join(' and ')}: set it in the environment, or give it on standard input with --secrets-from-stdin.`,
    };
  }
  return { accessToken: found.accessToken!, flexApiKey: found.flexApiKey!, flexTestApiKey: found.flexTestApiKey };
}

function unquote(value: string): string {
  return /^(["']).*\1$/.test(value) && value.length >= 2 ? value.slice(1, -1) : value;
}
