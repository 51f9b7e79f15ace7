import { readFileSync } from 'node:fs';
import { areaOf, DATABASE_AREAS, kindOfSample, kindsOf, rankedTables } from './profile-areas';

/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: self time per function,
 * and inclusive time per "area" (a package under node_modules, a folder of src/, Node internals,
 * GC, idle), which is what names a cause ("Prisma's query engine", "pino", "the pg driver").
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  /** Whether the samples were cut to the load window (else: the whole process life). */
  windowed: boolean;
  totalMs: number;
  /** Time not idle (and not "(program)" bookkeeping). */
  busyMs: number;
  /**
   * Packages, src/ folders and WASM: time with that area anywhere on the stack (inclusive). Node's
   * own code, native calls and GC are listed by self time, since they sit under everything.
   */
  areas: Array<{ area: string; inclusiveMs: number; inclusivePctOfBusy: number; selfMs: number }>;
  runtime: Array<{ area: string; selfMs: number; selfPctOfBusy: number }>;
  functions: Array<{ fn: string; where: string; area: string; selfMs: number; selfPctOfBusy: number }>;
  /**
   * The app's database work: busy time with any of DATABASE_AREAS on the stack (the kernel's sends
   * of its statements included, as native frames under the driver), counted once per sample. What
   * the app would save if its database cost it nothing; the rest is its work without one. From V8's
   * sampler, which counts wall time, it includes time the thread spent descheduled in those sends
   * (perf-profile.ts says why); from perf, only time on a CPU.
   */
  databaseWork: { ms: number; pctOfBusy: number };
  /**
   * Busy time by kind of work, each sample counted once (profile-areas.ts, `kindOfSample`): the kind
   * of the frame nearest its leaf whose script has one, so a line logged inside a route is logging and the route's own code
   * is ours, whoever called it. Samples with no such frame: GC, Node's own code, or native only.
   */
  kinds: Array<{ kind: string; ms: number; pctOfBusy: number }>;
}

/**
 * `windowUs`: only samples taken in [from, to], in microseconds of the monotonic clock
 * (`process.hrtime.bigint() / 1000n` in any process on the machine: V8 stamps samples with it).
 */
export function summarizeCpuProfile(file: string, options: { top?: number; windowUs?: [number, number] } = {}): ProfileSummary {
  const top = options.top ?? 25;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  let window = options.windowUs;
  if (window && (window[1] < profile.startTime || window[0] > profile.endTime)) window = undefined;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (window && (t < window[0] || t > window[1])) continue;
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }

  const areaSelf = new Map<string, number>();
  const areaInclusive = new Map<string, number>();
  const fnSelf = new Map<string, { fn: string; where: string; area: string; n: number }>();
  let totalUs = 0;
  let idleUs = 0;
  let databaseUs = 0;
  const kindUs = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(url, functionName);
    totalUs += us;
    if (area === '(idle)' || area === '(program)') idleUs += us;
    areaSelf.set(area, (areaSelf.get(area) ?? 0) + us);
    const where = url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const entry = fnSelf.get(key) ?? { fn: functionName || '(anonymous)', where, area, n: 0 };
    entry.n += us;
    fnSelf.set(key, entry);
    // Inclusive: every distinct area on the stack gets this sample's time once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      const a = areaOf(frame.url, frame.functionName);
      if (a === '(root)' || seen.has(a)) continue;
      seen.add(a);
      areaInclusive.set(a, (areaInclusive.get(a) ?? 0) + us);
    }
    if ([...seen].some((a) => DATABASE_AREAS.has(a))) databaseUs += us;
    if (area !== '(idle)' && area !== '(program)') {
      const urls: string[] = [];
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) urls.push(byId.get(cur)!.callFrame.url);
      const kind = kindOfSample(urls, area === '(garbage collector)');
      kindUs.set(kind, (kindUs.get(kind) ?? 0) + us);
    }
  }
  const busyUs = totalUs - idleUs;
  const ms = (us: number) => Math.round(us / 100) / 10;
  const pct = (us: number) => Math.round((us / Math.max(1, busyUs)) * 1000) / 10;
  return {
    windowed: window !== undefined,
    totalMs: ms(totalUs),
    busyMs: ms(busyUs),
    databaseWork: { ms: ms(databaseUs), pctOfBusy: pct(databaseUs) },
    kinds: kindsOf(kindUs, ms, pct),
    ...rankedTables(areaSelf, areaInclusive, fnSelf, ms, pct, top),
  };
}

