import { AMOUNT, log, MB, type BenchContext, type RunningTarget } from '../context';
import { startCpuMeter } from '../lib/cpu';
import { sampleRss, waitUntilIdle } from '../lib/processes';
import { analyzeAppDatabase } from '../lib/statistics';
import type { FlowCell, FlowRunRecord } from '../lib/report';
import { round, spread, summarizeLatencies } from '../lib/stats';
import type { PaymentFlowResult } from '../buyers';

/**
 * The complete payment (issue 13): Shopify's session request, the buyer's pay page (the Flex checkout
 * is made there), the buyer paying on Flex, Flex's webhook and the resolve mutation at Shopify.
 * `buyers` buyers at once, each paying one payment after another for `flowSeconds`, with Flex
 * answering after `flowLatencyMs`; floor and apps take turns run by run.
 *
 * Per completed payment: the server's CPU time (its process from /proc; on PostgreSQL also the
 * backends of its database), measured from before the first request to after the last resolve, once
 * the server is idle again: so it holds everything the payments cost, the outbox and the webhook
 * included. And the Flex and Shopify calls the server made, counted by the sandboxes: the floor
 * must make the same ones as the app for the comparison to hold.
 */
export async function measurePaymentFlow(ctx: BenchContext, running: RunningTarget[]): Promise<{ cells: FlowCell[]; runs: FlowRunRecord[] }> {
  const { host, options } = ctx;
  const runs: FlowRunRecord[] = [];

  // Warm-up: the webhook and the outbox have not run yet in the apps.
  await host.setFlexLatency(0);
  for (const t of running) {
    const warm = await flowRun(ctx, t, 8, ctx.options.warmupSeconds * 1000);
    log(`warm-up payment-flow ${t.info.name}: ${warm.completed} payments${warm.errors.length ? ` (${warm.errors.join('; ')})` : ''}`);
    if (warm.completed === 0) throw new Error(`${t.info.name} completed no payment during the warm-up: ${warm.errors.join('; ')}; see ${t.server.logFile}`);
    await waitUntilIdle([t.server.pid, host.pid]);
    await analyzeAppDatabase(t);
  }

  await host.setFlexLatency(options.flowLatencyMs);
  for (let run = 1; run <= options.runs; run++) {
    for (const t of running) {
      const sampler = sampleRss(t.server.pid);
      const cpu = await startCpuMeter(t.cpu);
      const sandboxes = await startCpuMeter({ pids: [host.pid] });
      const result = await flowRun(ctx, t, options.flowBuyers, options.flowSeconds * 1000);
      const peakRssMB = sampler.stop() / MB;
      const hostUsed = await sandboxes.stop();
      await waitUntilIdle([t.server.pid, host.pid]);
      const used = await cpu.stop();
      t.loadPeakRssMB = Math.max(t.loadPeakRssMB, peakRssMB);
      const record = flowRecord(t, run, result, used, peakRssMB);
      // The buyers, Shopify and Flex all live in the sandbox process: when it is near one full core,
      // it (not the server) sets the pace, and the throughput ratio understates the server's gap.
      record.sandboxBusy = round(hostUsed.processMs / Math.max(1, result.elapsedMs), 2);
      if (record.sandboxBusy > 0.85) ctx.warnings.push(`payment-flow run ${run}, ${t.info.label}: the sandbox process (buyers, Flex, Shopify) was busy ${Math.round(record.sandboxBusy * 100)} % of one core: it may have set the pace.`);
      runs.push(record);
      log(
        `payment-flow Flex ${options.flowLatencyMs} ms, ${options.flowBuyers} buyers, run ${run}/${options.runs}, ${t.info.name.padEnd(8)}: ${record.paymentsPerSecond.toFixed(1).padStart(6)} payments/s  p50 ${record.p50.toFixed(0)} ms  CPU ${record.cpuMsPerPayment.toFixed(2)}${record.dbCpuMsPerPayment !== undefined ? ` + ${record.dbCpuMsPerPayment.toFixed(2)} db` : ''} ms/payment; per payment Flex ${record.flexCallsPerPayment}, Shopify ${record.shopifyCallsPerPayment}; cart joined ${result.checkoutsByCart.cart ?? 0}/${result.completed}; sandboxes ${Math.round(record.sandboxBusy * 100)} % of a core${result.errors.length ? `  (${result.started - result.completed} failed: ${result.errors[0]})` : ''}`,
      );
    }
  }
  await host.setFlexLatency(0);
  const cells = flowCells(runs);
  const floor = cells.find((c) => c.target === 'floor');
  for (const c of cells) {
    if (!floor || c === floor) continue;
    const differs = (a: Record<string, number>, b: Record<string, number>) =>
      [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((route) => Math.abs((a[route] ?? 0) - (b[route] ?? 0)) >= 0.05);
    const flex = differs(c.flexCalls, floor.flexCalls);
    const shopify = differs(c.shopifyCalls, floor.shopifyCalls);
    const notCart = Object.entries(c.checkoutsByCart ?? {}).filter(([kind]) => kind !== 'cart');
    if (notCart.length > 0) ctx.warnings.push(`payment-flow: ${running.find((t) => t.info.name === c.target)?.info.label ?? c.target} made Flex checkouts without the buyer's cart (${notCart.map(([k, n]) => `${n} ${k}`).join(', ')}).`);
    if (flex.length + shopify.length > 0) {
      ctx.warnings.push(`payment-flow: ${running.find((t) => t.info.name === c.target)?.info.label ?? c.target} does not make the floor's calls per payment (${[...flex, ...shopify].join(', ')}): the CPU comparison is not like for like.`);
    }
  }
  return { cells, runs };
}

function flowRun(ctx: BenchContext, t: RunningTarget, buyers: number, durationMs: number): Promise<PaymentFlowResult> {
  return ctx.host.paymentFlowRun({ endpoint: t.endpoint, shop: t.shop, amount: AMOUNT, accountId: t.flexAccountId, buyers, durationMs, resolveTimeoutMs: 60_000 });
}

function flowRecord(t: RunningTarget, run: number, r: PaymentFlowResult, used: { processMs: number; databaseMs: number }, peakRssMB: number): FlowRunRecord {
  const n = Math.max(1, r.completed);
  const sum = (calls: Record<string, number>) => Object.values(calls).reduce((a, b) => a + b, 0);
  const payment = summarizeLatencies(r.paymentMs);
  return {
    target: t.info.name,
    run,
    started: r.started,
    completed: r.completed,
    seconds: round(r.elapsedMs / 1000, 2),
    paymentsPerSecond: round(r.completed / Math.max(0.001, r.elapsedMs / 1000), 1),
    p50: round(payment.p50, 1),
    p99: round(payment.p99, 1),
    sessionP50: round(summarizeLatencies(r.sessionMs).p50, 2),
    payPageP50: round(summarizeLatencies(r.payPageMs).p50, 2),
    paidToResolvedP50: round(summarizeLatencies(r.paidToResolvedMs).p50, 2),
    paidToResolvedP99: round(summarizeLatencies(r.paidToResolvedMs).p99, 2),
    cpuMsPerPayment: round(used.processMs / n, 3),
    dbCpuMsPerPayment: t.cpu.postgres ? round(used.databaseMs / n, 3) : undefined,
    flexCallsPerPayment: round(sum(r.flexCalls) / n, 3),
    shopifyCallsPerPayment: round(sum(r.shopifyCalls) / n, 3),
    flexCalls: r.flexCalls,
    shopifyCalls: r.shopifyCalls,
    webhookDeliveries: r.webhookDeliveries,
    retriedDeliveries: r.retriedDeliveries,
    checkoutsByCart: r.checkoutsByCart,
    peakRssMB: round(peakRssMB, 1),
    errors: r.errors,
  };
}

/** Median and range per target; each app run against the floor run taken just before it. */
function flowCells(runs: FlowRunRecord[]): FlowCell[] {
  const cells: FlowCell[] = [];
  const total = (r: FlowRunRecord) => r.cpuMsPerPayment + (r.dbCpuMsPerPayment ?? 0);
  for (const target of [...new Set(runs.map((r) => r.target))]) {
    const mine = runs.filter((r) => r.target === target);
    const cell: FlowCell = {
      target,
      payments: mine.reduce((a, r) => a + r.completed, 0),
      failed: mine.reduce((a, r) => a + (r.started - r.completed), 0),
      paymentsPerSecond: spread(mine.map((r) => r.paymentsPerSecond)),
      p50: spread(mine.map((r) => r.p50)),
      p99: spread(mine.map((r) => r.p99)),
      paidToResolvedP50: spread(mine.map((r) => r.paidToResolvedP50)),
      cpuMsPerPayment: spread(mine.map((r) => r.cpuMsPerPayment)),
      dbCpuMsPerPayment: mine[0].dbCpuMsPerPayment !== undefined ? spread(mine.map((r) => r.dbCpuMsPerPayment ?? Number.NaN)) : undefined,
      flexCallsPerPayment: spread(mine.map((r) => r.flexCallsPerPayment)),
      shopifyCallsPerPayment: spread(mine.map((r) => r.shopifyCallsPerPayment)),
      flexCalls: perPayment(mine[mine.length - 1].flexCalls, mine[mine.length - 1].completed),
      shopifyCalls: perPayment(mine[mine.length - 1].shopifyCalls, mine[mine.length - 1].completed),
      checkoutsByCart: mine.reduce<Record<string, number>>((all, r) => {
        for (const [kind, n] of Object.entries(r.checkoutsByCart ?? {})) all[kind] = (all[kind] ?? 0) + n;
        return all;
      }, {}),
    };
    if (target !== 'floor') {
      const pairs = mine
        .map((r) => ({ r, f: runs.find((x) => x.target === 'floor' && x.run === r.run) }))
        .filter((p): p is { r: FlowRunRecord; f: FlowRunRecord } => p.f !== undefined && p.f.completed > 0);
      if (pairs.length > 0) {
        cell.vsFloor = {
          throughputRatio: spread(pairs.map(({ r, f }) => round(r.paymentsPerSecond / f.paymentsPerSecond, 3))),
          cpuRatio: spread(pairs.map(({ r, f }) => round(r.cpuMsPerPayment / f.cpuMsPerPayment, 2))),
          cpuRatioWithDatabase: spread(pairs.map(({ r, f }) => round(total(r) / total(f), 2))),
        };
      }
    }
    cells.push(cell);
  }
  return cells;
}

/** Calls by route, per completed payment of one run. */
function perPayment(calls: Record<string, number>, payments: number): Record<string, number> {
  return Object.fromEntries(Object.entries(calls).map(([route, n]) => [route, round(n / Math.max(1, payments), 3)]));
}
