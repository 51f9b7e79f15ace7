import os from 'node:os';
import { AMOUNT, LOG_LEVEL, POOL_SIZE, type BenchContext } from './context';
import type { BenchResults, TargetInfo } from './lib/report';
import { round } from './lib/stats';

/** Assembles a run's `BenchResults` (bench/results/*.json, rendered by lib/report.ts). */

type Parts = Pick<BenchResults, 'targets' | 'load' | 'webhook' | 'startup' | 'memory' | 'profile' | 'flow' | 'backlog'> & { settings?: Partial<BenchResults['settings']> };

/** Call once everything is stopped: it reads the load average at the end. */
export function finishResults(ctx: BenchContext, parts: Parts): BenchResults {
  ctx.machine.loadAverage.end = Math.round(os.loadavg()[0] * 100) / 100;
  const { settings, profile, flow, backlog, ...rest } = parts;
  return {
    format: 'flex-bench/1',
    startedAt: ctx.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    wallSeconds: round((Date.now() - ctx.startedAt.getTime()) / 1000, 1),
    machine: ctx.machine,
    settings: { ...settingsOf(ctx, parts.targets), ...settings },
    targets: rest.targets,
    load: rest.load,
    webhook: rest.webhook,
    ...(flow ? { flow } : {}),
    startup: rest.startup,
    memory: rest.memory,
    ...(backlog ? { backlog } : {}),
    ...(profile ? { profile } : {}),
    warnings: ctx.warnings,
  };
}

function settingsOf({ options }: BenchContext, targets: TargetInfo[]): BenchResults['settings'] {
  const servers = targets.map((t) => (t.name === 'floor' ? 'the floor' : t.name === 'durable-floor' ? 'the durable floor' : `the app on ${t.name === 'embedded' ? 'the embedded database' : 'PostgreSQL'}`));
  return {
    quick: options.quick,
    runs: options.runs,
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    concurrency: options.concurrency,
    flexLatencyMs: options.flexLatencyMs,
    webhookRates: options.webhookRates,
    webhookSeconds: options.webhookSeconds,
    startupRuns: options.startupRuns,
    flowBuyers: options.flowBuyers,
    flowLatencyMs: options.flowLatencyMs,
    flowSeconds: options.flowSeconds,
    ...(options.partial ? { only: options.measurements } : {}),
    amount: AMOUNT,
    logLevel: LOG_LEVEL,
    postgresPoolSize: POOL_SIZE,
    layout: `Processes, all on this one machine: load generator (autocannon) · sandboxes (Flex sandbox + Shopify simulator) · ${servers.join(' · ')}; the app is \`node dist/src/main.js\` (on the embedded database with the V8 flags \`npm start\` adds, src/db/embedded-node-flags.ts) started with production settings (NODE_ENV=production, LOG_LEVEL=info, logs to a file), Shopify's session requests sent to its private proxy-mode listener with the proxy's header (the TLS proxy's own cost is not the app's); RSS and CPU time are read from /proc for each server process alone (and, on PostgreSQL, the backends of the server's database)`,
  };
}
