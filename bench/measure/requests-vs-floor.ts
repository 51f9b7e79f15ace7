import { AMOUNT, log, MB, type BenchContext, type RunningTarget } from '../context';
import { runLoad, type LoadResult } from '../lib/load';
import { sampleRss, waitUntilIdle } from '../lib/processes';
import type { LoadCell, LoadRunRecord } from '../lib/report';
import { round, spread } from '../lib/stats';
import { DEFAULT_SCENARIO } from '../scenarios';
import type { RequestScenario } from '../scenarios/scenario';

/**
 * Request scenarios (bench/scenarios/) under load, the floor and the apps taking turns run by run, so
 * that each app run is compared with the floor run taken seconds before it: at every Flex latency
 * and concurrency, `runs` runs of `durationSeconds` each.
 */

/** One autocannon run of a scenario against one target. */
export function loadTarget(ctx: BenchContext, scenario: RequestScenario, t: RunningTarget, connections: number, durationSeconds: number): Promise<LoadResult> {
  const target = { shop: t.shop, amount: AMOUNT, shopifyUrl: ctx.shopifyUrl };
  return runLoad({ url: t.server.url, nextRequest: () => scenario.nextRequest(target), connections, durationSeconds });
}

/**
 * Warm-up (JIT, connection pools, the app's first request creates the catch-all price), at Flex
 * latency 0. For the payment session it also counts the Flex calls per request, the sanity check
 * of the comparison: the floor and the app make the same ones.
 */
export async function warmUp(ctx: BenchContext, scenario: RequestScenario, running: RunningTarget[]): Promise<void> {
  const { host } = ctx;
  await host.setFlexLatency(0);
  for (const t of running) {
    // One request alone first: it creates the app's catch-all price. A burst of first requests for
    // a new amount races to record that price, and the losers answer 500 (a known issue), which
    // is not what this benchmark measures.
    await loadTarget(ctx, scenario, t, 1, 1);
    await waitUntilIdle([t.server.pid, host.pid]);
    await host.clearRecords();
    const warm = await loadTarget(ctx, scenario, t, 8, ctx.options.warmupSeconds);
    await waitUntilIdle([t.server.pid, host.pid]);
    const calls = await host.flexCalls(t.flexAccountId);
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    const perRequest = round(total / Math.max(1, warm.sent), 3);
    if (scenario.key === DEFAULT_SCENARIO) {
      t.info.flexCallsPerRequest = perRequest;
      t.info.flexCalls = calls;
    }
    log(`warm-up ${t.info.name}: ${Math.round(warm.rps)} req/s, ${warm.non2xx} non-2xx, ${warm.errors} errors; Flex calls per request ${perRequest} (${Object.entries(calls).map(([k, v]) => `${k} ×${v}`).join(', ')})`);
    if (warm.latency.count === 0) throw new Error(`${t.info.name} answered no request with 2xx during warm-up; see ${t.server.logFile}`);
  }
}

/** The measured runs of one scenario: returns one record per run and target. */
export async function measureRequestsVsFloor(ctx: BenchContext, scenario: RequestScenario, running: RunningTarget[]): Promise<LoadRunRecord[]> {
  const { host, options } = ctx;
  const runs: LoadRunRecord[] = [];
  for (const latency of options.flexLatencyMs) {
    await host.setFlexLatency(latency);
    for (const concurrency of options.concurrency) {
      for (let run = 1; run <= options.runs; run++) {
        for (const t of running) {
          const sampler = sampleRss(t.server.pid);
          const result = await loadTarget(ctx, scenario, t, concurrency, options.durationSeconds);
          const peakRssMB = sampler.stop() / MB;
          t.loadPeakRssMB = Math.max(t.loadPeakRssMB, peakRssMB);
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
            answered: result.latency.count,
            non2xx: result.non2xx,
            errors: result.errors,
            timeouts: result.timeouts,
            peakRssMB: round(peakRssMB, 1),
          });
          log(
            `Flex ${latency} ms, c=${concurrency}, run ${run}/${options.runs}, ${t.info.name.padEnd(8)}: ${result.rps.toFixed(0).padStart(5)} req/s  p50 ${result.latency.p50.toFixed(1)}  p99 ${result.latency.p99.toFixed(1)} ms${result.non2xx + result.errors ? `  (${result.non2xx} non-2xx, ${result.errors} errors)` : ''}`,
          );
          // Let whatever the server still has in hand finish before the next server is loaded.
          await waitUntilIdle([t.server.pid, host.pid]);
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
    const cell: LoadCell = {
      scenario,
      target,
      flexLatencyMs,
      concurrency,
      rps: spread(mine.map((r) => r.rps)),
      p50: spread(mine.map((r) => r.p50)),
      p95: spread(mine.map((r) => r.p95)),
      p99: spread(mine.map((r) => r.p99)),
      non2xx: mine.reduce((a, r) => a + r.non2xx, 0),
      errors: mine.reduce((a, r) => a + r.errors, 0),
      peakRssMB: Math.max(...mine.map((r) => r.peakRssMB)),
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
