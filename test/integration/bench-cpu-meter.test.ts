import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Client } from 'pg';
import { startCpuMeter } from '../../bench/lib/cpu';
import { cpuMs } from '../../bench/lib/processes';
import { ADMIN_DATABASE_URL, createTestDatabase, type TestDatabase } from '../support/harness';

/**
 * The benchmark's CPU per payment (issue 13's first requirement) rests on this meter: the server's
 * process, and on PostgreSQL the backends serving the server's database and no other. Checked against
 * what the measured processes report themselves (Node's process.cpuUsage) or what the kernel's
 * scheduler counts (/proc/<pid>/schedstat, in nanoseconds; the meter reads /proc/<pid>/stat's 10 ms
 * ticks), never against wall time. (PostgreSQL project only: the backends are PostgreSQL's; the
 * process part needs no database and runs once.)
 */
const onPostgres = process.env.TEST_DATABASE === 'postgres' ? describe : describe.skip;

/**
 * How far one process's count can be off: each reading rounds utime and stime down to 10 ms ticks
 * separately (up to 20 ms low), so a difference of two readings is within ±20 ms.
 */
const TICKS_MS = 20;

onPostgres("the benchmark's CPU meter", () => {
  const databases: TestDatabase[] = [];
  const clients: Client[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await Promise.all(databases.map((d) => d.drop()));
  });

  it('counts what a process spends between start and stop, and not what it spent before', async () => {
    // Burns 200 ms before the meter starts, then on "go" 300 ms, and says how much that was.
    const script = [
      'const burn = (ms) => { const before = process.cpuUsage(); let used = 0; while (used < ms * 1000) { const u = process.cpuUsage(before); used = u.user + u.system; } return used / 1000; };',
      'burn(200);',
      'const rl = require("node:readline").createInterface({ input: process.stdin });',
      'console.log("ready");',
      'rl.on("line", () => console.log("done " + burn(300)));',
    ].join('\n');
    const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      expect((await lines.next()).value).toBe('ready');
      // So that counting what it spent before the start would show.
      expect(cpuMs(child.pid!)).toBeGreaterThan(150);
      const meter = await startCpuMeter({ pids: [child.pid!] });
      child.stdin!.write('go\n');
      const done = String((await lines.next()).value);
      const reported = Number(done.replace('done ', ''));
      const { processMs, databaseMs } = await meter.stop();
      expect(reported).toBeGreaterThanOrEqual(300);
      // The child's own count, give or take the ticks and reading its line and writing its answer.
      expect(processMs).toBeGreaterThanOrEqual(reported - TICKS_MS);
      expect(processMs).toBeLessThanOrEqual(reported + TICKS_MS + 50);
      expect(databaseMs).toBe(0);
    } finally {
      child.kill();
      await once(child, 'exit').catch(() => undefined);
    }
  });

  it("counts the backends of the server's database, one that connects during the run from zero, and none of another database", async () => {
    const measured = await createTestDatabase();
    databases.push(measured);
    const other = await createTestDatabase();
    databases.push(other);
    const connect = async (database: TestDatabase) => {
      const client = new Client({ connectionString: database.url });
      clients.push(client);
      await client.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      return { client, pid: rows[0].pid };
    };
    const burn = (client: Client) => client.query('SELECT count(*) FROM generate_series(1, 3000000)');
    const onCpuMs = (pid: number) => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;

    const early = await connect(measured);
    const elsewhere = await connect(other);
    await burn(early.client); // before the run: not counted
    const databaseName = new URL(measured.url!).pathname.slice(1);
    const earlyStart = onCpuMs(early.pid);
    const elsewhereStart = onCpuMs(elsewhere.pid);
    const meter = await startCpuMeter({ pids: [], postgres: { adminUrl: ADMIN_DATABASE_URL, database: databaseName } });

    await burn(early.client);
    await burn(elsewhere.client);
    const late = await connect(measured);
    await burn(late.client);
    const lateSpent = onCpuMs(late.pid);
    const { processMs, databaseMs } = await meter.stop();

    const earlySpent = onCpuMs(early.pid) - earlyStart;
    const elsewhereSpent = onCpuMs(elsewhere.pid) - elsewhereStart;
    expect(processMs).toBe(0);
    // So that counting the other database's backend, the early backend's CPU from before the run, or
    // the late one's only from its first reading, would show.
    expect(elsewhereSpent).toBeGreaterThan(3 * TICKS_MS);
    expect(earlySpent).toBeGreaterThan(3 * TICKS_MS);
    expect(earlyStart).toBeGreaterThan(3 * TICKS_MS);
    expect(lateSpent).toBeGreaterThan(3 * TICKS_MS);
    // The late backend from zero (its start-up included), the early one from the meter's start.
    expect(Math.abs(databaseMs - (earlySpent + lateSpent))).toBeLessThanOrEqual(2 * TICKS_MS);
  });
});
