import { parsePerfScript, perfFrameArea, perfFrameUrl, PERF_FREQUENCY_HZ, summarizePerfScript } from '../../bench/lib/perf-profile';

/**
 * The on-CPU profile (`npm run bench -- --profile postgres --profiler perf`, bench/lib/perf-profile.ts):
 * `perf script -F tid,ip,sym,dso` read into the same summary as V8's profiles. README "Performance"
 * rests on its shares, so: one sample is one period of on-CPU time, only the main thread's samples
 * make the tables, kernel time is told apart, and a sample's kind is its nearest kind.
 */
describe('summarizePerfScript', () => {
  const app = '/srv/app';
  // Leaf first, as perf prints a call chain.
  const sample = (tid: number, frames: Array<[sym: string, dso: string]>) =>
    [`${tid} `, ...frames.map(([sym, dso], i) => `\t    ${(0x7f0000 + i).toString(16)} ${sym} (${dso})`)].join('\n');
  const jit = '/tmp/profile/jitted-100-1.so';
  const node = '/usr/bin/node';
  const kernel = '[kernel.kallsyms]';

  const sendUnderPg = sample(100, [
    ['_raw_spin_unlock_irqrestore', kernel],
    ['__x64_sys_writev', kernel],
    ['writev', '/usr/lib/libc.so.6'],
    ['node::StreamBase::Writev', node],
    [`JS:*'writevGeneric node:internal/stream_base_commons:122:22`, jit],
    [`JS:*'query ${app}/node_modules/pg/lib/client.js:530:8`, jit],
    [`JS:+'findPayment ${app}/dist/src/db/repositories/payments.js:10:3`, jit],
    [`JS:+'handle ${app}/dist/src/http/routes.js:5:1`, jit],
    ['uv_run', node],
  ]);
  const logLine = sample(100, [
    ['Builtins_JsonStringify', node],
    [`JS:*'asJson ${app}/node_modules/pino/lib/tools.js:144:18`, jit],
    [`JS:+'handle ${app}/dist/src/http/routes.js:5:1`, jit],
  ]);
  const ownCodeWithInlineCache = sample(100, [
    ['Builtins_LoadIC_Megamorphic', node],
    [`JS:+'handle ${app}/dist/src/http/routes.js:5:1`, jit],
  ]);
  const scavenge = sample(100, [
    ['v8::internal::Scavenger::ScavengeObject', node],
    ['v8::internal::Heap::Scavenge', node],
  ]);
  const gcHelperThread = sample(101, [['v8::internal::ConcurrentMarking::RunMajor', node]]);
  const text = [sendUnderPg, sendUnderPg, logLine, ownCodeWithInlineCache, scavenge, gcHelperThread, ''].join('\n\n');
  const msPerSample = 1000 / PERF_FREQUENCY_HZ;
  const ms = (n: number) => Math.round(n * msPerSample * 10) / 10;

  it('reads each sample with its thread and frames, leaf first', () => {
    const samples = parsePerfScript(text);
    expect(samples).toHaveLength(6);
    expect(samples[0].tid).toBe(100);
    expect(samples[0].frames[0]).toEqual({ sym: '_raw_spin_unlock_irqrestore', dso: kernel });
    expect(samples[0].frames[5].sym).toBe(`JS:*'query ${app}/node_modules/pg/lib/client.js:530:8`);
    expect(samples[5].tid).toBe(101);
  });

  it('counts on-CPU time of the main thread in the tables, the other threads apart', () => {
    const summary = summarizePerfScript(text, 100);
    expect(summary.busyMs).toBe(ms(5));
    expect(summary.threads).toEqual({ mainMs: ms(5), otherMs: ms(1) });
    expect(summary.kernelPctOfBusy).toBe(40);
  });

  it('counts a sample as database work when the driver or src/db is on its stack, its kernel send included', () => {
    expect(summarizePerfScript(text, 100).databaseWork).toEqual({ ms: ms(2), pctOfBusy: 40 });
  });

  it('gives each sample the kind nearest its leaf, and the garbage collector its own', () => {
    const kinds = Object.fromEntries(summarizePerfScript(text, 100).kinds.map((k) => [k.kind, k.pctOfBusy]));
    expect(kinds).toEqual({
      'database: pg, PGlite, Prisma, src/db': 40,
      'logging: pino, sonic-boom, src/lib/logger, src/http/request-log': 20,
      'our code: src/ (the floor: bench/)': 20,
      'garbage collector': 20,
    });
  });

  it("gives a builtin's self time to the script that called it, as V8's profiles do", () => {
    const summary = summarizePerfScript(text, 100);
    const areas = Object.fromEntries(summary.areas.map((a) => [a.area, a.selfMs]));
    expect(areas['src/http']).toBe(ms(1));
    expect(areas.pino).toBe(ms(1));
    expect(summary.runtime.find((r) => r.area === '(kernel)')?.selfMs).toBe(ms(2));
    expect(summary.runtime.find((r) => r.area === '(garbage collector)')?.selfMs).toBe(ms(1));
  });

  it('gives the collector a sample it runs in even under a script, as V8 keeps GC apart', () => {
    const underPino = sample(100, [
      ['v8::internal::ScavengerCollector::CollectGarbage', node],
      ['v8::internal::Heap::CollectGarbage', node],
      ['Builtins_CEntry_Return1_ArgvOnStack_NoBuiltinExit', node],
      [`JS:*'asJson ${app}/node_modules/pino/lib/tools.js:144:18`, jit],
    ]);
    const kinds = summarizePerfScript(underPino, 100).kinds;
    expect(kinds).toEqual([{ kind: 'garbage collector', ms: ms(1), pctOfBusy: 100 }]);
  });

  it("tells Node's own code, fetch and native-only work apart", () => {
    const text = [
      sample(100, [[`JS:*'onStreamRead node:internal/stream_base_commons:166:22`, jit]]),
      sample(100, [[`JS:+'fetch node:internal/deps/undici/undici:13027:20`, jit], [`JS:*'onStreamRead node:internal/stream_base_commons:166:22`, jit]]),
      sample(100, [['get headersSent', node], [`JS:*'get headersSent node:_http_outgoing:438:22`, jit]]),
      sample(100, [['uv__io_poll', node], ['uv_run', node]]),
    ].join('\n\n');
    const kinds = Object.fromEntries(summarizePerfScript(text, 100).kinds.map((k) => [k.kind, k.pctOfBusy]));
    expect(kinds).toEqual({
      "Node's own code only (streams, sockets, promises, timers)": 25,
      'outbound HTTP: fetch (undici)': 25,
      'HTTP server: Express, router, body parsing, node:http': 25,
      'native only, no JavaScript on the stack': 25,
    });
  });

  it('reads the script as the last word of a name with spaces, and WASM functions as wasm', () => {
    expect(perfFrameUrl({ sym: `JS:*'get headersSent node:_http_outgoing:438:22` })).toBe('node:_http_outgoing');
    expect(perfFrameUrl({ sym: `JS:+ ${app}/node_modules/pg-protocol/dist/index.js:12:23` })).toBe(`file://${app}/node_modules/pg-protocol/dist/index.js`);
    expect(perfFrameArea({ sym: 'JS:wasm-function[20]-20-turbofan', dso: jit })).toBe('wasm');
    expect(perfFrameUrl({ sym: 'JS:wasm-function[20]-20-turbofan' })).toBe('');
    expect(perfFrameArea({ sym: '__x64_sys_writev', dso: kernel })).toBe('(kernel)');
  });

  it('says so when no sample is of the main thread (a wrong thread id would give empty tables)', () => {
    expect(() => summarizePerfScript(gcHelperThread, 100)).toThrow(/none of thread 100/);
    expect(summarizePerfScript('', 100).busyMs).toBe(0);
  });
});
