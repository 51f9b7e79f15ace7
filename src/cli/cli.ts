import { parseArgs } from 'node:util';
import { composeApp } from '../app/composition-root';
import { ConfigError, loadConfig, type LoadConfigOptions } from '../config';
import { openDatabase } from '../db/database';
import { createLogger } from '../lib/logger';

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  configOptions?: LoadConfigOptions;
}

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  shops:add --shop <shop>.myshopify.com --access-token <token> --flex-api-key <fsk_…> [--flex-test-api-key <fsk_test_…>]
      Registers a shop: checks each Flex key with Flex, registers the Flex webhook endpoint, stores
      the keys and the shop's offline Shopify token encrypted. Re-run it to replace keys.
  jobs:list [--status NEEDS_ATTENTION|QUEUED|RUNNING|SUCCEEDED|CANCELED] [--limit N]
      Lists outbox jobs (Shopify mutations), newest first.
  jobs:retry <job id>
      Puts a job that needs attention back in the queue, once its cause is fixed.
`;

/** The operator's command line. Returns the process exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    io.stdout(USAGE);
    return command ? 0 : 64;
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
      try {
        ({ values } = parseArgs({
          args: rest,
          options: {
            shop: { type: 'string' },
            'access-token': { type: 'string' },
            'flex-api-key': { type: 'string' },
            'flex-test-api-key': { type: 'string' },
          },
          strict: true,
        }));
      } catch (error) {
        io.stderr(`${(error as Error).message}\n\n${USAGE}`);
        return 64;
      }
      const missing = (['shop', 'access-token', 'flex-api-key'] as const).filter((k) => !values[k]);
      if (missing.length > 0) {
        io.stderr(`Missing ${missing.map((k) => `--${k}`).join(', ')}\n\n${USAGE}`);
        return 64;
      }
      const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2, logger });
      try {
        const app = composeApp(config, database, logger);
        const result = await app.registerShop.execute({
          shopDomain: values.shop!,
          accessToken: values['access-token']!,
          flexApiKey: values['flex-api-key']!,
          flexTestApiKey: values['flex-test-api-key'],
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
      const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2, logger });
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
    default:
      io.stderr(`Unknown command "${command}"\n\n${USAGE}`);
      return 64;
  }
}
