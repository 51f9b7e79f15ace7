import { DEFAULT_SCENARIO, scenarioTitle } from '../scenarios';
import type { MachineInfo } from './machine';
import type { ProfileSummary } from './cpu-profile';
import { DATABASE_AREAS } from './profile-areas';
import type { Spread } from './stats';

/** The floor, the durable floor (the floor with the least it must write to PostgreSQL, floor-store.ts) and the app on each database. */
export type TargetName = 'floor' | 'durable-floor' | 'embedded' | 'postgres';

export interface TargetInfo {
  name: TargetName;
  label: string;
  database: string;
  /** Flex API calls per request of each scenario during its warm-up, by route (the same for the floor and the app). */
  flexCallsByScenario?: Record<string, { perRequest: number; byRoute: Record<string, number> }>;
  /** Results saved before the pay page: Flex calls per payment session request. */
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
  /** How long the run took (a prepared run sends its requests and ends). */
  seconds?: number;
  answered: number;
  /** Answers other than the scenario's expected status (results before the pay page: non-2xx). */
  unexpected?: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  peakRssMB: number;
  /** CPU of the server's process per request sent (/proc), and of its PostgreSQL backends. */
  cpuMsPerRequest?: number;
  dbCpuMsPerRequest?: number;
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
  /** Server CPU per request: its process plus, on PostgreSQL, its backends. */
  cpuMsPerRequest?: Spread;
  /** Per run, against the floor run taken right before it at the same settings. */
  vsFloor?: { throughputRatio: Spread; addedP50Ms: Spread; addedP99Ms: Spread };
}

/** One run of complete payments (session request, pay page, Flex webhook, resolve) against one server. */
export interface FlowRunRecord {
  target: TargetName;
  run: number;
  started: number;
  completed: number;
  seconds: number;
  paymentsPerSecond: number;
  /** The whole payment, as the buyer and Shopify see it: session request → resolved (ms). */
  p50: number;
  p99: number;
  sessionP50: number;
  payPageP50: number;
  /** The buyer paid on Flex → Shopify recorded the resolve (webhook, outbox, mutation). */
  paidToResolvedP50: number;
  paidToResolvedP99: number;
  /** CPU of the server's process per completed payment, and of its PostgreSQL backends. */
  cpuMsPerPayment: number;
  dbCpuMsPerPayment?: number;
  flexCallsPerPayment: number;
  shopifyCallsPerPayment: number;
  flexCalls: Record<string, number>;
  shopifyCalls: Record<string, number>;
  webhookDeliveries: number;
  retriedDeliveries: number;
  /** The run's Flex checkouts by what they were made of (`metadata.cart`: `cart` = the buyer's lines joined); absent before the cart join was measured. */
  checkoutsByCart?: Record<string, number>;
  peakRssMB: number;
  /** CPU of the sandbox process (buyers, Flex, Shopify) over the run, in cores: near 1, it set the pace. */
  sandboxBusy?: number;
  errors: string[];
}

export interface FlowCell {
  target: TargetName;
  payments: number;
  failed: number;
  paymentsPerSecond: Spread;
  p50: Spread;
  p99: Spread;
  paidToResolvedP50: Spread;
  cpuMsPerPayment: Spread;
  dbCpuMsPerPayment?: Spread;
  flexCallsPerPayment: Spread;
  shopifyCallsPerPayment: Spread;
  /** Calls by route per completed payment, in the last run. */
  flexCalls: Record<string, number>;
  shopifyCalls: Record<string, number>;
  /** Flex checkouts of all runs by what they were made of (`metadata.cart`). */
  checkoutsByCart?: Record<string, number>;
  /** Per run against the floor run just before it: throughput, CPU per payment (process; process + database backends). */
  vsFloor?: { throughputRatio: Spread; cpuRatio: Spread; cpuRatioWithDatabase: Spread };
}

