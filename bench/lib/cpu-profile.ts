import { readFileSync } from 'node:fs';

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
   * the app would save if its database cost it nothing; the rest is its work without one.
   */
  databaseWork: { ms: number; pctOfBusy: number };
  /**
   * Busy time by kind of work, each sample counted once: the kind of the frame nearest its leaf whose
   * script has one (WORK_KINDS), so a line logged inside a route is logging and the route's own code
   * is ours, whoever called it. Samples with no such frame: GC, Node's own code, or native only.
   */
  kinds: Array<{ kind: string; ms: number; pctOfBusy: number }>;
}

/**
 * The kinds of work a payment's CPU is told apart by, first match wins per frame. The floor does the
 * HTTP, fetch, Shopify and Flex signature work too; the app alone the rest.
 */
export const WORK_KINDS: ReadonlyArray<{ kind: string; url: RegExp }> = [
  { kind: 'database: pg, PGlite, Prisma, src/db', url: /\/node_modules\/(pg|pg-pool|pg-protocol|pg-types|pg-connection-string|postgres-[a-z]+|@prisma\/[^/]+|\.prisma|@electric-sql\/[^/]+)\/|\/dist\/src\/db\// },
  { kind: 'logging: pino, sonic-boom, src/lib/logger, src/http/request-log', url: /\/node_modules\/(pino|pino-std-serializers|sonic-boom|thread-stream)\/|\/dist\/src\/lib\/logger\.js|\/dist\/src\/http\/request-log\.js/ },
  { kind: 'metrics: prom-client', url: /\/node_modules\/(prom-client|tdigest|bintrees)\// },
  { kind: 'validation: zod', url: /\/node_modules\/zod\// },
  { kind: 'Shopify library: @shopify/*', url: /\/node_modules\/@shopify\// },
  { kind: 'Flex webhook signature: svix', url: /\/node_modules\/(svix|standardwebhooks|fast-sha256|@stablelib\/[^/]+)\// },
  { kind: 'outbound HTTP: fetch (undici)', url: /^node:internal\/deps\/undici\// },
  { kind: 'HTTP server: Express, router, body parsing, node:http', url: /\/node_modules\/(express|router|body-parser|raw-body|iconv-lite|etag|fresh|send|finalhandler|content-type|content-disposition|accepts|negotiator|type-is|mime-types|on-finished|qs|cookie|path-to-regexp|depd|statuses|encodeurl|escape-html|parseurl|proxy-addr|forwarded|vary)\/|^node:_http_/ },
  { kind: 'our code: src/ (the floor: bench/)', url: /\/dist(-dev)?\/(src|bench)\// },
];
export const GC_KIND = 'garbage collector';
export const NODE_ONLY_KIND = "Node's own code only (streams, sockets, promises, timers)";
export const NATIVE_ONLY_KIND = 'native only, no JavaScript on the stack';

export function workKindOf(url: string): string | undefined {
  if (!url) return undefined;
  return WORK_KINDS.find((k) => k.url.test(url))?.kind;
}

/** Areas whose frames make a sample the app's database work: the drivers, PGlite, Prisma, and src/db. */
export const DATABASE_AREAS: ReadonlySet<string> = new Set(['pg', 'pg-pool', 'pg-protocol', '@electric-sql/pglite', '@electric-sql/pglite-socket', '@prisma/client', '.prisma', '@prisma/adapter-pg', 'src/db']);

export function areaOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return '(garbage collector)';
    if (functionName === '(program)') return '(program)';
    if (functionName === '(root)') return '(root)';
    return '(native)';
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  // WebAssembly: Prisma's query compiler, or PGlite; the caller's area (.prisma, @electric-sql/pglite) says which.
  if (url.startsWith('wasm://')) return `wasm:${url.split('/').pop()}`;
  if (url.startsWith('node:')) {
    const parts = url.slice('node:'.length).split('/');
    return parts[0] === 'internal' ? `node:internal/${parts[1]?.replace(/\.js$/, '') ?? ''}` : `node:${parts[0]}`;
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) {
    const parts = url.slice(dist + '/dist/'.length).split('/');
    // dist/src/<folder>/… → src/<folder>
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts.join('/');
  }
  return url;
}

const isRuntime = (area: string) => area.startsWith('node:') || area.startsWith('(');

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
  const fnSelf = new Map<string, { fn: string; where: string; area: string; us: number }>();
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
    const entry = fnSelf.get(key) ?? { fn: functionName || '(anonymous)', where, area, us: 0 };
    entry.us += us;
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
      let kind: string | undefined;
      let anyScript = false;
      for (let cur: number | undefined = id; cur !== undefined && !kind; cur = parent.get(cur)) {
        const frame = byId.get(cur)!.callFrame;
        anyScript ||= frame.url !== '';
        kind = workKindOf(frame.url);
      }
      kind ??= area === '(garbage collector)' ? GC_KIND : anyScript ? NODE_ONLY_KIND : NATIVE_ONLY_KIND;
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
    runtime: [...areaSelf.entries()]
      .filter(([a]) => isRuntime(a) && a !== '(idle)' && a !== '(program)' && a !== '(root)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([area, us]) => ({ area, selfMs: ms(us), selfPctOfBusy: pct(us) })),
    areas: [...areaInclusive.entries()]
      .filter(([a]) => !isRuntime(a))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ area, inclusiveMs: ms(us), inclusivePctOfBusy: pct(us), selfMs: ms(areaSelf.get(area) ?? 0) })),
    functions: [...fnSelf.values()]
      .filter((f) => f.area !== '(idle)' && f.area !== '(program)')
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ fn: f.fn, where: f.where, area: f.area, selfMs: ms(f.us), selfPctOfBusy: pct(f.us) })),
  };
}

/** Kinds of work, largest first (shared with the perf profile's summary). */
export function kindsOf(byKind: Map<string, number>, ms: (n: number) => number, pct: (n: number) => number): ProfileSummary['kinds'] {
  return [...byKind.entries()].sort((a, b) => b[1] - a[1]).map(([kind, n]) => ({ kind, ms: ms(n), pctOfBusy: pct(n) }));
}
