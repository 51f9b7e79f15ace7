import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { ProfileSummary } from './cpu-profile';
import { areaOf, DATABASE_AREAS, kindOfSample, kindsOf, rankedTables } from './profile-areas';

/**
 * An on-CPU profile taken with Linux `perf` (`--profiler perf`), for what V8's profiler cannot say.
 *
 * V8's sampler (`node --cpu-prof`) stamps each sample with wall time, and gives a sample all the time
 * since the one before: a main thread descheduled inside a system call keeps counting in that call
 * until it runs again. Likely cause on these 2-core machines: a `writev` to PostgreSQL wakes a
 * backend, which takes the core (inferred from the figures, not traced). Its "busy" time is then more
 * than the process's CPU, and the system calls that wake another process look far dearer than they
 * are. `perf record -e cpu-clock` samples a thread only while it is on a CPU, kernel time included, so
 * this summary adds up to CPU time. Node runs with `--perf-prof` (a jitdump that `perf inject --jit`
 * turns into names valid at each sample's time) and `--interpreted-frames-native-stack` (interpreted
 * functions named too); stacks are walked by frame pointers, which V8 keeps.
 *
 * Needs `perf` on the PATH and the right to profile another process (root, or
 * kernel.perf_event_paranoid ≤ 1); `.ci/run` does not install it: it is a bench tool only.
 *
 * Limits: a stack is the synchronous one (an `await` cuts it, as in V8's profile); a walk through
 * native code without frame pointers can stop early (some "native only" samples are such), so
 * inclusive figures are a floor; samples every 1/PERF_FREQUENCY_HZ s; perf names WASM functions but
 * not their modules.
 */

export const PERF_FREQUENCY_HZ = 999;

/**
 * Node flags that let perf name JavaScript frames: a jitdump (`--perf-prof`) written into `dir`, which
 * `perf inject --jit` turns into symbols valid at each sample's time. (`--perf-basic-prof`'s map has
 * no times: once the GC frees code and new code takes its address, samples there get the old name.)
 */
export function perfNodeFlags(dir: string): string[] {
  return ['--perf-prof', `--perf-prof-path=${dir}`, '--interpreted-frames-native-stack'];
}

export function perfAvailable(): boolean {
  const r = spawnSync('perf', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

/**
 * `perf record` of one process (all its threads), attached before the load and counting only between
 * `enable()` and `disable()` (perf's control channel, acknowledged), so the window is exact.
 */
export class PerfRecording {
  private failure: Error | undefined;
  private readonly exited: Promise<void>;
  private readonly acks: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly file: string,
  ) {
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const ack = child.stdio[4] as Readable;
    ack.on('data', (d: Buffer) => {
      for (const _line of d.toString().split('\n').filter((l) => l.trim() === 'ack')) this.acks.shift()?.resolve();
    });
    this.exited = new Promise<void>((resolve) => {
      const fail = (error: Error) => {
        this.failure ??= error;
        for (const waiting of this.acks.splice(0)) waiting.reject(error);
        resolve();
      };
      child.once('error', (error) => fail(new Error(`perf record could not start: ${error.message}`)));
      child.once('exit', (code, signal) => {
        if (code === 0 || signal === 'SIGINT' || code === 130) {
          for (const waiting of this.acks.splice(0)) waiting.reject(new Error('perf record exited'));
          resolve();
        } else fail(new Error(`perf record exited ${code ?? signal}: ${stderr.trim()}`));
      });
    });
  }

  static start(pid: number, file: string): PerfRecording {
    // -D -1: events off until enabled. -k mono: sample times on the clock the jitdump uses, for perf inject.
    const args = ['record', '-q', '-D', '-1', '--control', 'fd:3,4', '-k', 'mono', '-g', '-F', String(PERF_FREQUENCY_HZ), '-e', 'cpu-clock', '-p', String(pid), '-o', file];
    return new PerfRecording(spawn('perf', args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] }), file);
  }

  enable(): Promise<void> {
    return this.command('enable');
  }

  disable(): Promise<void> {
    return this.command('disable');
  }

  /** Stops recording (perf writes its file on SIGINT); throws what made perf fail, if it did. */
  async stop(): Promise<void> {
    this.child.kill('SIGINT');
    await this.exited;
    if (this.failure) throw this.failure;
  }

  private command(name: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.acks.push({ resolve, reject });
      (this.child.stdio[3] as Writable).write(`${name}\n`);
    });
  }
}

