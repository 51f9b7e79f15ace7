import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, RESULTS_DIR } from './context';
import { renderReport, type BenchResults } from './lib/report';
import type { Options } from './options';

/**
 * bench/results/: one dated file per full run (`2026-11-23T085829Z.json`), nothing copied. The
 * newest dated file is the latest result; its report is rendered from it on demand
 * (`npm run bench -- --report`). Profiles keep one file per target, scenario and profiler (`profile-<target>[-<scenario>][-perf].json`
 * and its report, `.md`).
 */

const DATED = /^\d{4}-\d{2}-\d{2}T\d{6}Z\.json$/;

/** The newest dated results file, or undefined when there is none. */
export function newestResultsFile(dir = RESULTS_DIR): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const newest = names.filter((name) => DATED.test(name)).sort().at(-1);
  return newest && path.join(dir, newest);
}

export function readResults(file: string): BenchResults {
  return JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
}

/** Prints the report of a full run and saves it as a dated file (not after --quick or --no-save). */
export function publishRun(results: BenchResults, options: Options): void {
  const report = renderReport(results);
  process.stdout.write(`\n${report}\n`);
  if (options.quick) {
    process.stdout.write('(--quick: a smoke run, not saved)\n');
    return;
  }
  if (options.partial) {
    process.stdout.write('(--only: part of the suite, not saved)\n');
    return;
  }
  if (!options.save) return;
  const stamp = results.startedAt.replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
  saved([write(`${stamp}.json`, `${JSON.stringify(results, null, 1)}\n`)]);
  if (options.updateReadme) updateReadme(report);
}

/** Prints the reconciler backlog's report and saves it as reconcile-backlog-<date>.json and .md (not after --quick). */
export function publishBacklog(results: BenchResults, options: Options): void {
  const report = renderReport(results);
  process.stdout.write(`\n${report}\n`);
  if (options.quick) {
    process.stdout.write('(--quick: a smoke run, not saved)\n');
    return;
  }
  if (!options.save) return;
  const stamp = results.startedAt.replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
  saved([write(`reconcile-backlog-${stamp}.json`, `${JSON.stringify(results, null, 1)}\n`), write(`reconcile-backlog-${stamp}.md`, `${report}\n`)]);
}

/**
 * The floor's saved profile of the same scenario and profiler (`--profile floor`), if there is one:
 * an app profile's report shows the floor's work by kind beside its own.
 */
export function savedFloorProfile(name: string, dir = RESULTS_DIR): BenchResults | undefined {
  try {
    return readResults(path.join(dir, `${name}.json`));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Prints a profile's report and saves it as <name>.json and .md (profile-<target>[-<scenario>][-perf]). */
export function publishProfile(results: BenchResults, options: Options, name: string): void {
  const report = renderReport(results);
  process.stdout.write(`\n${report}\n`);
  if (!options.save) return;
  saved([write(`${name}.json`, `${JSON.stringify(results, null, 1)}\n`), write(`${name}.md`, `${report}\n`)]);
}

/** `--report [file]`: the report of saved results (default: the newest dated file); runs nothing. */
export function printSavedReport(options: Options): void {
  const file = options.report?.file ? path.resolve(options.report.file) : newestResultsFile();
  if (!file) throw new Error(`no saved results in ${path.relative(process.cwd(), RESULTS_DIR)}: run \`npm run bench\` first`);
  const report = renderReport(readResults(file));
  process.stdout.write(`${report}\n(from ${path.relative(process.cwd(), file)})\n`);
  if (options.updateReadme) updateReadme(report);
}

function write(name: string, text: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(path.join(RESULTS_DIR, name), text);
  return name;
}

function saved(names: string[]): void {
  process.stdout.write(`Saved ${names.map((f) => path.join(path.relative(process.cwd(), RESULTS_DIR), f)).join(', ')}\n`);
}

/** Replaces what is between the markers in README.md's Performance section, and nothing else. */
function updateReadme(report: string): void {
  const file = path.join(REPO, 'README.md');
  const text = readFileSync(file, 'utf8');
  const start = '<!-- bench:start (npm run bench -- --update-readme) -->';
  const end = '<!-- bench:end -->';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) {
    process.stdout.write('README.md has no bench markers: not updated\n');
    return;
  }
  writeFileSync(file, `${text.slice(0, from + start.length)}\n${report}\n${text.slice(to)}`);
  process.stdout.write('README.md Performance table updated\n');
}
