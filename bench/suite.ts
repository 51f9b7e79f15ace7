import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { log, type BenchContext, type Cleanup, type RunningTarget } from './context';
import { machineInfo } from './lib/machine';
import { postgresVersion } from './lib/postgres';
import type { LoadRunRecord, StartupRecord } from './lib/report';
import { SandboxHost } from './lib/sandbox-client';
import { runProfile, startProfiledApp, type ProfiledApp } from './measure/profile';
import { loadCells, measureRequestsVsFloor, warmUp } from './measure/requests-vs-floor';
import { memoryRecords, startOnExistingDatabase, startupOnNewDatabase } from './measure/startup-memory';
import { measureWebhookResolve } from './measure/webhook-resolve';
import type { Options } from './options';
import { finishResults } from './results';
import { publishRun } from './results-store';
import { SCENARIOS } from './scenarios';
import { appLogProblems, createAppStore, prepareApp, runningApp, startFloor, targetInfo } from './targets';

/**
 * One benchmark run, in order: check PostgreSQL and the machine's load, start the sandboxes, start
 * each server (timing the apps' start-ups), warm up, then measure each request scenario against
 * the floor, webhook → resolve and memory; stop everything and publish. With --profile, one app
 * under the CPU profiler instead of the measurements.
 */
export async function runSuite(options: Options, cleanup: Cleanup): Promise<void> {
  const machine = machineInfo();
  const startedAt = new Date();
  const warnings: string[] = [];

  let targets = options.targets;
  const pgVersion = targets.includes('postgres') ? await postgresVersion(options.postgresUrl) : null;
  if (targets.includes('postgres') && !pgVersion) {
    warnings.push(`PostgreSQL did not answer at ${redact(options.postgresUrl)}: the PostgreSQL figures are missing.`);
    targets = targets.filter((t) => t !== 'postgres');
    if (options.profile) throw new Error('PostgreSQL is needed for --profile postgres');
  }
  if (machine.loadAverage.start > machine.cores * 0.5) {
    warnings.push(`The machine was busy when the run started (load average ${machine.loadAverage.start} on ${machine.cores} cores): figures are lower and noisier than on a quiet machine.`);
  }

  const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'flex-bench-'));
  if (!options.keep) cleanup.add('temporary files', () => rmSync(tmpRoot, { recursive: true, force: true }));
  log(`flex bench: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; scratch ${tmpRoot}`);

  const host = await SandboxHost.start();
  cleanup.add('sandboxes', () => host.stop());
  const { flexUrl, shopifyUrl } = await host.urls();
  const ctx: BenchContext = { options, machine, startedAt, warnings, host, flexUrl, shopifyUrl, tmpRoot, cleanup };

  // ---- start the servers; the apps' start-ups are measured on the way ----
  const running: RunningTarget[] = [];
  const startup: StartupRecord[] = [];
  let profiled: ProfiledApp | undefined;
  for (const name of targets) {
    const info = targetInfo(ctx, name, pgVersion);
    if (name === 'floor') {
      running.push(await startFloor(ctx, info));
      continue;
    }
    const app = await prepareApp(ctx, info);
    if (!options.profile) startup.push(...(await startupOnNewDatabase(ctx, app)));
    const store = await createAppStore(ctx, app);
    if (options.profile) {
      profiled = await startProfiledApp(ctx, app, store);
      running.push(profiled.target);
      continue;
    }
    const { server, records } = await startOnExistingDatabase(ctx, app, store);
    startup.push(...records);
    running.push(runningApp(ctx, app, store, server));
  }

  for (const scenario of SCENARIOS) await warmUp(ctx, scenario, running);

  if (profiled) {
    await runProfile(ctx, SCENARIOS[0], profiled, startup);
    return;
  }

  // ---- the measurements ----
  const loadRuns: LoadRunRecord[] = [];
  for (const scenario of SCENARIOS) loadRuns.push(...(await measureRequestsVsFloor(ctx, scenario, running)));
  const webhook = await measureWebhookResolve(ctx, running);
  const memory = await memoryRecords(ctx, running);

  // ---- stop everything, then publish ----
  for (const t of running) warnings.push(...appLogProblems(t));
  await cleanup.runAll();
  const results = finishResults(ctx, {
    targets: running.map((t) => t.info),
    load: { cells: loadCells(loadRuns), runs: loadRuns },
    webhook,
    startup: { records: startup },
    memory,
  });
  publishRun(results, options);
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return 'the configured URL';
  }
}
