import { AMOUNT, log, MB, type BenchContext, type RunningTarget } from '../context';
import { sampleRss, waitUntilIdle } from '../lib/processes';
import type { WebhookCell, WebhookRunRecord } from '../lib/report';
import { isFloor } from '../targets';
import { round, spread, summarizeLatencies } from '../lib/stats';

/**
 * Webhook to resolve: sessions are created (the Shopify simulator sends them to the app), their pay
 * pages opened and paid on Flex at a steady rate, and the buyer never returns, so only Flex's checkout.session.completed
 * webhook can resolve them. Per session, from Flex starting the delivery to the simulator recording
 * paymentSessionResolve. Apps only: the floor keeps nothing to resolve.
 */
export async function measureWebhookResolve(ctx: BenchContext, running: RunningTarget[]): Promise<{ cells: WebhookCell[]; runs: WebhookRunRecord[] }> {
  const { host, options, warnings } = ctx;
  const runs: WebhookRunRecord[] = [];
  /** Every run's samples per target and rate, for the pooled percentiles. */
  const samples: Record<string, number[]> = {};
  const apps = running.filter((t) => !isFloor(t.info.name));
  for (const rate of options.webhookRates) {
    for (let run = 1; run <= options.runs; run++) {
      for (const t of apps) {
        const sampler = sampleRss(t.server.pid);
        const result = await host.webhookRun({ endpoint: t.endpoint, shop: t.shop, amount: AMOUNT, rate, durationMs: options.webhookSeconds * 1000, resolveTimeoutMs: 30_000 });
        t.loadPeakRssMB = Math.max(t.loadPeakRssMB, sampler.stop() / MB);
        const lat = summarizeLatencies(result.webhookToResolveMs);
        const ack = summarizeLatencies(result.webhookAckMs);
        runs.push({
          target: t.info.name,
          rate,
          run,
          started: result.started,
          resolved: result.resolved,
          measured: lat.count,
          p50: round(lat.p50, 2),
          p99: round(lat.p99, 2),
          max: round(lat.max, 2),
          ackP50: round(ack.p50, 2),
          retriedDeliveries: result.retriedDeliveries,
          errors: result.errors,
        });
        (samples[`${t.info.name}/${rate}`] ??= []).push(...result.webhookToResolveMs);
        log(`webhook ${rate}/s run ${run}/${options.runs} ${t.info.name.padEnd(8)}: ${lat.count}/${result.started} resolved, p50 ${lat.p50.toFixed(1)} p99 ${lat.p99.toFixed(1)} ms${result.errors.length ? `  (${result.errors.join('; ')})` : ''}`);
        if (result.retriedDeliveries > 0) warnings.push(`webhook ${rate}/s, ${t.info.label}: ${result.retriedDeliveries} checkout.session.completed deliveries needed a retry (their time includes Flex's retry delay)`);
        await waitUntilIdle([t.server.pid, host.pid]);
      }
    }
  }
  return { cells: webhookCells(runs, samples), runs };
}

function webhookCells(runs: WebhookRunRecord[], samples: Record<string, number[]>): WebhookCell[] {
  const cells: WebhookCell[] = [];
  for (const key of [...new Set(runs.map((r) => `${r.target}/${r.rate}`))]) {
    const mine = runs.filter((r) => `${r.target}/${r.rate}` === key);
    const pooled = summarizeLatencies(samples[key] ?? []);
    cells.push({
      target: mine[0].target,
      rate: mine[0].rate,
      sessions: mine.reduce((a, r) => a + r.started, 0),
      unresolved: mine.reduce((a, r) => a + (r.started - r.measured), 0),
      p50: spread(mine.map((r) => r.p50)),
      p99: spread(mine.map((r) => r.p99)),
      pooled: { p50: round(pooled.p50, 2), p99: round(pooled.p99, 2), max: round(pooled.max, 2) },
      ackP50: spread(mine.map((r) => r.ackP50)),
    });
  }
  return cells;
}
