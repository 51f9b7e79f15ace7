import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { summarizeCpuProfile } from '../../bench/lib/cpu-profile';
import { workKindOf } from '../../bench/lib/profile-areas';

/**
 * The profile's "database work" (bench/lib/cpu-profile.ts): the busy time with the database client on
 * the stack, counted once per sample however many of its frames are there, native sends under it
 * included, idle excluded; and the kinds of work README "Performance" compares with the floor's.
 */
describe('summarizeCpuProfile: the app’s database work', () => {
  const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0 }, children });
  const app = '/srv/app/dist/src';
  const modules = '/srv/app/node_modules';
  // (root) → handler (src/http) → repository (src/db) → pool.query (pg-pool) → query (pg) → writev (native)
  //                              → log (pino) → write (native)
  //        → (idle)
  const nodes = [
    frame(1, '(root)', '', [2, 8]),
    frame(2, 'handle', `file://${app}/http/routes.js`, [3, 6]),
    frame(3, 'findPayment', `file://${app}/db/repositories/payments.js`, [4]),
    frame(4, 'query', `file://${modules}/pg-pool/index.js`, [5]),
    frame(5, 'query', `file://${modules}/pg/lib/client.js`, [9]),
    frame(6, 'info', `file://${modules}/pino/lib/proto.js`, [7]),
    frame(7, 'writeString', ''),
    frame(8, '(idle)', ''),
    frame(9, 'writev', ''),
  ];

  function summarize(samples: Array<[node: number, us: number]>) {
    const dir = mkdtempSync(path.join(tmpdir(), 'cpu-profile-'));
    const file = path.join(dir, 'app.cpuprofile');
    const total = samples.reduce((n, [, us]) => n + us, 0);
    writeFileSync(file, JSON.stringify({ nodes, samples: samples.map(([id]) => id), timeDeltas: samples.map(([, us]) => us), startTime: 0, endTime: total }));
    return summarizeCpuProfile(file);
  }

  it('counts a sample once when the database client is anywhere on its stack, its native send included', () => {
    const summary = summarize([
      [9, 3000], // the kernel's send of a statement, under pg
      [5, 1000], // pg itself
      [3, 1000], // the repository
      [7, 4000], // a log line's write: not database work
      [2, 1000], // the handler's own code
      [8, 5000], // idle
    ]);
    expect(summary.busyMs).toBe(10);
    expect(summary.databaseWork).toEqual({ ms: 5, pctOfBusy: 50 });
  });

  it('is nothing when no sample has the database client on its stack', () => {
    expect(summarize([[7, 2000], [2, 2000], [8, 1000]]).databaseWork).toEqual({ ms: 0, pctOfBusy: 0 });
  });

  it('sorts busy time by kind of work, each sample by the kind nearest its leaf', () => {
    const summary = summarize([
      [9, 3000], // the kernel's send under pg: database
      [3, 1000], // the repository (src/db): database
      [7, 4000], // a log line's write under pino, called from the handler: logging, not our code
      [2, 1000], // the handler's own code: ours
      [8, 5000], // idle: no kind
    ]);
    expect(summary.kinds).toEqual([
      { kind: 'database: pg, PGlite, Prisma, src/db', ms: 4, pctOfBusy: 44.4 },
      { kind: 'logging: pino, sonic-boom, src/lib/logger, src/http/request-log', ms: 4, pctOfBusy: 44.4 },
      { kind: 'our code: src/ (the floor: bench/)', ms: 1, pctOfBusy: 11.1 },
    ]);
  });
});

describe('workKindOf: the kind of a script', () => {
  it.each([
    ['file:///srv/app/node_modules/pg-protocol/dist/parser.js', 'database: pg, PGlite, Prisma, src/db'],
    ['file:///srv/app/dist/src/db/sql.js', 'database: pg, PGlite, Prisma, src/db'],
    ['file:///srv/app/dist/src/lib/logger.js', 'logging: pino, sonic-boom, src/lib/logger, src/http/request-log'],
    ['file:///srv/app/dist/src/lib/json-body.js', 'our code: src/ (the floor: bench/)'],
    ['file:///srv/app/node_modules/@shopify/shopify-api/dist/cjs/lib/webhooks/validate.js', 'Shopify library: @shopify/*'],
    ['node:internal/deps/undici/undici', 'outbound HTTP: fetch (undici)'],
    ['node:_http_server', 'HTTP server: Express, router, body parsing, node:http'],
    ['file:///srv/app/node_modules/router/index.js', 'HTTP server: Express, router, body parsing, node:http'],
    ['file:///srv/app/dist-dev/bench/floor.js', 'our code: src/ (the floor: bench/)'],
    ['file:///srv/app/node_modules/pg-types/lib/textParsers.js', 'database: pg, PGlite, Prisma, src/db'],
  ])('%s is %s', (url, kind) => {
    expect(workKindOf(url)).toBe(kind);
  });

  it("has no kind for Node's own streams or a native frame", () => {
    expect(workKindOf('node:internal/streams/readable')).toBeUndefined();
    expect(workKindOf('')).toBeUndefined();
  });

  it("does not take a package's own dist/src folder for our code", () => {
    expect(workKindOf('file:///srv/app/node_modules/some-lib/dist/src/index.js')).toBeUndefined();
  });
});
