import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AppTuning } from '../../src/app/composition-root';

const ROOT = path.resolve(__dirname, '..', '..');

/** One app in a process of its own (test/support/app-process.ts), run from the TypeScript source. */
export class AppProcess {
  readonly logs: Array<Record<string, any>> = [];
  httpUrl = '';
  sessionsUrl = '';
  metricsUrl = '';
  alive = true;
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => (this.alive = false));
  }

  /** Spawns the process; `ready` resolves once it listens (its migrations applied). */
  static spawn(name: string, env: Record<string, string>, tuning: AppTuning, nodeFlags: readonly string[] = []): { process: AppProcess; ready: Promise<AppProcess> } {
    const child = spawn(process.execPath, [...nodeFlags, '-r', path.join(ROOT, 'test/support/register-ts.cjs'), path.join(ROOT, 'test/support/app-process.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, APP_TUNING: JSON.stringify(tuning) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const app = new AppProcess(name, child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = new Promise<AppProcess>((resolve, reject) => {
      let pending = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) {
          if (!line.startsWith('{')) continue;
          const parsed = JSON.parse(line) as Record<string, any>;
          if (parsed.ready) {
            Object.assign(app, parsed.ready);
            resolve(app);
          } else app.logs.push(parsed);
        }
      });
      child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before it was ready: ${stderr.slice(-2000)}`)));
    });
    return { process: app, ready };
  }

  /** The process's peak resident memory so far (Linux: VmHWM in /proc). */
  peakRssBytes(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]);
    if (!Number.isFinite(kb) || kb <= 0) throw new Error(`no VmHWM in /proc/${this.child.pid}/status`);
    return kb * 1024;
  }

  /** The crash: no shutdown, no cleanup, jobs left claimed. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const forced = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(forced);
  }
}