/** The reconciler draining a backlog of paid sessions whose webhooks were lost (--only reconcile-backlog). */
export interface BacklogResult {
  target: TargetName;
  instances: number;
  /** Sessions asked for, made before the outage, and paid on Flex during it. */
  sessions: number;
  created: number;
  paid: number;
  /** How long making them took (app up), and the app's downtime while the buyers paid. */
  setupSeconds: number;
  outageSeconds: number;
  /** RECONCILE_AFTER_SECONDS given to the app. */
  reconcileAfterSeconds: number;
  flexLatencyMs: number;
  /** The Flex sandbox's rate limit during the drain (per account and mode). */
  rateLimit: { requestsPerSecond: number; burst: number } | null;
  timeoutSeconds: number;
  /** From the app's start after the outage (spawn), in seconds. */
  startupSeconds: number;
  firstResolveSeconds: number | null;
  halfSeconds: number | null;
  ninetySeconds: number | null;
  allSeconds: number | null;
  resolved: number;
  rejected: number;
  /** Resolves beyond the first per session (should be 0). */
  extraResolves: number;
  /** Sessions resolved per second between the first and the last resolve seen. */
  drainPerSecond: number | null;
  /** When not all were resolved in time: the whole backlog at the rate seen (an extrapolation). */
  projectedAllSeconds: number | null;
  /** [seconds since start, resolved so far], sampled. */
  progress: Array<[number, number]>;
  flex: {
    calls: number;
    refused: number;
    byRoute: Record<string, number>;
    peakPerSecond: number;
    peakAcceptedPerSecond: number;
    /** Checkout session reads per backlog session. */
    readsPerSession: number;
    /** Calls in each whole second from the start: [accepted, refused with 429]. */
    perSecond: Array<[number, number]>;
  };
  cpuMsPerSession: { process: number; database: number | null };
  peakRssMB: number;
  errors: string[];
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
    /** The complete payment: buyers at once, Flex latency, seconds per run. */
    flowBuyers?: number;
    flowLatencyMs?: number;
    flowSeconds?: number;
    /** Which measurements ran (--only); absent: all of the default run. */
    only?: string[];
    amount: string;
    logLevel: string;
    postgresPoolSize: number;
    layout: string;
  };
  targets: TargetInfo[];
  /** `titles`: each scenario's table heading, as the run described it. */
  load: { cells: LoadCell[]; runs: LoadRunRecord[]; titles?: Record<string, string> };
  webhook: { cells: WebhookCell[]; runs: WebhookRunRecord[] };
  /** Complete payments against the floor (absent in results from before the pay page). */
  flow?: { cells: FlowCell[]; runs: FlowRunRecord[] };
  startup: { records: StartupRecord[] };
  memory: MemoryRecord[];
  backlog?: BacklogResult;
  profile?: ProfileSummary & {
    target: TargetName;
    /** What loaded the app: a request scenario's key, or payment-flow (complete payments); absent: the session request. */
    scenario?: string;
    concurrency: number;
    seconds: number;
    requests: number;
    rps: number;
    dbRoundTripsPerRequest?: number;
    /** Busy time of the app's main thread in the load window, per request answered (V8: wall time not idle; perf: on-CPU). */
    cpuMsPerRequest?: number;
    /** The process's CPU time (all threads) from /proc over the load window, per request answered. */
    processCpuMsPerRequest?: number;
    /** Absent: V8's sampler (node --cpu-prof). */
    profiler?: 'v8' | 'perf';
    /** perf only: on-CPU time of the main thread and of the other threads. */
    threads?: { mainMs: number; otherMs: number };
    /** perf only: the main thread's time in the kernel, % of its on-CPU time. */
    kernelPctOfBusy?: number;
    /** The floor's work by kind from its saved profile of the same scenario and profiler, per request, and when it was taken. */
    floorKinds?: { startedAt: string; perRequest: Array<{ kind: string; ms: number }> };
    /** One lookup by unique key through Prisma and through pg, measured in the runner (PostgreSQL only). */
    queryCost?: { queries: number; prisma: { cpuMs: number; wallMs: number }; pg: { cpuMs: number; wallMs: number } };
    /** SQL the app sent (each Bind of a statement, each simple Query) per payment request, PostgreSQL only. */
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
  const out: string[] = [...header(r), ...flowTable(r), ...loadTable(r), ...webhookTable(r), ...startupTable(r), ...backlogReport(r), ...profileTables(r)];
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
  const databases = r.targets.filter((t) => t.name !== 'floor');
  out.push(`- Databases: ${databases.length ? databases.map((t) => `${t.label} = ${t.database}`).join('; ') : 'none (the floor keeps nothing)'}`);
  out.push(`- ${s.layout}`);
  const calls = r.targets.filter((t) => t.flexCallsPerRequest !== undefined);
  if (calls.length > 0) out.push(`- Flex API calls per payment request (counted by the sandbox during warm-up): ${calls.map((t) => `${t.label} ${num(t.flexCallsPerRequest!, 2)}`).join(', ')}`);
  const scenarios = [...new Set(r.targets.flatMap((t) => Object.keys(t.flexCallsByScenario ?? {})))];
  for (const key of scenarios) {
    const per = r.targets.filter((t) => t.flexCallsByScenario?.[key]).map((t) => `${t.label} ${num(t.flexCallsByScenario![key].perRequest, 2)}`);
    out.push(`- Flex API calls per ${key} request (counted by the sandbox during warm-up): ${per.join(', ')}`);
  }
  if (r.flow && r.flow.cells.length > 0) {
    const f = r.flow.cells;
    const calls = (c: FlowCell) => `${labelOf(r.targets, c.target)}: Flex ${describeCalls(c.flexCalls)}; Shopify ${describeCalls(c.shopifyCalls)}`;
    out.push(`- Calls per complete payment (counted by the sandboxes in the last run; the floor must make the same): ${f.map(calls).join(' · ')}`);
    const carts = f.filter((c) => c.checkoutsByCart);
    if (carts.length > 0) {
      const share = (c: FlowCell) => {
        const all = Object.values(c.checkoutsByCart!).reduce((a, b) => a + b, 0);
        return `${labelOf(r.targets, c.target)} ${num((100 * (c.checkoutsByCart!.cart ?? 0)) / Math.max(1, all), 1)} % of ${all}`;
      };
      out.push(`- Complete payments whose Flex checkout carried the buyer's cart (its lines, joined from the checkouts/create snapshot; else the catch-all line): ${carts.map(share).join(', ')}`);
    }
  }
  if (r.load.cells.length > 0 && !r.load.titles) {
    // Results from before the pay page.
    out.push(
      `- Each figure: median over ${s.runs} run${s.runs === 1 ? '' : 's'} of ${s.durationSeconds} s (min–max in brackets), after ${s.warmupSeconds} s of warm-up; floor and app runs alternate, so each ratio compares runs taken seconds apart. Latencies in ms, of 201 answers.`,
    );
  } else if (r.load.cells.length > 0) {
    out.push(
      `- Request tables: median over ${s.runs} run${s.runs === 1 ? '' : 's'} of ${s.durationSeconds} s (min–max in brackets), after ${s.warmupSeconds} s of warm-up; floor and app runs alternate, so each ratio compares runs taken seconds apart. Latencies in ms, of the expected answers (201 for the session request, 303 for the pay page); CPU = the server's process (+ its PostgreSQL backends) per request, from /proc.`,
    );
  }
  if (s.only) out.push(`- Only: ${s.only.join(', ')}`);
  out.push('');
  return out;
}

