import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AMOUNT, log, type BenchContext, type RunningTarget } from '../context';
import { summarizeCpuProfile, type ProfileSummary } from '../lib/cpu-profile';
import { perfAvailable, PerfRecording, perfScript, perfNodeFlags, summarizePerfScript, type PerfProfileSummary } from '../lib/perf-profile';
import { PgCountingProxy } from '../lib/pg-counting-proxy';
import { cpuMs, stopServer, waitUntilIdle } from '../lib/processes';
import { measureQueryCost } from '../lib/query-cost';
import type { StartupRecord, TargetInfo } from '../lib/report';
import { round } from '../lib/stats';
import { finishResults } from '../results';
import { publishProfile, savedFloorProfile } from '../results-store';
import { DEFAULT_SCENARIO } from '../scenarios';
import type { RequestScenario } from '../scenarios/scenario';
import { launchApp, runningApp, startFloor, type AppLaunch, type AppStore } from '../targets';
import { loadTarget, type PreparedSizing } from './requests-vs-floor';

/**
 * `--profile postgres|embedded|floor`: the app (or the floor) started under a profiler (`node --cpu-prof`,
 * or with --profiler perf Linux perf: see lib/perf-profile.ts for why both), loaded with one request
 * scenario or complete payments (--scenario payment-session (default), pay-step or payment-flow;
 * concurrency 8, 10 s, Flex latency 0 ms), stopped, and its profile summarised over the
 * load window: busy ms per request (V8: wall time; perf: on a CPU), inclusive time per package / src/ folder / WASM module, runtime
 * self time, top functions, kinds of work (beside the floor's from its saved profile), and the process's
 * CPU from /proc. On PostgreSQL the app's connection goes through a proxy that counts round trips and
 * SQL per request; once the app is stopped, one lookup through Prisma is timed against the same SELECT
 * through pg. Saved as results/profile-<target>[-<scenario>][-perf].json and .md.
 */

export interface ProfiledApp {
  target: RunningTarget;
  proxy?: PgCountingProxy;
  profileDir: string;
}

/**
 * The profiler's Node flags. V8's writes its .cpuprofile into a folder of the run's scratch directory
 * on exit; for perf, Node names its JavaScript frames and perf is attached over the load window.
 */
function profilerFlags(ctx: BenchContext): { profileDir: string; execArgv: string[] } {
  const profileDir = path.join(ctx.tmpRoot, 'profile');
  mkdirSync(profileDir, { recursive: true });
  if (ctx.options.profiler === 'perf') {
    if (!perfAvailable()) throw new Error('--profiler perf needs Linux perf on the PATH');
    return { profileDir, execArgv: perfNodeFlags(profileDir) };
  }
  return { profileDir, execArgv: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] };
}

/** `--profile floor`: the floor under the same profiler and load, the reference for the app's profile. */
export async function startProfiledFloor(ctx: BenchContext, info: TargetInfo): Promise<ProfiledApp> {
  const { profileDir, execArgv } = profilerFlags(ctx);
  return { target: await startFloor(ctx, info, execArgv), profileDir };
}

