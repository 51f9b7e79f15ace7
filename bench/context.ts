import path from 'node:path';
import type { CpuSource } from './lib/cpu';
import type { MachineInfo } from './lib/machine';
import type { ServerProcess } from './lib/processes';
import type { TargetInfo } from './lib/report';
import type { SandboxHost } from './lib/sandbox-client';
import type { Options } from './options';
import type { AppEndpoint } from './buyers';

/** What every part of a benchmark run shares: settings, the sandboxes, scratch space, cleanup. */

export const REPO = path.resolve(__dirname, '..', '..');
export const DIST = path.resolve(__dirname, '..');
// The production build (dist/), as deployed; the runner itself is part of the development build.
export const APP_MAIN = path.join(REPO, 'dist', 'src', 'main.js');
export const CLI_MAIN = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
export const FLOOR_MAIN = path.join(__dirname, 'floor.js');
export const RESULTS_DIR = path.join(REPO, 'bench', 'results');

/** The amount of every payment the benchmark makes. */
export const AMOUNT = '49.99';
export const AMOUNT_MINOR = 4999;
export const POOL_SIZE = 10;
export const LOG_LEVEL = 'info';
export const MB = 1024 * 1024;

export const log = (line: string) => process.stderr.write(`${line}\n`);

export interface BenchContext {
  options: Options;
  machine: MachineInfo;
  startedAt: Date;
  /** Said in the report, under the tables. */
  warnings: string[];
  host: SandboxHost;
  flexUrl: string;
  shopifyUrl: string;
  /** Scratch directory: logs, embedded databases, the CPU profile. */
  tmpRoot: string;
  cleanup: Cleanup;
}

/** A server under load: the floor, or the app on one database. */
export interface RunningTarget {
  info: TargetInfo;
  flexAccountId: string;
  /** PostgreSQL only: the app's database, directly (not through the profiling proxy). */
  databaseUrl?: string;
  server: ServerProcess;
  /** Its public URL, its session listener and the proxy's secret (the app's proxy mode). */
  endpoint: AppEndpoint;
  /** Whose CPU time is its own: its process, and on PostgreSQL its database's backends. */
  cpu: CpuSource;
  shop: string;
  idleRssMB: number;
  /** Highest RSS sampled while the measurements loaded it. */
  loadPeakRssMB: number;
}

/** Things to undo at the end, also on Ctrl-C or a failure: last added, first undone. */
export class Cleanup {
  private readonly tasks: Array<{ label: string; run: () => Promise<unknown> | unknown }> = [];
  add(label: string, run: () => Promise<unknown> | unknown): void {
    this.tasks.push({ label, run });
  }
  async runAll(): Promise<void> {
    while (this.tasks.length > 0) {
      const task = this.tasks.pop()!;
      try {
        await task.run();
      } catch (error) {
        log(`cleanup (${task.label}) failed: ${(error as Error).message}`);
      }
    }
  }
}