/** Titles of results saved before there were several scenarios (the session request then called Flex). */
const LEGACY_TITLES: Record<string, string> = { [DEFAULT_SCENARIO]: 'Payment session requests, POST /payments/sessions (unique Shopify session per request)' };

function loadTable(r: BenchResults): string[] {
  const out: string[] = [];
  const scenarios = [...new Set(r.load.cells.map((c) => c.scenario ?? DEFAULT_SCENARIO))];
  const withCpu = r.load.cells.some((c) => c.cpuMsPerRequest);
  for (const scenario of scenarios) {
    const title = r.load.titles?.[scenario] ?? (r.load.cells.some((c) => c.scenario) ? scenarioTitle(scenario) : LEGACY_TITLES[scenario] ?? scenario);
    out.push(
      title,
      '',
      `| Flex latency | concurrency | server | req/s | p50 | p95 | p99 | req/s vs floor | added p50 | added p99 |${withCpu ? ' CPU ms/req |' : ''}`,
      `|---|---|---|---|---|---|---|---|---|---|${withCpu ? '---|' : ''}`,
    );
    for (const c of r.load.cells.filter((x) => (x.scenario ?? DEFAULT_SCENARIO) === scenario)) {
      const vs = c.vsFloor;
      const bad = c.non2xx + c.errors > 0 ? ` ⚠ ${c.non2xx} unexpected answers, ${c.errors} errors` : '';
      const ratio = vs ? cell(vs.throughputRatio, (v) => `${num(v, 2)}×`) : '1×';
      const addedP50 = vs ? cell(vs.addedP50Ms, (v) => signed(v)) : '–';
      const addedP99 = vs ? cell(vs.addedP99Ms, (v) => signed(v)) : '–';
      const cpu = withCpu ? ` ${c.cpuMsPerRequest ? cell(c.cpuMsPerRequest, (v) => num(v, 2)) : '–'} |` : '';
      out.push(`| ${c.flexLatencyMs} ms | ${c.concurrency} | ${labelOf(r.targets, c.target)}${bad} | ${cell(c.rps)} | ${cell(c.p50)} | ${cell(c.p95)} | ${cell(c.p99)} | ${ratio} | ${addedP50} | ${addedP99} |${cpu}`);
    }
    out.push('');
  }
  return out;
}