/** Starts the app once, under the CPU profiler, behind the counting proxy on PostgreSQL. */
export async function startProfiledApp(ctx: BenchContext, app: AppLaunch, store: AppStore): Promise<ProfiledApp> {
  let proxy: PgCountingProxy | undefined;
  let databaseUrl = store.databaseUrl;
  if (store.db) {
    // Through a counting proxy, to measure database round trips per request.
    const target = new URL(store.db.url);
    const started = (proxy = await PgCountingProxy.start(target.hostname, Number(target.port || 5432)));
    const proxied = new URL(store.db.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    databaseUrl = proxied.toString();
    ctx.cleanup.add('pg proxy', () => started.stop());
  }
  const { profileDir, execArgv } = profilerFlags(ctx);
  const { server } = await launchApp(app, store.dataDir, databaseUrl, { execArgv });
  return { target: runningApp(ctx, app, store, server), proxy, profileDir };
}

/** Loads the profiled app, stops everything, and publishes the profile. */
export async function runProfile(ctx: BenchContext, scenario: RequestScenario | 'payment-flow', profiled: ProfiledApp, startup: StartupRecord[], sizing: PreparedSizing): Promise<void> {
  const { options, warnings, host } = ctx;
  const { target, proxy, profileDir } = profiled;
  const concurrency = options.concurrency[0] ?? 8;
  let before = 0;
  let fromUs = 0;
  let cpuBefore: number | null = null;
  // perf is attached now, counting nothing until the window opens.
  const perf = options.profiler === 'perf' ? PerfRecording.start(target.server.pid, path.join(profileDir, 'perf.data')) : undefined;
  if (perf) ctx.cleanup.add('perf record', () => perf.stop().catch(() => undefined));
  const start = async () => {
    await perf?.enable();
    before = proxy?.roundTrips ?? 0;
    proxy?.resetStatements();
    fromUs = Number(process.hrtime.bigint() / 1000n);
    cpuBefore = cpuMs(target.server.pid);
  };
  let result: { rps: number; requests: number };
  if (scenario === 'payment-flow') {
    // Complete payments, `concurrency` buyers: the session request, the pay page, the webhook and the outbox's resolve.
    await start();
    const flow = await host.paymentFlowRun({ endpoint: target.endpoint, shop: target.shop, amount: AMOUNT, accountId: target.flexAccountId, buyers: concurrency, durationMs: options.durationSeconds * 1000, resolveTimeoutMs: 60_000 });
    result = { rps: flow.completed / Math.max(0.001, flow.elapsedMs / 1000), requests: flow.completed };
  } else {
    // A prepared scenario's requests are made before the profiled window (and the counting) starts.
    const prepared = scenario.kind === 'prepared' ? sizing.count(scenario.key, target.info.name, 0, concurrency, options.durationSeconds) : undefined;
    result = await loadTarget(ctx, scenario, target, concurrency, options.durationSeconds, prepared, start);
  }
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const cpuAfter = cpuMs(target.server.pid);
  await perf?.disable();
  await perf?.stop();
  const roundTrips = proxy ? proxy.roundTrips - before : undefined;
  log(`profiled ${target.info.name}: ${Math.round(result.rps)} req/s at c=${concurrency}${roundTrips !== undefined ? `, ${(roundTrips / Math.max(1, result.requests)).toFixed(1)} DB round trips per request` : ''}`);
  // Requests autocannon gave up on at the end may still be running in the app: let them finish,
  // then stop it gracefully (the profile is written on a normal exit only).
  await waitUntilIdle([target.server.pid]);
  const exit = await stopServer(target.server);
  if (exit === 'SIGKILL') warnings.push(`${target.info.label} did not exit within 15 s of SIGTERM and was killed`);
  await host.stop();
  // With the app stopped: what one query costs through Prisma and through pg, in this process.
  const queryCost = target.databaseUrl ? await measureQueryCost(target.databaseUrl, target.shop) : undefined;
  let summary: ProfileSummary | PerfProfileSummary;
  let keep: string;
  if (perf) {
    const script = perfScript(perf.file);
    summary = summarizePerfScript(script, target.server.pid, { windowMs: (toUs - fromUs) / 1000 });
    keep = path.join(os.tmpdir(), `flex-bench-${target.info.name}-${Date.now()}.perf.txt`);
    writeFileSync(keep, script);
  } else {
    const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no .cpuprofile written in ${profileDir}`);
    summary = summarizeCpuProfile(path.join(profileDir, file), { windowUs: [fromUs, toUs] });
    if (!summary.windowed) warnings.push('Could not cut the CPU profile to the load window: it covers the whole process life (start-up and warm-up included).');
    keep = path.join(os.tmpdir(), `flex-bench-${target.info.name}-${Date.now()}.cpuprofile`);
    writeFileSync(keep, readFileSync(path.join(profileDir, file)));
  }
  await ctx.cleanup.runAll();
  const perRequest = (n: number) => round(n / Math.max(1, result.requests), 2);
  const results = finishResults(ctx, {
    settings: { flexLatencyMs: [0] },
    targets: [target.info],
    load: { cells: [], runs: [] },
    webhook: { cells: [], runs: [] },
    startup: { records: startup },
    memory: [],
    profile: {
      ...summary,
      target: target.info.name,
      scenario: scenario === 'payment-flow' ? scenario : scenario.key,
      concurrency,
      seconds: options.durationSeconds,
      dbRoundTripsPerRequest: roundTrips !== undefined ? perRequest(roundTrips) : undefined,
      requests: result.requests,
      rps: round(result.rps, 1),
      queryCost: queryCost && {
        queries: queryCost.queries,
        prisma: { cpuMs: round(queryCost.prisma.cpuMs, 3), wallMs: round(queryCost.prisma.wallMs, 3) },
        pg: { cpuMs: round(queryCost.pg.cpuMs, 3), wallMs: round(queryCost.pg.wallMs, 3) },
      },
      profiler: options.profiler,
      cpuMsPerRequest: summary.windowed ? perRequest(summary.busyMs) : undefined,
      // The process's CPU over the load window from /proc (all threads), to read the profile's busy time against.
      processCpuMsPerRequest: cpuBefore !== null && cpuAfter !== null ? perRequest(cpuAfter - cpuBefore) : undefined,
      statementsPerRequest: proxy
        ? [...proxy.statements.entries()]
            .map(([sql, count]) => ({ sql, perRequest: perRequest(count) }))
            .filter((x) => x.perRequest >= 0.05)
            .sort((a, b) => b.perRequest - a.perRequest)
        : undefined,
    },
  });
  const name = (targetName: string) => profileName(targetName, scenario === 'payment-flow' ? scenario : scenario.key, options.profiler);
  const floorRun = target.info.name === 'floor' ? undefined : savedFloorProfile(name('floor'));
  const floor = floorRun?.profile;
  if (results.profile && floorRun && floor?.kinds && floor.windowed) {
    if (floor.concurrency === concurrency && floor.seconds === options.durationSeconds) {
      results.profile.floorKinds = { startedAt: floorRun.startedAt, perRequest: floor.kinds.map((k) => ({ kind: k.kind, ms: round(k.ms / Math.max(1, floor.requests), 3) })) };
    } else {
      warnings.push(`The floor's saved profile (${name('floor')}) was taken at concurrency ${floor.concurrency} for ${floor.seconds} s, not ${concurrency} for ${options.durationSeconds} s: not shown beside this one.`);
    }
  }
  publishProfile(results, options, name(target.info.name));
  process.stdout.write(perf ? `perf script output kept at ${keep}\n` : `CPU profile kept at ${keep} (open it in Chrome DevTools → Performance, or speedscope)\n`);
}

/**
 * A profile's file name in results/: profile-<target>[-<scenario>][-perf]. The session request keeps
 * the name profiles had before there were several scenarios (no scenario part).
 */
function profileName(target: string, scenario: string, profiler: 'v8' | 'perf'): string {
  return `profile-${target}${scenario === DEFAULT_SCENARIO ? '' : `-${scenario}`}${profiler === 'perf' ? '-perf' : ''}`;
}
