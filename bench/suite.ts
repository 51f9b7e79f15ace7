import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { log, type BenchContext, type Cleanup, type RunningTarget } from './context';
import { machineInfo } from './lib/machine';
import { postgresVersion } from './lib/postgres';
import type { LoadRunRecord, StartupRecord, TargetName } from './lib/report';
import { SandboxHost } from './lib/sandbox-client';
import { measurePaymentFlow } from './measure/payment-flow';
import { runProfile, startProfiledApp, startProfiledFloor, type ProfiledApp } from './measure/profile';
import { measureReconcileBacklog } from './measure/reconcile-backlog';
import { loadCells, measureRequestsVsFloor, PreparedSizing, warmUp } from './measure/requests-vs-floor';
import { memoryRecords, startOnExistingDatabase, startupOnNewDatabase } from './measure/startup-memory';
import { measureWebhookResolve } from './measure/webhook-resolve';
import type { Options } from './options';
import { finishResults } from './results';
import { publishBacklog, publishRun } from './results-store';
import { SCENARIOS } from './scenarios';
import { appLogProblems, awaitCartJoin, createAppStore, prepareApp, runningApp, startFloor, targetInfo } from './targets';

/**
 * One benchmark run, in order: check PostgreSQL and the machine's load, start the sandboxes, start
 * each server (timing the apps' start-ups), then for each request scenario a warm-up and its
 * measurement against the floor, the complete payment against the floor, webhook → resolve and
 * memory; stop everything and publish. With --profile, one app (or the floor) under a CPU profiler instead of the
 * measurements; with --only reconcile-backlog, the reconciler's backlog alone.
 */
export async function runSuite(options: Options, cleanup: Cleanup): Promise<void> {
  const machine = machineInfo();
  const startedAt = new Date();
  const warnings: string[] = [];

  let targets = options.targets;
  const onPostgres = (t: TargetName) => t === 'postgres' || t === 'durable-floor';
  const pgVersion = targets.some(onPostgres) ? await postgresVersion(options.postgresUrl) : null;
  if (targets.some(onPostgres) && !pgVersion) {
    warnings.push(`PostgreSQL did not answer at ${redact(options.postgresUrl)}: the PostgreSQL figures are missing.`);
    targets = targets.filter((t) => !onPostgres(t));
    if (options.profile) throw new Error('PostgreSQL is needed for --profile postgres');
  }
  if (machine.loadAverage.start > machine.cores * 0.5) {
    warnings.push(`The machine was busy when the run started (load average ${machine.loadAverage.start} on ${machine.cores} cores): figures are lower and noisier than on a quiet machine.`);
  }

  const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'flex-bench-'));
  if (!options.keep) cleanup.add('temporary files', () => rmSync(tmpRoot, { recursive: true, force: true }));
  log(`flex bench: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load average ${machine.loadAverage.start}; scratch ${tmpRoot}`);

  // The backlog's drain is judged from the Flex request log: keep all of it.
  const host = await SandboxHost.start(options.backlog ? { recordLimit: 200_000 } : {});
  cleanup.add('sandboxes', () => host.stop());
  const { flexUrl, shopifyUrl } = await host.urls();
  const ctx: BenchContext = { options, machine, startedAt, warnings, host, flexUrl, shopifyUrl, tmpRoot, cleanup };

  if (options.backlog) {
    await runBacklog(ctx, targets.includes('postgres') ? 'postgres' : 'embedded', pgVersion);
    return;
  }

  const measures = (m: string) => options.measurements.includes(m);
  const scenarios = SCENARIOS.filter((s) => measures(s.key));

  // ---- start the servers; the apps' start-ups are measured on the way ----
  const running: RunningTarget[] = [];
  const startup: StartupRecord[] = [];
  let profiled: ProfiledApp | undefined;
  for (const name of targets) {
    const info = targetInfo(ctx, name, pgVersion);
    if (name === 'floor' && options.profile === 'floor') {
      profiled = await startProfiledFloor(ctx, info);
      await awaitCartJoin(ctx, profiled.target);
      running.push(profiled.target);
      continue;
    }
    if (name === 'floor' || name === 'durable-floor') {
      const floor = await startFloor(ctx, info);
      await awaitCartJoin(ctx, floor);
      running.push(floor);
      continue;
    }
    const app = await prepareApp(ctx, info);
    if (!options.profile && measures('startup')) startup.push(...(await startupOnNewDatabase(ctx, app)));
    const store = await createAppStore(ctx, app);
    if (options.profile) {
      profiled = await startProfiledApp(ctx, app, store);
      await awaitCartJoin(ctx, profiled.target);
      running.push(profiled.target);
      continue;
    }
    const { server, records } = await startOnExistingDatabase(ctx, app, store);
    if (measures('startup')) startup.push(...records);
    const target = runningApp(ctx, app, store, server);
    // The shop's catalog synced (every bench variant in Flex with its price) before anything is measured.
    await awaitCartJoin(ctx, target);
    running.push(target);
  }

  const sizing = new PreparedSizing();
  if (profiled) {
    if (options.profileScenario === 'payment-flow') {
      for (const scenario of SCENARIOS) await warmUp(ctx, scenario, running, sizing);
      await runProfile(ctx, 'payment-flow', profiled, startup, sizing);
      return;
    }
    const scenario = SCENARIOS.find((s) => s.key === options.profileScenario);
    if (!scenario) throw new Error(`--scenario takes ${[...SCENARIOS.map((s) => s.key), 'payment-flow'].join(', ')}`);
    await warmUp(ctx, scenario, running, sizing);
    await runProfile(ctx, scenario, profiled, startup, sizing);
    return;
  }

  // ---- the measurements ----
  const loadRuns: LoadRunRecord[] = [];
  for (const scenario of scenarios) {
    await warmUp(ctx, scenario, running, sizing);
    loadRuns.push(...(await measureRequestsVsFloor(ctx, scenario, running, sizing)));
  }
  const flow = measures('payment-flow') ? await measurePaymentFlow(ctx, running) : undefined;
  const webhook = measures('webhook-resolve') ? await measureWebhookResolve(ctx, running) : { cells: [], runs: [] };
  const memory = await memoryRecords(ctx, running);

  // ---- stop everything, then publish ----
  for (const t of running) warnings.push(...appLogProblems(t));
  await cleanup.runAll();
  const results = finishResults(ctx, {
    targets: running.map((t) => t.info),
    load: { cells: loadCells(loadRuns), runs: loadRuns, titles: Object.fromEntries(scenarios.map((s) => [s.key, s.title])) },
    flow,
    webhook,
    startup: { records: startup },
    memory,
  });
  publishRun(results, options);
}

/** --only reconcile-backlog: one app (PostgreSQL unless only the embedded database is asked for). */
async function runBacklog(ctx: BenchContext, name: 'postgres' | 'embedded', pgVersion: string | null): Promise<void> {
  const info = targetInfo(ctx, name, pgVersion);
  const app = await prepareApp(ctx, info);
  const store = await createAppStore(ctx, app);
  if (name === 'embedded' && (ctx.options.backlog?.instances ?? 1) > 1) throw new Error('several instances need PostgreSQL (the embedded database is one process)');
  const backlog = await measureReconcileBacklog(ctx, app, store);
  ctx.warnings.push(...appLogProblems({ info, server: { logFile: app.logFile } }));
  await ctx.cleanup.runAll();
  const results = finishResults(ctx, {
    targets: [info],
    load: { cells: [], runs: [] },
    webhook: { cells: [], runs: [] },
    startup: { records: [] },
    memory: [],
    backlog,
  });
  publishBacklog(results, ctx.options);
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