/**
 * `perf script` of a recording, in the form `summarizePerfScript` reads, its JavaScript frames named
 * from the jitdump the profiled process wrote (perf inject --jit).
 */
export function perfScript(file: string): string {
  const injected = `${file}.jit`;
  const inject = spawnSync('perf', ['inject', '--jit', '-i', file, '-o', injected], { encoding: 'utf8' });
  if (inject.status !== 0) throw new Error(`perf inject failed: ${inject.stderr.trim()}`);
  const r = spawnSync('perf', ['script', '-i', injected, '-F', 'tid,ip,sym,dso'], { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`perf script failed: ${r.stderr.trim()}`);
  return r.stdout;
}

interface PerfSample {
  tid: number;
  /** Leaf first. */
  frames: Array<{ sym: string; dso: string }>;
}

/** Parses `perf script -F tid,ip,sym,dso`: a line with the thread id, then one indented line per frame. */
export function parsePerfScript(text: string): PerfSample[] {
  const samples: PerfSample[] = [];
  let current: PerfSample | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (current) samples.push(current);
      current = undefined;
      continue;
    }
    const head = /^\s*(\d+)\s*$/.exec(line);
    if (head && !line.startsWith('\t')) {
      if (current) samples.push(current);
      current = { tid: Number(head[1]), frames: [] };
      continue;
    }
    // "\t    7f9b0486d5c5 JS:+'send /work/main/dist/src/flex/flex-client.js:85:15 (/tmp/…/jitted-7093-42.so)"
    const frame = /^\s*[0-9a-f]+\s+(.*?)(?:\s+\(([^()]*)\))?\s*$/.exec(line);
    if (current && frame) current.frames.push({ sym: frame[1], dso: frame[2] ?? '' });
  }
  if (current) samples.push(current);
  return samples;
}

/**
 * The area of one perf frame, by the same rules as V8 profiles (`areaOf`): a JavaScript frame by its
 * script; a WebAssembly function as "wasm" (perf does not name its module); a native frame as
 * "(kernel)" or "(native)".
 */
export function perfFrameArea(frame: { sym: string; dso: string }): string {
  if (/^JS:wasm/.test(frame.sym)) return 'wasm';
  const url = perfFrameUrl(frame);
  if (url) return areaOf(url, '');
  if (frame.dso.includes('kernel')) return '(kernel)';
  return '(native)';
}

/**
 * A JavaScript frame's script as V8 profiles name it (file://… or node:…); '' for native and WASM
 * frames. The symbol is "JS:<tier><name> <script>:<line>:<column>"; a name may hold spaces
 * ("get headersSent"), a script path none, so the script is the last word.
 */
export function perfFrameUrl(frame: { sym: string }): string {
  if (!frame.sym.startsWith('JS:')) return '';
  const words = frame.sym.split(/\s+/);
  if (words.length < 2) return '';
  const url = words[words.length - 1].replace(/:\d+:\d+$/, '');
  return url.startsWith('/') ? `file://${url}` : url;
}

/** V8's collector, its marking and sweeping (the symbols perf sees in the node binary). */
const GC = /^v8::internal::(Heap|Scavenger|Scavenge|ScavengerCollector|MarkCompact|MinorMarkSweep|MinorMS|MinorGC|ConcurrentMarking|IncrementalMarking|MarkingBarrier|MarkingVisitor|MainMarkingVisitor|ConcurrentMarkingVisitor|Sweeper|GCTracer|Evacuat|PagedSpace.*Sweep)/;

/** Whether the sample is the collector's: a GC frame nearer the leaf than any JavaScript frame. */
function isGcSample(sample: PerfSample): boolean {
  for (const frame of sample.frames) {
    if (frame.sym.startsWith('JS:')) return false;
    if (GC.test(frame.sym)) return true;
  }
  return false;
}

/**
 * Whose self time a sample is. V8's profiles have no frames for builtins and inline caches: their
 * time is the calling function's. So a native leaf other than the kernel and the garbage collector
 * goes to the nearest JavaScript frame's area, which keeps self times comparable with V8's.
 */
function selfAreaOf(sample: PerfSample, leafArea: string): string {
  if (leafArea === '(kernel)') return leafArea;
  if (isGcSample(sample)) return '(garbage collector)';
  if (leafArea !== '(native)') return leafArea;
  for (const frame of sample.frames) {
    const a = perfFrameArea(frame);
    if (a !== '(native)' && a !== '(kernel)') return a;
  }
  return '(native)';
}

