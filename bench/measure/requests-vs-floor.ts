import { AMOUNT, log, MB, type BenchContext, type RunningTarget } from '../context';
import { startCpuMeter } from '../lib/cpu';
import { runLoad, type LoadOptions, type LoadResult } from '../lib/load';
import { sampleRss, waitUntilIdle } from '../lib/processes';
import { analyzeAppDatabase } from '../lib/statistics';
import type { LoadCell, LoadRunRecord } from '../lib/report';
import { round, spread } from '../lib/stats';
import type { RequestScenario, ScenarioRequest, ScenarioTarget } from '../scenarios/scenario';

/**
 * Request scenarios (bench/scenarios/) under load, the floor and the apps taking turns run by run, so
 * that each app run is compared with the floor run taken seconds before it: at every Flex latency
 * and concurrency, `runs` runs of `durationSeconds` each. A prepared scenario (the pay page) gets
 * what its requests need made before each run, not measured, as many as the run will use.
 */

export function scenarioTarget(ctx: BenchContext, t: RunningTarget): ScenarioTarget {
  return { endpoint: t.endpoint, shop: t.shop, amount: AMOUNT, shopifyUrl: ctx.shopifyUrl, host: ctx.host };
}

/**
 * How many requests a prepared run should have: the rate this server reached before in this
 * scenario (the same settings if measured, else its best, bounded by what the Flex latency allows
 * at this concurrency), for the run's duration, with room to spare. Keyed by scenario and target.
 */
export class PreparedSizing {
  private readonly seen = new Map<string, number>();
  private readonly best = new Map<string, number>();

  record(scenario: string, target: string, latencyMs: number, concurrency: number, rps: number): void {
    this.seen.set(`${scenario}|${target}|${latencyMs}|${concurrency}`, rps);
    this.best.set(`${scenario}|${target}`, Math.max(rps, this.best.get(`${scenario}|${target}`) ?? 0));
  }

  count(scenario: string, target: string, latencyMs: number, concurrency: number, seconds: number): number {
    const same = this.seen.get(`${scenario}|${target}|${latencyMs}|${concurrency}`);
    const flexBound = latencyMs > 0 ? (concurrency * 1000) / latencyMs : Number.POSITIVE_INFINITY;
    const rate = same ?? Math.min(this.best.get(`${scenario}|${target}`) ?? 100, flexBound);
    return Math.min(50_000, Math.max(50, Math.ceil(rate * seconds * 1.25) + 2 * concurrency));
  }
}

/** A run's requests: the prepared ones, or new ones built as the run goes. */
function requestsOf(scenario: RequestScenario, target: ScenarioTarget, prepared: ScenarioRequest[] | undefined): LoadOptions['requests'] {
  if (prepared) return { list: prepared };
  if (scenario.kind !== 'endless') throw new Error(`${scenario.key} needs prepared requests`);
  return { next: () => scenario.nextRequest(target) };
}

/** One autocannon run of a scenario against one target; a prepared scenario's requests are made first (not measured). */
export async function loadTarget(
  ctx: BenchContext,
  scenario: RequestScenario,
  t: RunningTarget,
  connections: number,
  durationSeconds: number,
  prepared?: number,
  /** Called (and awaited) when the load starts (a prepared scenario's requests are made by then). */
  onStart?: () => void | Promise<void>,
): Promise<LoadResult> {
  const made = scenario.kind === 'prepared' ? await prepare(ctx, scenario, t, prepared ?? 50) : undefined;
  await onStart?.();
  return runLoad({ requests: requestsOf(scenario, scenarioTarget(ctx, t), made), connections, durationSeconds, expectedStatus: scenario.expectedStatus });
}

async function prepare(ctx: BenchContext, scenario: Extract<RequestScenario, { kind: 'prepared' }>, t: RunningTarget, count: number) {
  const { requests, errors } = await scenario.prepare(scenarioTarget(ctx, t), count);
  if (errors.length > 0) ctx.warnings.push(`${scenario.key}, ${t.info.label}: ${count - requests.length} of ${count} requests could not be prepared (${errors[0]})`);
  if (requests.length === 0) throw new Error(`${t.info.name}: no ${scenario.key} request could be prepared: ${errors.join('; ')}`);
  // The sessions were made just now: let the server settle before it is measured.
  await waitUntilIdle([t.server.pid, ctx.host.pid]);
  return requests;
}

