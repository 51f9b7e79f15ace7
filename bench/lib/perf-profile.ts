import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { areaOf, DATABASE_AREAS, GC_KIND, kindsOf, NATIVE_ONLY_KIND, NODE_ONLY_KIND, workKindOf, type ProfileSummary } from './cpu-profile';

/**
 * An on-CPU profile taken with Linux `perf` (`--profiler perf`), for what V8's profiler cannot say.
 *
 * V8's sampler (`node --cpu-prof`) stamps each sample with wall time: a main thread descheduled
 * inside a system call (a `writev` to PostgreSQL that wakes a backend, which then takes the core on
 * these 2-core machines) keeps collecting samples in that call until it runs again. Its "busy" time
 * is therefore more than the process's CPU, and the system calls that wake another process look far
 * dearer than they are. `perf record -e cpu-clock` samples a thread only while it is on a CPU, kernel
 * time included, so this summary adds up to CPU time. Node runs with `--perf-basic-prof` (JIT code
 * named in /tmp/perf-<pid>.map) and `--interpreted-frames-native-stack` (interpreted functions named
 * too); stacks are walked by frame pointers, which V8 keeps.
 *
 * Limits: a stack is the synchronous one (an `await` cuts it, as in V8's profile); frame-pointer
 * walks through native code without frame pointers can drop frames, so inclusive figures are a
 * floor; samples every 1/FREQUENCY_HZ s.
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

/** `perf record` of one process (all its threads) until `stop()`. */
export class PerfRecording {
  private exited: Promise<number | null>;

  private constructor(
    private child: ChildProcess,
    readonly file: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(pid: number, file: string): PerfRecording {
    // -k mono: sample times on the clock the jitdump uses, for perf inject.
    const child = spawn('perf', ['record', '-q', '-k', 'mono', '-g', '-F', String(PERF_FREQUENCY_HZ), '-e', 'cpu-clock', '-p', String(pid), '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const recording = new PerfRecording(child, file);
    recording.exited = recording.exited.then((code) => {
      if (code !== 0 && code !== null) throw new Error(`perf record exited ${code}: ${stderr.trim()}`);
      return code;
    });
    return recording;
  }

  /** Stops recording (perf writes its file on SIGINT). */
  async stop(): Promise<void> {
    this.child.kill('SIGINT');
    await this.exited;
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
 * The area of one perf frame, by the same rules as V8 profiles (`areaOf`): a JavaScript frame
 * ("JS:<tier>name url:line:col") by its script; a native frame as "(kernel)" or "(native)".
 */
export function perfFrameArea(frame: { sym: string; dso: string }): string {
  const url = perfFrameUrl(frame);
  if (url) return areaOf(url, '');
  if (frame.dso.includes('kernel')) return '(kernel)';
  return '(native)';
}

/** A JavaScript frame's script as V8 profiles name it (file://… or node:…); '' for native frames. */
export function perfFrameUrl(frame: { sym: string }): string {
  const js = /^JS:\S*\s+(.*?)(?::\d+:\d+)?$/.exec(frame.sym);
  const url = js?.[1] ?? '';
  return url.startsWith('/') ? `file://${url}` : url;
}

const isRuntime = (area: string) => area.startsWith('node:') || area.startsWith('(');

const GC = /^v8::internal::(Heap|Scavenger|Scavenge|MarkCompact|MinorMarkSweep|ConcurrentMarking|Sweeper|MarkingVisitor|MainMarkingVisitor|GCTracer|Evacuat)/;

/**
 * Whose self time a sample is. V8's profiles have no frames for builtins and inline caches: their
 * time is the calling function's. So a native leaf other than the kernel and the garbage collector
 * goes to the nearest JavaScript frame's area, which keeps self times comparable with V8's.
 */
function selfAreaOf(sample: PerfSample, leafArea: string): string {
  if (leafArea === '(kernel)') return leafArea;
  if (GC.test(sample.frames[0]?.sym ?? '')) return '(garbage collector)';
  if (leafArea !== '(native)') return leafArea;
  for (const frame of sample.frames) {
    const a = perfFrameArea(frame);
    if (a !== '(native)' && a !== '(kernel)') return a;
  }
  return '(native)';
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
 * self time, the database work), every sample being on-CPU time.
 */
export function summarizePerfScript(text: string, mainTid: number, options: { top?: number } = {}): PerfProfileSummary {
  const top = options.top ?? 25;
  const samples = parsePerfScript(text);
  const msPerSample = 1000 / PERF_FREQUENCY_HZ;
  const main = samples.filter((s) => s.tid === mainTid);
  const areaSelf = new Map<string, number>();
  const areaInclusive = new Map<string, number>();
  const fnSelf = new Map<string, { fn: string; where: string; area: string; n: number }>();
  let database = 0;
  let kernel = 0;
  const byKind = new Map<string, number>();
  for (const sample of main) {
    const leaf = sample.frames[0] ?? { sym: '(unknown)', dso: '' };
    const leafArea = perfFrameArea(leaf);
    if (leafArea === '(kernel)') kernel++;
    const selfArea = selfAreaOf(sample, leafArea);
    areaSelf.set(selfArea, (areaSelf.get(selfArea) ?? 0) + 1);
    const js = /^JS:\S*?([^\s]*)\s+(.*)$/.exec(leaf.sym);
    const fn = js ? js[1].replace(/^['*~+^]+/, '') || '(anonymous)' : leaf.sym;
    const where = js ? js[2].replace(/^.*\/(node_modules|dist)\//, '$1/') : leaf.dso.replace(/^.*\//, '');
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
    const urls = sample.frames.map(perfFrameUrl);
    const kind = urls.map(workKindOf).find((k) => k !== undefined) ?? (GC.test(leaf.sym) ? GC_KIND : urls.some(Boolean) ? NODE_ONLY_KIND : NATIVE_ONLY_KIND);
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  }
  const busy = main.length;
  const ms = (n: number) => Math.round(n * msPerSample * 10) / 10;
  const pct = (n: number) => Math.round((n / Math.max(1, busy)) * 1000) / 10;
  return {
    profiler: 'perf',
    windowed: true,
    totalMs: ms(busy),
    busyMs: ms(busy),
    threads: { mainMs: ms(busy), otherMs: ms(samples.length - busy) },
    kernelPctOfBusy: pct(kernel),
    databaseWork: { ms: ms(database), pctOfBusy: pct(database) },
    kinds: kindsOf(byKind, ms, pct),
    runtime: [...areaSelf.entries()]
      .filter(([a]) => isRuntime(a))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([area, n]) => ({ area, selfMs: ms(n), selfPctOfBusy: pct(n) })),
    areas: [...areaInclusive.entries()]
      .filter(([a]) => !isRuntime(a))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, n]) => ({ area, inclusiveMs: ms(n), inclusivePctOfBusy: pct(n), selfMs: ms(areaSelf.get(area) ?? 0) })),
    functions: [...fnSelf.values()]
      .sort((a, b) => b.n - a.n)
      .slice(0, top)
      .map((f) => ({ fn: f.fn, where: f.where, area: f.area, selfMs: ms(f.n), selfPctOfBusy: pct(f.n) })),
  };
}
