import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { EMBEDDED_DATABASE_NODE_FLAGS } from '../../src/db/embedded-node-flags';
import { AppProcess } from '../support/app-processes';
import { createTestDatabase, eventually } from '../support/harness';

/**
 * An app process on the embedded database, as `npm start` runs it: the V8 flags that only the
 * command line can set (src/db/embedded-node-flags.ts), and an app started without them says so
 * (that `npm start` passes them: test/unit/entry-points.test.ts); a new database made by a process of
 * its own (src/db/embedded-postgres.ts), so that the app does not keep what initdb took.
 * (Embedded project only: on PostgreSQL nothing here applies.)
 */

/**
 * The app's peak RSS as it starts on a new database: about 240 MB when another process makes the
 * database, 560–615 MB when the app makes it itself (measured 2026-12-01, this test's process).
 */
const PEAK_RSS_LIMIT_BYTES = 450 * 1024 * 1024;

const onEmbedded = process.env.TEST_DATABASE === 'embedded' ? describe : describe.skip;

onEmbedded('an app on the embedded database', () => {
  const dirs: string[] = [];
  const apps: AppProcess[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function start(nodeFlags: readonly string[], dataDir = newDataDir()): Promise<AppProcess> {
    const env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: '0',
      HOST: '127.0.0.1',
      APP_URL: 'http://127.0.0.1:1',
      DATA_DIR: dataDir,
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      SHOPIFY_API_KEY: 'test-api-key',
      SHOPIFY_API_SECRET: 'test-api-secret',
      METRICS_PORT: '0',
      PAYMENTS_PROXY_SECRET: randomBytes(32).toString('hex'),
      PAYMENTS_PROXY_HOST: '127.0.0.1',
      PAYMENTS_PROXY_PORT: '0',
    };
    const spawned = AppProcess.spawn(`app${apps.length}`, env, {}, nodeFlags);
    apps.push(spawned.process);
    return spawned.ready;
  }
  /** A data directory holding a database the migrations made already (a copy): for what does not depend on making one. */
  async function madeDataDir(): Promise<string> {
    const database = await createTestDatabase();
    dirs.push(database.dataDir);
    return database.dataDir;
  }
  function newDataDir(): string {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'flex-node-flags-'));
    dirs.push(dataDir);
    return dataDir;
  }
  const warnings = (app: AppProcess) => app.logs.filter((line) => line.missingNodeFlags);

  it('started with the flags, says nothing about them', async () => {
    const app = await start(EMBEDDED_DATABASE_NODE_FLAGS, await madeDataDir());
    expect(warnings(app)).toEqual([]);
  });

  it('makes a new database in a process of its own, so the app never holds the memory initdb took', async () => {
    const dataDir = newDataDir();
    const app = await start(EMBEDDED_DATABASE_NODE_FLAGS, dataDir);
    expect(app.peakRssBytes()).toBeLessThan(PEAK_RSS_LIMIT_BYTES);
    expect(existsSync(path.join(dataDir, 'pglite.creating'))).toBe(false);
    expect(readFileSync(path.join(dataDir, 'pglite', 'PG_VERSION'), 'utf8').trim()).toMatch(/^\d+$/);
  });

  it('makes the database again when an interrupted start left it half made', async () => {
    const dataDir = newDataDir();
    // The marker of a making whose process is gone, and what it had written (PG_VERSION among it).
    mkdirSync(path.join(dataDir, 'pglite'));
    writeFileSync(path.join(dataDir, 'pglite', 'PG_VERSION'), '17\n');
    writeFileSync(path.join(dataDir, 'pglite', 'half-made'), '');
    writeFileSync(path.join(dataDir, 'pglite.creating'), '');
    const app = await start(EMBEDDED_DATABASE_NODE_FLAGS, dataDir);
    expect(existsSync(path.join(dataDir, 'pglite.creating'))).toBe(false);
    expect(existsSync(path.join(dataDir, 'pglite', 'half-made'))).toBe(false);
    expect(existsSync(path.join(dataDir, 'pglite', 'global', 'pg_control'))).toBe(true);
    expect((await fetch(`${app.httpUrl}/readyz`)).status).toBe(200);
  });

  it('fails to start, saying how, when the process making the database is killed, and leaves nothing half made', async () => {
    const dataDir = newDataDir();
    const starting = start(EMBEDDED_DATABASE_NODE_FLAGS, dataDir);
    starting.catch(() => undefined);
    // As the kernel's OOM killer would: the child that holds initdb's memory, by the pid its marker
    // names. initdb writes its files in the last half second of the child's few seconds, too short a
    // window to aim at: a file put there before the kill stands for what it had written.
    const marker = path.join(dataDir, 'pglite.creating');
    let pid = 0;
    await eventually(
      async () => {
        pid = existsSync(marker) ? Number(readFileSync(marker, 'utf8')) : 0;
        return Number.isInteger(pid) && pid > 0;
      },
      30_000,
      'the marker naming the process that makes the database',
    );
    writeFileSync(path.join(dataDir, 'pglite', 'PG_VERSION'), '17\n');
    process.kill(pid, 'SIGKILL');
    await expect(starting).rejects.toThrow(/Could not create the embedded database in .*pglite: the process making it was killed by SIGKILL \(out of memory\? it needs about 450 MB/);
    // Nothing a later start could take for a database: the next one makes it from the beginning.
    expect(existsSync(marker)).toBe(false);
    expect(readdirSync(path.join(dataDir, 'pglite'))).toEqual([]);
  });

  it('refuses a data directory that holds files but no database, and leaves them as they were', async () => {
    const dataDir = newDataDir();
    mkdirSync(path.join(dataDir, 'pglite'));
    writeFileSync(path.join(dataDir, 'pglite', 'notes.txt'), 'an operator put this here');
    await expect(start(EMBEDDED_DATABASE_NODE_FLAGS, dataDir)).rejects.toThrow(/pglite holds files but no database \(no PG_VERSION\): notes\.txt\. Move them away, or set DATA_DIR/);
    expect(readFileSync(path.join(dataDir, 'pglite', 'notes.txt'), 'utf8')).toBe('an operator put this here');
    expect(existsSync(path.join(dataDir, 'pglite.creating'))).toBe(false);
  });

  it('started without them, warns once at start-up, naming the missing flags and how to start it', async () => {
    const app = await start([], await madeDataDir());
    // The line can reach this test's pipe after the app's ready line: waited for, not assumed.
    await eventually(async () => warnings(app).length > 0, 10_000, 'the start-up warning');
    expect(warnings(app)).toHaveLength(1);
    expect(warnings(app)[0]).toMatchObject({ level: 'warn', missingNodeFlags: [...EMBEDDED_DATABASE_NODE_FLAGS] });
    expect(warnings(app)[0]!.msg).toContain(`node ${EMBEDDED_DATABASE_NODE_FLAGS.join(' ')} test/support/app-process.ts`);
  });
});
