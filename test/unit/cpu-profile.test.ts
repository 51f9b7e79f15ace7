import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { summarizeCpuProfile } from '../../bench/lib/cpu-profile';

/**
 * The profile's "database work" (bench/lib/cpu-profile.ts): the busy time with the database client on
 * the stack, counted once per sample however many of its frames are there, native sends under it
 * included, idle excluded. README "Performance" rests on this share.
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
});