/**
 * A function's name and where it is, for the self-time table: a JavaScript function by its script
 * (the same as in V8's profiles), a native one by its library ("node" for V8's builtins and Node's
 * own native code; "JIT" for code perf named from the jitdump without a script).
 */
function functionOf(frame: { sym: string; dso: string }): { fn: string; where: string } {
  const url = perfFrameUrl(frame);
  if (url) {
    const name = frame.sym.slice(3).replace(/\s+\S+$/, '').replace(/^['*~+^]+/, '');
    const where = frame.sym.split(/\s+/).at(-1)!.replace(/^.*\/(node_modules|dist(-dev)?)\//, '$1/');
    return { fn: name || '(anonymous)', where };
  }
  const library = /jitted-\d+-\d+\.so$/.test(frame.dso) ? 'JIT' : /\/node$/.test(frame.dso) ? 'node' : frame.dso.replace(/^.*\//, '');
  return { fn: frame.sym.replace(/^JS:['*~+^]*/, '') || '(unknown)', where: library };
}

export interface PerfProfileSummary extends ProfileSummary {
  profiler: 'perf';
  /** On-CPU time of the main thread (the JavaScript) and of the process's other threads (GC helpers, libuv's pool). */
  threads: { mainMs: number; otherMs: number };
  /** The main thread's time in the kernel (system calls, interrupts), as a share of its on-CPU time. */
  kernelPctOfBusy: number;
}

/**
 * Summarises the main thread's samples as V8 profiles are (areas inclusive, runtime and functions by
 * self time, the database work, kinds of work), every sample being on-CPU time. `windowMs`: how long
 * perf counted (the profile's total time).
 */
export function summarizePerfScript(text: string, mainTid: number, options: { top?: number; windowMs?: number } = {}): PerfProfileSummary {
  const top = options.top ?? 25;
  const samples = parsePerfScript(text);
  const msPerSample = 1000 / PERF_FREQUENCY_HZ;
  const main = samples.filter((s) => s.tid === mainTid);
  if (samples.length > 0 && main.length === 0) throw new Error(`perf recorded ${samples.length} samples, none of thread ${mainTid} (the main thread)`);
  const areaSelf = new Map<string, number>();
  const areaInclusive = new Map<string, number>();
  const fnSelf = new Map<string, { fn: string; where: string; area: string; n: number }>();
  const byKind = new Map<string, number>();
  let database = 0;
  let kernel = 0;
  for (const sample of main) {
    const leaf = sample.frames[0] ?? { sym: '(unknown)', dso: '' };
    const leafArea = perfFrameArea(leaf);
    if (leafArea === '(kernel)') kernel++;
    const selfArea = selfAreaOf(sample, leafArea);
    areaSelf.set(selfArea, (areaSelf.get(selfArea) ?? 0) + 1);
    const { fn, where } = functionOf(leaf);
    const key = `${fn}@${where}`;
    const entry = fnSelf.get(key) ?? { fn, where, area: leafArea, n: 0 };
    entry.n++;
    fnSelf.set(key, entry);
    const seen = new Set<string>();
    for (const frame of sample.frames) {
      const a = perfFrameArea(frame);
      if (seen.has(a)) continue;
      seen.add(a);
      areaInclusive.set(a, (areaInclusive.get(a) ?? 0) + 1);
    }
    if ([...seen].some((a) => DATABASE_AREAS.has(a))) database++;
    const kind = kindOfSample(sample.frames.map(perfFrameUrl), isGcSample(sample));
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  }
  const busy = main.length;
  const ms = (n: number) => Math.round(n * msPerSample * 10) / 10;
  const pct = (n: number) => Math.round((n / Math.max(1, busy)) * 1000) / 10;
  return {
    profiler: 'perf',
    windowed: true,
    totalMs: options.windowMs !== undefined ? Math.round(options.windowMs * 10) / 10 : ms(busy),
    busyMs: ms(busy),
    threads: { mainMs: ms(busy), otherMs: ms(samples.length - busy) },
    kernelPctOfBusy: pct(kernel),
    databaseWork: { ms: ms(database), pctOfBusy: pct(database) },
    kinds: kindsOf(byKind, ms, pct),
    ...rankedTables(areaSelf, areaInclusive, fnSelf, ms, pct, top),
  };
}
