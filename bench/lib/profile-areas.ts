/**
 * How a profile's frames are named and grouped, shared by V8's profiles (cpu-profile.ts) and perf's
 * (perf-profile.ts): the "area" of a script (a package, a src/ folder, Node's own code), which areas
 * are the database, and the kinds of work a payment's CPU is told apart by.
 */

/** Areas whose frames make a sample the app's database work: the drivers and their parsers, PGlite, Prisma, and src/db. */
export const DATABASE_AREAS: ReadonlySet<string> = new Set([
  'pg',
  'pg-pool',
  'pg-protocol',
  'pg-types',
  'pg-connection-string',
  'postgres-array',
  'postgres-bytea',
  'postgres-date',
  'postgres-interval',
  '@electric-sql/pglite',
  '@electric-sql/pglite-socket',
  '@prisma/client',
  '.prisma',
  '@prisma/adapter-pg',
  'src/db',
]);

/** A script's area: its package under node_modules, its folder of src/ (or bench/), Node's module, a WASM module; native frames by name. */
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
  // dist/src/<folder>/… → src/<folder>; the floor's dist-dev/bench/floor.js → bench/floor.js
  const dist = /\/dist(?:-dev)?\//.exec(url);
  if (dist) {
    const parts = url.slice(dist.index + dist[0].length).split('/');
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts.join('/');
  }
  return url;
}

/** Node's own code, native frames, GC, idle: listed by self time, since they sit under everything. */
export const isRuntime = (area: string) => area.startsWith('node:') || area.startsWith('(');

export const DATABASE_KIND = 'database: pg, PGlite, Prisma, src/db';
export const GC_KIND = 'garbage collector';
export const NODE_ONLY_KIND = "Node's own code only (streams, sockets, promises, timers)";
export const NATIVE_ONLY_KIND = 'native only, no JavaScript on the stack';

/**
 * The kinds of work other than the database (whose scripts are DATABASE_AREAS), first match wins per
 * frame. The floor does the HTTP, fetch, Shopify and Flex signature work too; the app alone the rest.
 */
export const WORK_KINDS: ReadonlyArray<{ kind: string; url: RegExp }> = [
  { kind: 'logging: pino, sonic-boom, src/lib/logger, src/http/request-log', url: /\/node_modules\/(pino|pino-std-serializers|sonic-boom|thread-stream)\/|\/dist\/src\/lib\/logger\.js|\/dist\/src\/http\/request-log\.js/ },
  { kind: 'metrics: prom-client', url: /\/node_modules\/(prom-client|tdigest|bintrees)\// },
  { kind: 'validation: zod', url: /\/node_modules\/zod\// },
  { kind: 'Shopify library: @shopify/*', url: /\/node_modules\/@shopify\// },
  { kind: 'Flex webhook signature: svix', url: /\/node_modules\/(svix|standardwebhooks|fast-sha256|@stablelib\/[^/]+)\// },
  { kind: 'outbound HTTP: fetch (undici)', url: /^node:internal\/deps\/undici\// },
  {
    kind: 'HTTP server: Express, router, body parsing, node:http',
    url: /\/node_modules\/(express|router|body-parser|raw-body|iconv-lite|etag|fresh|send|finalhandler|content-type|content-disposition|accepts|negotiator|type-is|mime-types|on-finished|qs|cookie|path-to-regexp|depd|statuses|encodeurl|escape-html|parseurl|proxy-addr|forwarded|vary)\/|^node:_http_/,
  },
  // Our own scripts, not a package's dist/ folder.
  { kind: 'our code: src/ (the floor: bench/)', url: /^(?!.*\/node_modules\/).*\/dist(-dev)?\/(src|bench)\// },
];

/** The kind of a frame's script; undefined for Node's own code other than fetch and node:http, and for native frames. */
export function workKindOf(url: string): string | undefined {
  if (!url) return undefined;
  if (DATABASE_AREAS.has(areaOf(url, ''))) return DATABASE_KIND;
  return WORK_KINDS.find((k) => k.url.test(url))?.kind;
}

/**
 * A sample's kind: that of the frame nearest its leaf whose script has one, so a line logged inside a
 * route is logging and the route's own code is ours, whoever called it; the garbage collector apart.
 * Else Node's own code, or native work only. `urls`: the sample's frames' scripts, leaf first ('' native).
 */
export function kindOfSample(urls: readonly string[], isGc: boolean): string {
  // Collecting garbage is its own kind, as V8's profiles keep it, whoever's allocation started it.
  if (isGc) return GC_KIND;
  for (const url of urls) {
    const kind = workKindOf(url);
    if (kind) return kind;
  }
  return urls.some(Boolean) ? NODE_ONLY_KIND : NATIVE_ONLY_KIND;
}

/** Kinds of work, largest first, names breaking ties (so the order never depends on the samples' order). */
export function kindsOf(byKind: Map<string, number>, ms: (n: number) => number, pct: (n: number) => number): Array<{ kind: string; ms: number; pctOfBusy: number }> {
  return [...byKind.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([kind, n]) => ({ kind, ms: ms(n), pctOfBusy: pct(n) }));
}

/**
 * The tables both profiles share, from time per area (self and inclusive) and per function, in the
 * profile's unit (µs, or perf's samples) with `ms` and `pct` to convert: the runtime by self time,
 * areas by inclusive time, functions by self time. Idle and bookkeeping never count as busy.
 */
export function rankedTables(
  areaSelf: Map<string, number>,
  areaInclusive: Map<string, number>,
  fnSelf: Map<string, { fn: string; where: string; area: string; n: number }>,
  ms: (n: number) => number,
  pct: (n: number) => number,
  top: number,
) {
  const notBusy = (a: string) => a === '(idle)' || a === '(program)' || a === '(root)';
  return {
    runtime: [...areaSelf.entries()]
      .filter(([a]) => isRuntime(a) && !notBusy(a))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([area, n]) => ({ area, selfMs: ms(n), selfPctOfBusy: pct(n) })),
    areas: [...areaInclusive.entries()]
      .filter(([a]) => !isRuntime(a))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, n]) => ({ area, inclusiveMs: ms(n), inclusivePctOfBusy: pct(n), selfMs: ms(areaSelf.get(area) ?? 0) })),
    functions: [...fnSelf.values()]
      .filter((f) => !notBusy(f.area))
      .sort((a, b) => b.n - a.n)
      .slice(0, top)
      .map((f) => ({ fn: f.fn, where: f.where, area: f.area, selfMs: ms(f.n), selfPctOfBusy: pct(f.n) })),
  };
}
