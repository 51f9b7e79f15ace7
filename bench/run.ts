import { Cleanup, log } from './context';
import { parseOptions } from './options';
import { printSavedReport } from './results-store';
import { runSuite } from './suite';

/**
 * `npm run bench`: the payment path, measured side by side with its floor. See bench/README.md.
 *
 * Process layout: this runner (autocannon, orchestration) · a sandbox host (Flex sandbox + Shopify
 * simulator) · the floor · the app on the embedded database · the app on PostgreSQL, each app the
 * compiled `node dist/src/main.js` started as in production, configured by environment only.
 * suite.ts runs the steps; measure/ holds one module per thing measured; scenarios/ the requests
 * measured against their floor.
 */

const cleanup = new Cleanup();

async function main(): Promise<void> {
  const options = parseOptions();
  if (options.report) {
    printSavedReport(options);
    return;
  }
  let interrupted = false;
  const onSignal = (signal: string) => {
    if (interrupted) return;
    interrupted = true;
    log(`\n${signal}: stopping the servers and dropping the benchmark databases…`);
    void cleanup.runAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  await runSuite(options, cleanup);
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    await cleanup.runAll();
    process.exit(1);
  },
);