function describeCalls(perPayment: Record<string, number>): string {
  const entries = Object.entries(perPayment);
  if (entries.length === 0) return 'none';
  return entries.map(([k, v]) => `${k} ×${num(v, 2)}`).join(', ');
}

function flowTable(r: BenchResults): string[] {
  if (!r.flow || r.flow.cells.length === 0) return [];
  const s = r.settings;
  const out = [
    `Complete payments: ${
      r.flow.cells.some((c) => c.checkoutsByCart)
        ? "checkouts/create webhook (the buyer's cart captured) → session request → pay page (the cart joined, the Flex checkout made with its lines)"
        : 'session request → pay page (Flex checkout made)'
    } → paid on Flex → Flex webhook → paymentSessionResolve at Shopify; ${s.flowBuyers} buyers at once, each paying one payment after another for ${s.flowSeconds} s per run, Flex answering after ${s.flowLatencyMs} ms; median over ${s.runs} run${s.runs === 1 ? '' : 's'} (min–max). CPU per completed payment from /proc: the server's process, and on PostgreSQL the backends of its database; the floor makes the same Flex and Shopify calls and keeps nothing${r.targets.some((t) => t.name === 'durable-floor') ? ', the durable floor the same with the six writes a payment needs to survive a restart (bench/floor-store.ts)' : ''}.`,
    '',
    '| server | payments/s | vs floor | payment p50 | payment p99 | paid → resolved p50 | CPU ms/payment (process) | + database | CPU vs floor (process) | CPU vs floor (with database) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of r.flow.cells) {
    const bad = c.failed > 0 ? ` ⚠ ${c.failed} failed` : '';
    const vs = c.vsFloor;
    out.push(
      `| ${labelOf(r.targets, c.target)}${bad} | ${cell(c.paymentsPerSecond)} | ${vs ? cell(vs.throughputRatio, (v) => `${num(v, 2)}×`) : '1×'} | ${cell(c.p50)} | ${cell(c.p99)} | ${cell(c.paidToResolvedP50)} | ${cell(c.cpuMsPerPayment, (v) => num(v, 2))} | ${c.dbCpuMsPerPayment ? cell(c.dbCpuMsPerPayment, (v) => num(v, 2)) : '–'} | ${vs ? cell(vs.cpuRatio, (v) => `${num(v, 1)}×`) : '1×'} | ${vs ? cell(vs.cpuRatioWithDatabase, (v) => `${num(v, 1)}×`) : '1×'} |`,
    );
  }
  out.push('');
  return out;
}

