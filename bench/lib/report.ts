import { DEFAULT_SCENARIO, scenarioTitle } from '../scenarios';
import type { MachineInfo } from './machine';
import type { ProfileSummary } from './cpu-profile';
import type { Spread } from './stats';

export type TargetName = 'floor' | 'embedded' | 'postgres';

export interface TargetInfo {
  name: TargetName;
  label: string;
  database: string;
  /** Flex API calls per payment request during the warm-up (1 for both the floor and the app). */
  flexCallsPerRequest?: number;
  flexCalls?: Record<string, number>;
}

export interface LoadRunRecord {
  /** The request scenario (bench/scenarios/); absent in results saved before there were several. */
  scenario: string;
  target: TargetName;
  flexLatencyMs: number;
  concurrency: number;
  run: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  answered: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  peakRssMB: number;
}

export interface LoadCell {
  scenario: string;
  target: TargetName;
  flexLatencyMs: number;
  concurrency: number;
  rps: Spread;
  p50: Spread;
  p95: Spread;
  p99: Spread;
  non2xx: number;
  errors: number;
  peakRssMB: number;
  /** Per run, against the floor run taken right before it at the same settings. */
  vsFloor?: { throughputRatio: Spread; addedP50Ms: Spread; addedP99Ms: Spread };
}

export interface WebhookRunRecord {
  target: TargetName;
  rate: number;
  run: number;
  started: number;
  resolved: number;
  measured: number;
  p50: number;
  p99: number;
  max: number;
  ackP50: number;
  retriedDeliveries: number;
  errors: string[];
}

export interface WebhookCell {
  target: TargetName;
  rate: number;
  sessions: number;
  unresolved: number;
  p50: Spread;
  p99: Spread;
  /** All runs' samples together. */
  pooled: { p50: number; p99: number; max: number };
  ackP50: Spread;
}

export interface StartupRecord {
  target: TargetName;
  kind: 'new-database' | 'existing-database';
  ms: number;
}

export interface MemoryRecord {
  target: TargetName;
  idleRssMB: number;
  /** Highest RSS sampled during the load runs. */
  loadPeakRssMB: number;
  /** The kernel's high-water mark (VmHWM) over the process's whole life, when available. */
  lifetimePeakRssMB: number | null;
}

export interface BenchResults {
  format: 'flex-bench/1';
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  machine: MachineInfo;
  settings: {
    quick: boolean;
    runs: number;
    durationSeconds: number;
    warmupSeconds: number;
    concurrency: number[];
    flexLatencyMs: number[];
    webhookRates: number[];
    webhookSeconds: number;
    startupRuns: number;
    amount: string;
    logLevel: string;
    postgresPoolSize: number;
    layout: string;
  };
  targets: TargetInfo[];
  load: { cells: LoadCell[]; runs: LoadRunRecord[] };
  webhook: { cells: WebhookCell[]; runs: WebhookRunRecord[] };
  startup: { records: StartupRecord[] };
  memory: MemoryRecord[];
  profile?: ProfileSummary & {
    target: TargetName;
    concurrency: number;
    seconds: number;
    requests: number;
    rps: number;
    dbRoundTripsPerRequest?: number;
    /** Busy CPU time of the app in the load window, per request answered. */
    cpuMsPerRequest?: number;
    /** One lookup by unique key through Prisma and through pg, measured in the runner (PostgreSQL only). */
    queryCost?: { queries: number; prisma: { cpuMs: number; wallMs: number }; pg: { cpuMs: number; wallMs: number } };
    /** SQL the app sent (Parse/Query messages) per payment request, PostgreSQL only. */
    statementsPerRequest?: Array<{ sql: string; perRequest: number }>;
  };
  warnings: string[];
}

// ---- formatting ----

function num(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return '–';
  const d = digits ?? (Math.abs(value) < 1 ? 2 : Math.abs(value) < 100 ? 1 : 0);
  return value.toFixed(d);
}

function signed(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return '–';
  return `${value >= 0 ? '+' : '−'}${num(Math.abs(value), digits)}`;
}

/** "median (min–max)", or just the value for a single run. */
function cell(s: Spread, format: (v: number) => string = (v) => num(v)): string {
  if (s.runs.length <= 1 || s.min === s.max) return format(s.median);
  return `${format(s.median)} (${format(s.min)}–${format(s.max)})`;
}

