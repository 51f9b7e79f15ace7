import { parseArgs } from 'node:util';
import type { TargetName } from './lib/report';

/** `npm run bench -- …`: the command line, its defaults (full, --quick, --profile) and --help. */

const HELP = `npm run bench -- [--quick] [--runs 3] [--duration 4] [--warmup 3] [--concurrency 1,8,32] [--latency 0,50]
  [--webhook-rates 5,20] [--webhook-seconds 5] [--startup-runs 3] [--targets floor,embedded,postgres]
  [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres] [--no-save] [--keep (the scratch directory: logs)]
  [--update-readme (puts the table in README.md, between the bench markers of its Performance section)]
npm run bench -- --profile postgres|embedded [--concurrency 8] [--duration 10]
  CPU-profiles the app under load (node --cpu-prof) and counts database round trips per request.
npm run bench -- --report [bench/results/<date>.json] [--update-readme]
  Prints the report of saved results (default: the newest dated file in bench/results/); runs nothing.
`;

const list = (text: string) => text.split(',').map((v) => Number(v.trim())).filter((v) => Number.isFinite(v));

export function parseOptions(argv: string[] = process.argv.slice(2)) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
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
  const targets = (values.targets ?? 'floor,embedded,postgres').split(',').map((t) => t.trim()) as TargetName[];
  for (const t of targets) if (!['floor', 'embedded', 'postgres'].includes(t)) throw new Error(`unknown target ${t}`);
  const profile = values.profile as TargetName | undefined;
  if (profile && profile !== 'embedded' && profile !== 'postgres') throw new Error('--profile takes embedded or postgres');
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
    targets: profile ? [profile] : targets.includes('floor') ? targets : (['floor', ...targets] as TargetName[]),
    postgresUrl: values['postgres-url'] ?? process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    profile,
    /** --report: render saved results (this file, or the newest dated one) instead of running. */
    report: values.report ? { file: positionals[0] } : undefined,
    save: !values['no-save'],
    keep: values.keep,
    updateReadme: values['update-readme'],
  };
}

export type Options = ReturnType<typeof parseOptions>;