/** The Flex latency under which the warm-up's probe is recorded: it only sizes the warm-up. */
const PROBE = -1;

/**
 * Warm-up (JIT, connection pools, the app's first pay page creates the catch-all price), at Flex
 * latency 0. It also counts the Flex calls per request, the sanity check of the comparison: the
 * floor and the app make the same ones (none for the session request, one for the pay page).
 */
export async function warmUp(ctx: BenchContext, scenario: RequestScenario, running: RunningTarget[], sizing: PreparedSizing): Promise<void> {
  const { host } = ctx;
  await host.setFlexLatency(0);
  for (const t of running) {
    // One request alone first: the first pay page creates the app's catch-all price. A burst of first
    // requests for a new amount races to record that price, and the losers answer 500 (a known
    // issue), which is not what this benchmark measures.
    await loadTarget(ctx, scenario, t, 1, 1, 1);
    await waitUntilIdle([t.server.pid, host.pid]);
    let made: ScenarioRequest[] | undefined;
    if (scenario.kind === 'prepared') {
      // A first estimate of the rate (100 requests), to size the warm-up proper.
      const probe = await loadTarget(ctx, scenario, t, 8, 1, 100);
      sizing.record(scenario.key, t.info.name, PROBE, 8, probe.rps);
      await waitUntilIdle([t.server.pid, host.pid]);
      made = await prepare(ctx, scenario, t, sizing.count(scenario.key, t.info.name, PROBE, 8, ctx.options.warmupSeconds));
    }
    await host.clearRecords();
    const target = scenarioTarget(ctx, t);
    const warm = await runLoad({
      requests: requestsOf(scenario, target, made),
      connections: 8,
      durationSeconds: ctx.options.warmupSeconds,
      expectedStatus: scenario.expectedStatus,
    });
    sizing.record(scenario.key, t.info.name, 0, 8, warm.rps);
    await waitUntilIdle([t.server.pid, host.pid]);
    await analyzeAppDatabase(t);
    const calls = await host.flexCalls(t.flexAccountId);
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    const perRequest = round(total / Math.max(1, warm.sent), 3);
    (t.info.flexCallsByScenario ??= {})[scenario.key] = { perRequest, byRoute: calls };
    log(
      `warm-up ${scenario.key} ${t.info.name}: ${Math.round(warm.rps)} req/s, ${warm.unexpected} unexpected answers, ${warm.errors} errors; Flex calls per request ${perRequest}${total ? ` (${Object.entries(calls).map(([k, v]) => `${k} ×${v}`).join(', ')})` : ''}`,
    );
    if (warm.latency.count === 0) throw new Error(`${t.info.name} answered no ${scenario.key} request with ${scenario.expectedStatus} during warm-up (${JSON.stringify(warm.statuses)}); see ${t.server.logFile}`);
  }
}