function backlogReport(r: BenchResults): string[] {
  const b = r.backlog;
  if (!b) return [];
  const sec = (v: number | null) => (v === null ? '–' : `${num(v, v < 100 ? 1 : 0)} s`);
  const limit = b.rateLimit ? `${b.rateLimit.requestsPerSecond} requests/s (burst ${b.rateLimit.burst}) per account and mode` : 'none';
  const out = [
    `Reconciler backlog (${labelOf(r.targets, b.target)}${b.instances > 1 ? `, ${b.instances} instances` : ''}): ${b.created} paid payment sessions whose Flex webhooks were lost, resolved by the reconciler alone`,
    '',
    `- Before the outage: ${b.created} of ${b.sessions} sessions received and their pay pages opened (Flex checkouts made) in ${num(b.setupSeconds, 0)} s, RECONCILE_AFTER_SECONDS=${b.reconcileAfterSeconds}; then the app was stopped, every buyer paid on Flex (${b.paid} paid) and Flex's webhooks were dropped; ${num(b.outageSeconds, 0)} s later, with every session due, the app started again (healthy after ${num(b.startupSeconds, 1)} s).`,
    `- Flex during the drain: latency ${b.flexLatencyMs} ms, rate limit ${limit} (the sandbox's token bucket: Flex documents only a 429 with a retry time${b.rateLimit ? `; it admits at most burst + rate = ${b.rateLimit.burst + b.rateLimit.requestsPerSecond} calls in any one second` : ''}).`,
    '',
    '| resolved | first resolve | 50 % | 90 % | all | drain rate | peak Flex calls/s (accepted) | 429s | Flex reads per session | CPU ms per session | extra resolves |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    `| ${b.resolved} of ${b.created}${b.rejected ? ` (${b.rejected} rejected)` : ''} | ${sec(b.firstResolveSeconds)} | ${sec(b.halfSeconds)} | ${sec(b.ninetySeconds)} | ${b.allSeconds === null ? `not within ${num(b.timeoutSeconds, 0)} s${b.projectedAllSeconds !== null ? ` (at the rate seen: ~${sec(b.projectedAllSeconds)})` : ''}` : sec(b.allSeconds)} | ${b.drainPerSecond === null ? '–' : `${num(b.drainPerSecond, 1)}/s`} | ${b.flex.peakPerSecond} (${b.flex.peakAcceptedPerSecond}) | ${b.flex.refused} | ${num(b.flex.readsPerSession, 2)} | ${num(b.cpuMsPerSession.process, 2)}${b.cpuMsPerSession.database !== null ? ` + ${num(b.cpuMsPerSession.database, 2)} db` : ''} | ${b.extraResolves} |`,
    '',
    `Times from the app's start after the outage. Flex calls: ${Object.entries(b.flex.byRoute).map(([k, v]) => `${k} ×${v}`).join(', ') || 'none'}. Peak RSS ${num(b.peakRssMB, 0)} MB.`,
    '',
  ];
  if (b.progress.length > 0) {
    const step = Math.max(1, Math.ceil(b.progress.length / 12));
    out.push(`Progress (s → resolved): ${b.progress.filter((_, i) => i % step === 0 || i === b.progress.length - 1).map(([t, n]) => `${num(t, 0)} → ${n}`).join(', ')}`, '');
  }
  return out;
}