const labelOf = (targets: TargetInfo[], name: TargetName) => targets.find((t) => t.name === name)?.label ?? name;

export function renderReport(r: BenchResults): string {
  const out: string[] = [...header(r), ...loadTable(r), ...webhookTable(r), ...startupTable(r), ...profileTables(r)];
  if (r.warnings.length > 0) {
    out.push('Warnings:');
    for (const w of r.warnings) out.push(`- ${w}`);
    out.push('');
  }
  return out.join('\n');
}

function header(r: BenchResults): string[] {
  const m = r.machine;
  const s = r.settings;
  const out: string[] = [];
  out.push(`Benchmark of ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC (${Math.round(r.wallSeconds)} s${s.quick ? ', --quick: a smoke run, not figures to quote' : ''})`);
  out.push('');
  out.push(`- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}; load average (1 min) ${m.loadAverage.start} at start, ${m.loadAverage.end ?? '?'} at end`);
  out.push(`- Node ${m.node}; Express ${m.express}; Prisma ${m.prisma}; load generator autocannon ${m.autocannon}`);
  out.push(`- Databases: ${r.targets.filter((t) => t.name !== 'floor').map((t) => `${t.label} = ${t.database}`).join('; ')}`);
  out.push(`- ${s.layout}`);
  const calls = r.targets.filter((t) => t.flexCallsPerRequest !== undefined);
  if (calls.length > 0) out.push(`- Flex API calls per payment request (counted by the sandbox during warm-up): ${calls.map((t) => `${t.label} ${num(t.flexCallsPerRequest!, 2)}`).join(', ')}`);
  if (r.load.cells.length > 0) {
    out.push(
      `- Each figure: median over ${s.runs} run${s.runs === 1 ? '' : 's'} of ${s.durationSeconds} s (min–max in brackets), after ${s.warmupSeconds} s of warm-up; floor and app runs alternate, so each ratio compares runs taken seconds apart. Latencies in ms, of 201 answers.`,
    );
  }
  out.push('');
  return out;
}

function loadTable(r: BenchResults): string[] {
  const out: string[] = [];
  const scenarios = [...new Set(r.load.cells.map((c) => c.scenario ?? DEFAULT_SCENARIO))];
  for (const scenario of scenarios) {
    out.push(scenarioTitle(scenario), '', '| Flex latency | concurrency | server | req/s | p50 | p95 | p99 | req/s vs floor | added p50 | added p99 |', '|---|---|---|---|---|---|---|---|---|---|');
    for (const c of r.load.cells.filter((x) => (x.scenario ?? DEFAULT_SCENARIO) === scenario)) {
      const vs = c.vsFloor;
      const bad = c.non2xx + c.errors > 0 ? ` ⚠ ${c.non2xx} non-2xx, ${c.errors} errors` : '';
      const ratio = vs ? cell(vs.throughputRatio, (v) => `${num(v, 2)}×`) : '1×';
      const addedP50 = vs ? cell(vs.addedP50Ms, (v) => signed(v)) : '–';
      const addedP99 = vs ? cell(vs.addedP99Ms, (v) => signed(v)) : '–';
      out.push(`| ${c.flexLatencyMs} ms | ${c.concurrency} | ${labelOf(r.targets, c.target)}${bad} | ${cell(c.rps)} | ${cell(c.p50)} | ${cell(c.p95)} | ${cell(c.p99)} | ${ratio} | ${addedP50} | ${addedP99} |`);
    }
    out.push('');
  }
  return out;
}

function webhookTable(r: BenchResults): string[] {
  if (r.webhook.cells.length === 0) return [];
  const out = [
    `Webhook to resolve: Flex starts sending checkout.session.completed → the Shopify simulator records paymentSessionResolve (sessions created and paid at a steady rate for ${r.settings.webhookSeconds} s per run, Flex latency 0 ms)`,
    '',
    '| server | sessions/s | sessions | p50 | p99 | p99, all runs pooled | app answers the webhook, p50 |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const w of r.webhook.cells) {
    const bad = w.unresolved > 0 ? ` ⚠ ${w.unresolved} unresolved` : '';
    out.push(`| ${labelOf(r.targets, w.target)}${bad} | ${w.rate} | ${w.sessions} | ${cell(w.p50)} | ${cell(w.p99)} | ${num(w.pooled.p99)} | ${cell(w.ackP50)} |`);
  }
  out.push('');
  return out;
}

