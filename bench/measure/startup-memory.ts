import { rmSync } from 'node:fs';
import path from 'node:path';
import { log, MB, type BenchContext, type RunningTarget } from '../context';
import { createBenchDatabase } from '../lib/postgres';
import { memoryOf, stopServer, type ServerProcess } from '../lib/processes';
import type { MemoryRecord, StartupRecord } from '../lib/report';
import { round } from '../lib/stats';
import { launchApp, type AppLaunch, type AppStore } from '../targets';

/**
 * Start-up: from spawning `node dist/src/main.js` to the first 200 from /healthz, on a new database
 * (migrations run; for PGlite also its initdb) and on an existing one. Memory: RSS of each server
 * process alone, idle after start, under load (sampled by the load measurements) and the kernel's
 * high-water mark.
 */

/** `startupRuns` starts on a new, empty database each (dropped afterwards): the migrations run. */
export async function startupOnNewDatabase(ctx: BenchContext, app: AppLaunch): Promise<StartupRecord[]> {
  const records: StartupRecord[] = [];
  for (let i = 0; i < ctx.options.startupRuns; i++) {
    const dataDir = path.join(ctx.tmpRoot, `${app.name}-fresh-${i}`);
    const db = app.name === 'postgres' ? await createBenchDatabase(ctx.options.postgresUrl, 'fresh') : undefined;
    if (db) ctx.cleanup.add(`database ${db.name}`, () => db.drop());
    const { server, startupMs } = await launchApp(app, dataDir, db?.url);
    await stopServer(server);
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    records.push({ target: app.name, kind: 'new-database', ms: round(startupMs, 1) });
    log(`start-up ${app.name}, new database: ${Math.round(startupMs)} ms`);
  }
  return records;
}

/**
 * Starts the app on its load store (shop registered, migrations done) `startupRuns` times, each
 * start timed, and leaves the last one running for the load measurements.
 */
export async function startOnExistingDatabase(ctx: BenchContext, app: AppLaunch, store: AppStore): Promise<{ server: ServerProcess; records: StartupRecord[] }> {
  const records: StartupRecord[] = [];
  let server: ServerProcess | undefined;
  for (let i = 0; i < Math.max(1, ctx.options.startupRuns); i++) {
    if (server) await stopServer(server);
    const started = await launchApp(app, store.dataDir, store.databaseUrl);
    server = started.server;
    if (i < ctx.options.startupRuns) {
      records.push({ target: app.name, kind: 'existing-database', ms: round(started.startupMs, 1) });
      log(`start-up ${app.name}, existing database: ${Math.round(started.startupMs)} ms`);
    }
  }
  return { server: server!, records };
}

/** Read at the end of the run, while the servers still live. */
export async function memoryRecords(ctx: BenchContext, running: RunningTarget[]): Promise<MemoryRecord[]> {
  const hostMemory = await ctx.host.memory();
  if (hostMemory.rss > 3 * 1024 * MB) ctx.warnings.push(`The sandbox process grew to ${Math.round(hostMemory.rss / MB)} MB (it keeps every checkout session): shorten the run if the machine swaps.`);
  return running.map((t) => {
    const m = memoryOf(t.server.pid);
    return {
      target: t.info.name,
      idleRssMB: round(t.idleRssMB, 1),
      loadPeakRssMB: round(t.loadPeakRssMB, 1),
      lifetimePeakRssMB: m?.peakRssBytes ? round(m.peakRssBytes / MB, 1) : null,
    };
  });
}
