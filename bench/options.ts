import { parseArgs } from 'node:util';
import type { TargetName } from './lib/report';

/** `npm run bench -- …`: the command line, its defaults (full, --quick, --profile) and --help. */

/** What `npm run bench` measures, in order; `--only` picks some. */
export const MEASUREMENTS = ['payment-session', 'pay-step', 'payment-flow', 'webhook-resolve', 'startup'] as const;
/** Opt-in, alone: `--only reconcile-backlog`. */
export const BACKLOG = 'reconcile-backlog';

const HELP = `npm run bench -- [--quick] [--only ${MEASUREMENTS.join(',')}]
  [--runs 3] [--duration 4] [--warmup 3] [--concurrency 1,8,32] [--latency 0,50]
  [--flow-buyers 32] [--flow-latency 50] [--flow-seconds 8]
  [--webhook-rates 5,20] [--webhook-seconds 5] [--startup-runs 3] [--targets floor,durable-floor,embedded,postgres]
  [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres] [--no-save] [--keep (the scratch directory: logs)]
  [--update-readme (puts the table in README.md, between the bench markers of its Performance section)]
  Measurements: payment-session (the session request vs its floor), pay-step (GET /pay/{id} vs its floor),
  payment-flow (complete payments: CPU per payment and throughput vs the floor), webhook-resolve, startup (and memory).
npm run bench -- --only reconcile-backlog [--targets postgres|embedded] [--backlog-sessions 5000]
  [--backlog-due-after 120] [--backlog-rate-limit 25[/burst]|none] [--backlog-latency 50]
  [--backlog-timeout 1800] [--backlog-instances 1]
  The reconciler draining paid sessions whose Flex webhooks were lost; saved as results/reconcile-backlog-<date>.json.
npm run bench -- --profile postgres|embedded|floor [--scenario payment-session|pay-step|payment-flow] [--profiler v8|perf]
  [--concurrency 8] [--duration 10]
  CPU-profiles the app (or the floor) under load: one request scenario, or complete payments with --concurrency buyers;
  on PostgreSQL counts database round trips per request (or payment). --profiler v8 (default): node --cpu-prof, wall
  time on the main thread; --profiler perf: Linux perf, on-CPU time only (needs perf on the PATH, and root or
  kernel.perf_event_paranoid <= 1). Saved as results/profile-<target>[-<scenario>][-perf].json and .md; profile the
  floor first (same scenario, profiler, concurrency and duration) to see its work by kind beside the app's.
npm run bench -- --report [bench/results/<date>.json] [--update-readme]
  Prints the report of saved results (default: the newest dated file in bench/results/); runs nothing.
`;

const list = (text: string) => text.split(',').map((v) => Number(v.trim())).filter((v) => Number.isFinite(v));