function webhookTable(r: BenchResults): string[] {
  if (r.webhook.cells.length === 0) return [];
  const out = [
    `Webhook to resolve: Flex starts sending checkout.session.completed → the Shopify simulator records paymentSessionResolve (sessions created${r.load.titles ? ', their pay pages opened' : ''} and paid on Flex at a steady rate for ${r.settings.webhookSeconds} s per run, Flex latency 0 ms; the buyer never returns)`,
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
  const floor = p.target === 'floor';
  const perf = p.profiler === 'perf';
  const cpu = p.cpuMsPerRequest !== undefined ? `, ${num(p.cpuMsPerRequest, 1)} ms of ${floor ? "the floor's" : "the app's"} ${perf ? 'main thread on a CPU' : 'main thread busy (wall time)'} per request` : '';
  const processCpu = p.processCpuMsPerRequest !== undefined ? `; the process's CPU from /proc (all threads): ${num(p.processCpuMsPerRequest, 1)} ms per request` : '';
  const unit = p.scenario === 'payment-flow' ? 'complete payment' : `${p.scenario ?? 'payment session'} request`;
  const trips = p.dbRoundTripsPerRequest !== undefined ? `; ${num(p.dbRoundTripsPerRequest, 1)} database round trips per ${unit}` : '';
  out.push(
    `${perf ? 'On-CPU profile (Linux perf, cpu-clock)' : "CPU profile (V8's sampler: a thread descheduled in a system call keeps counting there)"} of ${floor ? 'the floor (no persistence, no validation, no logging; the reference for the app\'s profile' : `the app (${labelOf(r.targets, p.target)}`}, ${p.scenario ?? DEFAULT_SCENARIO}, concurrency ${p.concurrency}, ${p.seconds} s, Flex latency 0 ms, ${p.windowed ? 'load window only' : 'whole process life'}): ${num(p.rps, 0)} ${p.scenario === 'payment-flow' ? 'payments' : 'req'}/s; busy ${num(p.busyMs / 1000, 1)} s of ${num(p.totalMs / 1000, 1)} s${cpu.replace('per request', `per ${unit}`)}${processCpu.replace('per request', `per ${unit}`)}${trips}`,
  );
  if (perf && p.threads && p.kernelPctOfBusy !== undefined) {
    out.push('');
    out.push(`Threads: the main thread ${num(p.threads.mainMs, 0)} ms on a CPU, of which ${num(p.kernelPctOfBusy, 1)} % in the kernel; the other threads (GC helpers, libuv's pool) ${num(p.threads.otherMs, 0)} ms. Tables below: the main thread.`);
  }
  out.push('');
  if (p.databaseWork && !floor) {
    const perUnit = (msOf: number) => (p.windowed ? ` (${num(msOf / Math.max(1, p.requests), 2)} ms per ${unit})` : '');
    out.push(
      `Database work (busy samples with ${[...DATABASE_AREAS].join(', ')} on the stack, the sends of its statements included): ${num(p.databaseWork.ms, 0)} ms, ${num(p.databaseWork.pctOfBusy, 1)} % of busy${perUnit(p.databaseWork.ms)}; the rest, the app's work without its database: ${num(p.busyMs - p.databaseWork.ms, 0)} ms${perUnit(p.busyMs - p.databaseWork.ms)}.`,
    );
    out.push('');
  }
  if (p.kinds?.length && p.windowed) {
    const per = (msOf: number) => num(msOf / Math.max(1, p.requests), 2);
    const floorKinds = new Map(p.floorKinds?.perRequest.map((k) => [k.kind, k.ms]));
    const floorCol = p.floorKinds ? ` | the floor, ms per ${unit} (its profile of ${p.floorKinds.startedAt.slice(0, 16).replace('T', ' ')} UTC)` : '';
    out.push(`Work by kind: each busy sample counted once, by the frame nearest its leaf whose script is of a kind (a line logged inside a route is logging, the route's own code is ours).`);
    out.push('');
    out.push(`| kind of work | ms | % of busy | ms per ${unit}${floorCol} |`);
    out.push(`|---|---|---|---${p.floorKinds ? '|---' : ''}|`);
    for (const k of p.kinds) out.push(`| ${k.kind} | ${num(k.ms, 0)} | ${num(k.pctOfBusy, 1)} | ${per(k.ms)}${p.floorKinds ? ` | ${floorKinds.has(k.kind) ? num(floorKinds.get(k.kind)!, 2) : '0'}` : ''} |`);
    // A kind only the floor has still gets its row, so the columns add up to their totals.
    for (const [kind, msOf] of floorKinds) if (!p.kinds.some((k) => k.kind === kind)) out.push(`| ${kind} | 0 | 0 | 0 | ${num(msOf, 2)} |`);
    if (p.floorKinds) {
      const total = p.floorKinds.perRequest.reduce((n, k) => n + k.ms, 0);
      out.push(`| all | ${num(p.busyMs, 0)} | 100 | ${per(p.busyMs)} | ${num(total, 2)} |`);
    }
    out.push('');
  }
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
    out.push(`| SQL sent per ${unit} (statements run: Bind or simple Query messages) | per ${p.scenario === 'payment-flow' ? 'payment' : 'request'} |`);
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
