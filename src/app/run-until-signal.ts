import { ConfigError } from '../config';
import type { Logger } from '../lib/logger';

/** Runs a started server until SIGINT/SIGTERM, then stops it gracefully; reports start-up failures. */
export function runUntilSignal(started: Promise<{ logger: Logger; stop(): Promise<void> }>): void {
  started
    .then((server) => {
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        server.logger.info({ signal }, 'shutting down');
        await server.stop();
        process.exit(0);
      };
      process.on('SIGINT', () => void shutdown('SIGINT'));
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
    })
    .catch((error: unknown) => {
      if (error instanceof ConfigError) {
        process.stderr.write(`${error.message}\n`);
        process.exit(78);
      }
      process.stderr.write(`Failed to start: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    });
}