/** The measured runs of one scenario: returns one record per run and target. */
export async function measureRequestsVsFloor(ctx: BenchContext, scenario: RequestScenario, running: RunningTarget[], sizing: PreparedSizing): Promise<LoadRunRecord[]> {
  const { host, options } = ctx;
  const runs: LoadRunRecord[] = [];
  for (const latency of options.flexLatencyMs) {
    await host.setFlexLatency(latency);
    for (const concurrency of options.concurrency) {
      for (let run = 1; run <= options.runs; run++) {
        for (const t of running) {
          const count = scenario.kind === 'prepared' ? sizing.count(scenario.key, t.info.name, latency, concurrency, options.durationSeconds) : undefined;
          const made = scenario.kind === 'prepared' ? await prepare(ctx, scenario, t, count!) : undefined;
          const target = scenarioTarget(ctx, t);
          const sampler = sampleRss(t.server.pid);
          const cpu = await startCpuMeter(t.cpu);
          const result = await runLoad({
            requests: requestsOf(scenario, target, made),
            connections: concurrency,
            durationSeconds: options.durationSeconds,
            expectedStatus: scenario.expectedStatus,
          });
          const peakRssMB = sampler.stop() / MB;
          // Let whatever the server still has in hand finish (it is part of the requests sent), then
          // read its CPU; the next server is loaded only once this one is idle.
          await waitUntilIdle([t.server.pid, host.pid]);
          const used = await cpu.stop();
          t.loadPeakRssMB = Math.max(t.loadPeakRssMB, peakRssMB);
          if (made) sizing.record(scenario.key, t.info.name, latency, concurrency, result.rps);
          runs.push({
            scenario: scenario.key,
            target: t.info.name,
            flexLatencyMs: latency,
            concurrency,
            run,
            rps: round(result.rps, 1),
            p50: round(result.latency.p50, 2),
            p95: round(result.latency.p95, 2),
            p99: round(result.latency.p99, 2),
            max: round(result.latency.max, 2),
            seconds: round(result.durationSeconds, 2),
            answered: result.latency.count,
            unexpected: result.unexpected,
            non2xx: result.unexpected,
            errors: result.errors,
            timeouts: result.timeouts,
            peakRssMB: round(peakRssMB, 1),
            cpuMsPerRequest: round(used.processMs / Math.max(1, result.sent), 3),
            dbCpuMsPerRequest: t.cpu.postgres ? round(used.databaseMs / Math.max(1, result.sent), 3) : undefined,
          });
          const bad = result.unexpected + result.errors;
          log(
            `${scenario.key} Flex ${latency} ms, c=${concurrency}, run ${run}/${options.runs}, ${t.info.name.padEnd(8)}: ${result.rps.toFixed(0).padStart(5)} req/s  p50 ${result.latency.p50.toFixed(1)}  p99 ${result.latency.p99.toFixed(1)} ms  CPU ${(used.processMs / Math.max(1, result.sent)).toFixed(2)}${t.cpu.postgres ? `+${(used.databaseMs / Math.max(1, result.sent)).toFixed(2)} db` : ''} ms/req${bad ? `  (${JSON.stringify(result.statuses)}, ${result.errors} errors)` : ''}`,
          );
        }
      }
    }
  }
  await host.setFlexLatency(0);
  return runs;
}

/** Median and range per scenario, Flex latency, concurrency and target; apps against the floor. */
export function loadCells(runs: LoadRunRecord[]): LoadCell[] {
  const cells: LoadCell[] = [];
  const keyOf = (r: LoadRunRecord) => `${r.scenario}|${r.flexLatencyMs}|${r.concurrency}|${r.target}`;
  for (const key of [...new Set(runs.map(keyOf))]) {
    const mine = runs.filter((r) => keyOf(r) === key);
    const { scenario, flexLatencyMs, concurrency, target } = mine[0];
    const cpu = mine.filter((r) => r.cpuMsPerRequest !== undefined);
    const cell: LoadCell = {
      scenario,
      target,
      flexLatencyMs,
      concurrency,
      rps: spread(mine.map((r) => r.rps)),
      p50: spread(mine.map((r) => r.p50)),
      p95: spread(mine.map((r) => r.p95)),
      p99: spread(mine.map((r) => r.p99)),
      non2xx: mine.reduce((a, r) => a + (r.unexpected ?? r.non2xx), 0),
      errors: mine.reduce((a, r) => a + r.errors, 0),
      peakRssMB: Math.max(...mine.map((r) => r.peakRssMB)),
      ...(cpu.length ? { cpuMsPerRequest: spread(cpu.map((r) => round(r.cpuMsPerRequest! + (r.dbCpuMsPerRequest ?? 0), 3))) } : {}),
    };
    if (target !== 'floor') {
      const pairs = mine
        .map((r) => ({ r, f: runs.find((x) => x.target === 'floor' && x.scenario === r.scenario && x.flexLatencyMs === r.flexLatencyMs && x.concurrency === r.concurrency && x.run === r.run) }))
        .filter((p): p is { r: LoadRunRecord; f: LoadRunRecord } => p.f !== undefined);
      if (pairs.length > 0) {
        cell.vsFloor = {
          throughputRatio: spread(pairs.map(({ r, f }) => round(r.rps / f.rps, 3))),
          addedP50Ms: spread(pairs.map(({ r, f }) => round(r.p50 - f.p50, 2))),
          addedP99Ms: spread(pairs.map(({ r, f }) => round(r.p99 - f.p99, 2))),
        };
      }
    }
    cells.push(cell);
  }
  return cells;
}
