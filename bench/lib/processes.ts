import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

/** A server the benchmark started as a child process (the app or the floor). */
export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string | null>;
}

/** Only what Node needs: nothing from the caller's environment (DATABASE_URL, NODE_OPTIONS…) leaks in. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'SYSTEMROOT']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function get(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

export interface StartServerOptions {
  name: string;
  script: string;
  port: number;
  env: Record<string, string>;
  logFile: string;
  execArgv?: string[];
  timeoutMs?: number;
}

/**
 * Spawns `node <script>` and polls GET /healthz every 5 ms; `startupMs` runs from the spawn to the
 * first 200 (so it includes Node's own start, module loading, database open and migrations).
 */
export async function startServer(options: StartServerOptions): Promise<{ server: ServerProcess; startupMs: number }> {
  const url = `http://127.0.0.1:${options.port}`;
  const fd = openSync(options.logFile, 'a');
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.execArgv ?? []), options.script], {
    // Several apps run side by side: each takes any free port for its metrics listener.
    env: { METRICS_PORT: '0', ...options.env, PORT: String(options.port) },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exitCode: number | string | null | undefined;
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? signal;
      resolve(exitCode);
    });
  });
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    if (exitCode !== undefined) throw new Error(`${options.name} exited (${exitCode}) before answering; log ${options.logFile}:\n${tail(options.logFile)}`);
    if ((await get(`${url}/healthz`, 1000)) === 200) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} did not answer /healthz within ${options.timeoutMs ?? 120_000} ms; log ${options.logFile}:\n${tail(options.logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const startupMs = performance.now() - started;
  return { server: { name: options.name, url, pid: child.pid!, child, logFile: options.logFile, exited }, startupMs };
}

/** SIGTERM (the app shuts down gracefully and closes its database), SIGKILL after `graceMs`. */
export async function stopServer(server: ServerProcess, graceMs = 15_000): Promise<number | string | null> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.exited;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    process.stderr.write(`${server.name} (pid ${server.pid}) still running ${graceMs} ms after SIGTERM: killing it\n`);
    server.child.kill('SIGKILL');
  }, graceMs);
  const code = await server.exited;
  clearTimeout(timer);
  return code;
}

/** Runs `node <script> <args>` to completion (the operator CLI); throws with its output on failure. */
export function runNode(script: string, args: string[], env: Record<string, string>): string {
  const result = spawnSync(process.execPath, [script, ...args], { env, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) {
    throw new Error(`node ${script} ${args[0] ?? ''} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Resident set size now and its high-water mark (Linux /proc; elsewhere `ps`, without the peak). */
export function memoryOf(pid: number): { rssBytes: number; peakRssBytes: number | null } | null {
  const status = `/proc/${pid}/status`;
  if (existsSync(status)) {
    try {
      const text = readFileSync(status, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
      return { rssBytes: kb('VmRSS') * 1024, peakRssBytes: kb('VmHWM') * 1024 };
    } catch {
      return null;
    }
  }
  const ps = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
  const kb = Number(ps.stdout.trim());
  return Number.isFinite(kb) && kb > 0 ? { rssBytes: kb * 1024, peakRssBytes: null } : null;
}

/** Samples a process's RSS every `intervalMs` while a load test runs; `stop()` returns the maximum. */
export function sampleRss(pid: number, intervalMs = 100): { stop(): number } {
  let max = memoryOf(pid)?.rssBytes ?? 0;
  const timer = setInterval(() => {
    const m = memoryOf(pid);
    if (m && m.rssBytes > max) max = m.rssBytes;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const m = memoryOf(pid);
      if (m && m.rssBytes > max) max = m.rssBytes;
      return max;
    },
  };
}

/** CPU time (user + system) of a process in clock ticks (USER_HZ, 100 a second on Linux), from /proc; null where there is no /proc. */
export function cpuTicks(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/** CPU time (user + system) of a process in ms, from /proc/<pid>/stat; null where there is none. */
export function cpuMs(pid: number): number | null {
  const ticks = cpuTicks(pid);
  return ticks === null ? null : ticks * 10;
}

/**
 * Waits until each process has (almost) stopped using CPU: at most `maxBusyTicks` (10 ms each) per
 * `windowMs`. A load generator walks away from requests still being processed; the next run must
 * not share the CPU with that backlog. Without /proc, a fixed pause.
 */
export async function waitUntilIdle(pids: number[], options: { windowMs?: number; maxBusyTicks?: number; maxWaitMs?: number } = {}): Promise<void> {
  const windowMs = options.windowMs ?? 200;
  const deadline = Date.now() + (options.maxWaitMs ?? 10_000);
  for (;;) {
    const before = pids.map(cpuTicks);
    await new Promise((r) => setTimeout(r, windowMs));
    if (before.some((t) => t === null)) return;
    const busy = pids.map((pid, i) => (cpuTicks(pid) ?? 0) - before[i]!);
    if (busy.every((ticks) => ticks <= (options.maxBusyTicks ?? 2)) || Date.now() > deadline) return;
  }
}
