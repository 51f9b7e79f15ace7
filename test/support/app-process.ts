import type { AppTuning } from '../../src/app/composition-root';
import { startApp } from '../../src/app/start-app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/lib/logger';

/**
 * One app process, as a test starts several of them on one database (test/support/app-processes.ts):
 * configuration from the environment as in production, the knobs tests turn from APP_TUNING (JSON),
 * JSON logs on stdout, and a last line `{"ready":…}` with where it listens. SIGTERM stops it
 * gracefully; SIGKILL is the crash a test wants to survive.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger({ level: config.logLevel });
  const tuning = JSON.parse(process.env.APP_TUNING ?? '{}') as AppTuning;
  const app = await startApp({ config, logger, tuning });
  // pino writes stdout asynchronously, this line synchronously: without the flush it can overtake a
  // line logged at start-up (a flaky "no warning at start-up" in embedded-node-flags.test.ts).
  await new Promise<void>((resolve, reject) => logger.flush((error) => (error ? reject(error) : resolve())));
  process.stdout.write(`${JSON.stringify({ ready: { httpUrl: app.servers.httpUrl, sessionsUrl: app.servers.sessionsUrl, metricsUrl: app.servers.metricsUrl } })}\n`);
  process.once('SIGTERM', () => {
    void app.stop().then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