export function parseOptions(argv: string[] = process.argv.slice(2)) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'flow-buyers': { type: 'string' },
      'flow-latency': { type: 'string' },
      'flow-seconds': { type: 'string' },
      'backlog-sessions': { type: 'string' },
      'backlog-due-after': { type: 'string' },
      'backlog-rate-limit': { type: 'string' },
      'backlog-latency': { type: 'string' },
      'backlog-timeout': { type: 'string' },
      'backlog-instances': { type: 'string' },
      runs: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      concurrency: { type: 'string' },
      latency: { type: 'string' },
      'webhook-rates': { type: 'string' },
      'webhook-seconds': { type: 'string' },
      'startup-runs': { type: 'string' },
      targets: { type: 'string' },
      'postgres-url': { type: 'string' },
      profile: { type: 'string' },
      scenario: { type: 'string' },
      profiler: { type: 'string' },
      report: { type: 'boolean', default: false },
      'no-save': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'update-readme': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  if (positionals.length > 0 && !values.report) throw new Error(`unexpected argument ${positionals[0]} (a results file goes with --report)`);
  const quick = values.quick;
  const targets = (values.targets ?? 'floor,durable-floor,embedded,postgres').split(',').map((t) => t.trim()) as TargetName[];
  for (const t of targets) if (!['floor', 'durable-floor', 'embedded', 'postgres'].includes(t)) throw new Error(`unknown target ${t}`);
  const profile = values.profile as TargetName | undefined;
  const only = values.only?.split(',').map((m) => m.trim()).filter(Boolean);
  for (const m of only ?? []) if (![...MEASUREMENTS, BACKLOG].includes(m as never)) throw new Error(`unknown measurement ${m} (--only takes ${[...MEASUREMENTS, BACKLOG].join(', ')})`);
  if (only?.includes(BACKLOG) && only.length > 1) throw new Error(`${BACKLOG} runs alone: --only ${BACKLOG}`);
  const backlog = only?.includes(BACKLOG) ?? false;
  if (profile && !['embedded', 'postgres', 'floor'].includes(profile)) throw new Error('--profile takes embedded, postgres or floor');
  if (!profile && (values.profiler !== undefined || values.scenario !== undefined)) throw new Error('--profiler and --scenario go with --profile');
  return {
    quick,
    runs: Number(values.runs ?? (quick ? 1 : 3)),
    durationSeconds: Number(values.duration ?? (profile ? 10 : quick ? 2 : 4)),
    warmupSeconds: Number(values.warmup ?? (quick ? 1 : 3)),
    concurrency: list(values.concurrency ?? (profile ? '8' : quick ? '1,8' : '1,8,32')),
    flexLatencyMs: list(values.latency ?? '0,50'),
    webhookRates: list(values['webhook-rates'] ?? (quick ? '10' : '5,20')),
    webhookSeconds: Number(values['webhook-seconds'] ?? (quick ? 2 : 5)),
    startupRuns: Number(values['startup-runs'] ?? (quick ? 1 : 3)),
    flowBuyers: Number(values['flow-buyers'] ?? 32),
    flowLatencyMs: Number(values['flow-latency'] ?? 50),
    flowSeconds: Number(values['flow-seconds'] ?? (quick ? 3 : 8)),
    /** The measurements of this run (all of MEASUREMENTS unless --only). */
    measurements: (only ?? [...MEASUREMENTS]) as string[],
    partial: only !== undefined,
    backlog: backlog
      ? {
          sessions: Number(values['backlog-sessions'] ?? (quick ? 500 : 5000)),
          dueAfterSeconds: values['backlog-due-after'] === undefined ? undefined : Number(values['backlog-due-after']),
          rateLimit: rateLimitOf(values['backlog-rate-limit'] ?? '25'),
          flexLatencyMs: Number(values['backlog-latency'] ?? 50),
          timeoutSeconds: Number(values['backlog-timeout'] ?? (quick ? 300 : 1800)),
          instances: Number(values['backlog-instances'] ?? 1),
        }
      : undefined,
    targets: profile ? [profile] : backlog ? targets.filter((t) => t !== 'floor' && t !== 'durable-floor') : targets.includes('floor') ? targets : (['floor', ...targets] as TargetName[]),
    postgresUrl: values['postgres-url'] ?? process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    profile,
    /** --profile: the request scenario to load the app with. */
    profileScenario: values.scenario ?? 'payment-session',
    /** --profile: V8's sampler (wall time on the main thread) or Linux perf (on-CPU time). */
    profiler: profilerOf(values.profiler),
    /** --report: render saved results (this file, or the newest dated one) instead of running. */
    report: values.report ? { file: positionals[0] } : undefined,
    save: !values['no-save'],
    keep: values.keep,
    updateReadme: values['update-readme'],
  };
}

function profilerOf(text: string | undefined): 'v8' | 'perf' {
  if (text === undefined || text === 'v8') return 'v8';
  if (text === 'perf') return 'perf';
  throw new Error(`--profiler takes v8 or perf, not ${text}`);
}

/** "25", "25/50" (requests per second / burst) or "none". */
function rateLimitOf(text: string): { requestsPerSecond: number; burst: number } | null {
  if (text === 'none' || text === '0') return null;
  const [rate, burst] = text.split('/').map(Number);
  if (!(rate > 0) || (burst !== undefined && !(burst >= 1))) throw new Error(`--backlog-rate-limit takes <requests per second>[/<burst>] or none, not ${text}`);
  return { requestsPerSecond: rate, burst: burst ?? Math.max(1, rate) };
}

export type Options = ReturnType<typeof parseOptions>;