function spreadOf(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n === 0 ? Number.NaN : n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { median, min: sorted[0] ?? Number.NaN, max: sorted[n - 1] ?? Number.NaN, runs: values };
}

function startupTable(r: BenchResults): string[] {
  if (r.startup.records.length === 0 && r.memory.length === 0) return [];
  const out = [
    'Start-up (spawn of `node dist/src/main.js` → first 200 from /healthz) and memory',
    '',
    '| server | start-up, new database (migrations) | start-up, existing database | RSS idle | peak RSS under load |',
    '|---|---|---|---|---|',
  ];
  const ms = (values: number[]) => (values.length ? `${cell(spreadOf(values), (v) => num(v, 0))} ms` : '–');
  for (const t of r.targets) {
    const of = (kind: StartupRecord['kind']) => r.startup.records.filter((x) => x.target === t.name && x.kind === kind).map((x) => x.ms);
    const mem = r.memory.find((x) => x.target === t.name);
    const peak = mem ? Math.max(mem.loadPeakRssMB, mem.lifetimePeakRssMB ?? 0) : Number.NaN;
    out.push(`| ${t.label} | ${ms(of('new-database'))} | ${ms(of('existing-database'))} | ${mem ? `${num(mem.idleRssMB, 0)} MB` : '–'} | ${mem ? `${num(peak, 0)} MB` : '–'} |`);
  }
  out.push('');
  return out;
}

function profileTables(r: BenchResults): string[] {
  const p = r.profile;
  if (!p) return [];
  const out: string[] = [];
  const cpu = p.cpuMsPerRequest !== undefined ? `, ${num(p.cpuMsPerRequest, 1)} ms of app CPU per request` : '';
  const trips = p.dbRoundTripsPerRequest !== undefined ? `; ${num(p.dbRoundTripsPerRequest, 1)} database round trips per payment request` : '';
  out.push(
    `CPU profile of the app (${labelOf(r.targets, p.target)}, concurrency ${p.concurrency}, ${p.seconds} s, Flex latency 0 ms, ${p.windowed ? 'load window only' : 'whole process life'}): ${num(p.rps, 0)} req/s; busy ${num(p.busyMs / 1000, 1)} s of ${num(p.totalMs / 1000, 1)} s${cpu}${trips}`,
  );
  out.push('');
  out.push('| area: package, src/ folder, WASM module (inclusive) | ms | % of busy | ms per request | self ms |');
  out.push('|---|---|---|---|---|');
  for (const a of p.areas.slice(0, 15)) {
    const perRequest = p.windowed ? num(a.inclusiveMs / Math.max(1, p.requests), 2) : '–';
    out.push(`| ${a.area} | ${num(a.inclusiveMs, 0)} | ${num(a.inclusivePctOfBusy, 1)} | ${perRequest} | ${num(a.selfMs, 0)} |`);
  }
  out.push('');
  out.push('| Node runtime, native, GC (self) | ms | % of busy |');
  out.push('|---|---|---|');
  for (const a of p.runtime) out.push(`| ${a.area} | ${num(a.selfMs, 0)} | ${num(a.selfPctOfBusy, 1)} |`);
  out.push('');
  if (p.queryCost) {
    const q = p.queryCost;
    out.push(
      `One query, \`prisma.shop.findUnique({ where: { domain } })\` against the same SELECT through \`pg\` (${q.queries} each, one at a time, app stopped): Prisma ${num(q.prisma.cpuMs, 3)} ms CPU / ${num(q.prisma.wallMs, 3)} ms wall per query; pg ${num(q.pg.cpuMs, 3)} ms CPU / ${num(q.pg.wallMs, 3)} ms wall.`,
    );
    out.push('');
  }
  if (p.statementsPerRequest?.length) {
    out.push('| SQL sent per payment request (Parse/Query messages) | per request |');
    out.push('|---|---|');
    for (const st of p.statementsPerRequest) out.push(`| \`${st.sql.replace(/\|/g, '\\|')}\` | ${num(st.perRequest, 2)} |`);
    out.push('');
  }
  out.push('| function (self time) | where | ms | % of busy |');
  out.push('|---|---|---|---|');
  for (const f of p.functions.slice(0, 15)) out.push(`| ${f.fn} | ${f.where} | ${num(f.selfMs, 0)} | ${num(f.selfPctOfBusy, 1)} |`);
  out.push('');
  return out;
}
