import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { EMBEDDED_DATABASE_NODE_FLAGS } from './embedded-node-flags';

/**
 * The embedded default database: PGlite (PostgreSQL compiled to WASM, file-backed) served on a
 * loopback socket, so the app talks to it through the same `pg` driver as to a PostgreSQL server.
 *
 * PGlite is a single backend session: the pool in front of it must have exactly one connection,
 * or transactions from different pool clients would interleave in that one session.
 */
export interface EmbeddedPostgres {
  /** postgresql:// URL of the loopback socket. */
  readonly url: string;
  stop(): Promise<void>;
}

export class EmbeddedDatabaseInUseError extends Error {}

/**
 * PostgreSQL's buffer cache lives in the WASM heap, inside the app's process, and the pages it touches
 * stay resident: at PostgreSQL's default (128 MB) a demo's RSS grew by about 120 MB more than at 16 MB
 * (measured opening a data directory and running 6,000 small statements). The data files are on the
 * real file system, so the operating system's cache still holds them. Written to the data directory's
 * configuration by PGlite, so it holds for directories made before this setting too.
 */
const EMBEDDED_SETTINGS = ['shared_buffers=16MB'];

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  mkdirSync(dataDir, { recursive: true });
  const releaseLock = lockDataDir(dataDir);
  let db: PGlite;
  try {
    await createDataDirInChildProcess(dataDir);
    db = await PGlite.create(dataDir, { postgresqlconf: EMBEDDED_SETTINGS });
  } catch (error) {
    releaseLock();
    throw error;
  }
  // The pool uses one connection at a time, but node-postgres replaces a connection after a query
  // error and may open the replacement before the server has seen the old one close: with a limit
  // of one, that replacement would be turned away and the next query would fail.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
  await server.start();
  const url = `postgresql://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
      releaseLock();
    },
  };
}

/**
 * A new data directory is made (PostgreSQL's initdb, inside PGlite) by a short-lived process of its
 * own, and only then opened here. Measured with PGlite 0.5.14 (2026-12-01): an app that made its
 * database itself peaked at 615 MB as it started and kept about 450 MB from then on (the memory of
 * initdb's WASM instance is not given back when it closes); made by another process, the app peaked
 * at 237 MB. The machine still needs about that much for the few seconds initdb runs: the child's
 * peak is about 450 MB beside the app's.
 *
 * An interrupted making is not taken for a database: the marker `<dataDir>.creating` (holding the
 * child's pid) is written before and removed once the child is done; found at start, the directory
 * is emptied (its contents, so a symlink or a mount point stays as it is) and made again, after the
 * earlier child has gone (it exits once its parent is gone: its stdin is the parent's pipe). A
 * directory with files but no database (no PG_VERSION, as PGlite decides) is refused, not overwritten.
 */
async function createDataDirInChildProcess(dataDir: string): Promise<void> {
  const marker = `${dataDir}.creating`;
  if (existsSync(marker)) {
    await waitUntilGone(Number(readFileSync(marker, 'utf8')), dataDir);
    emptyDirectory(dataDir);
    rmSync(marker, { force: true });
  }
  if (existsSync(path.join(dataDir, 'PG_VERSION'))) return;
  const found = readdirSync(dataDir);
  if (found.length > 0) {
    throw new Error(`${dataDir} holds files but no database (no PG_VERSION): ${found.slice(0, 5).join(', ')}${found.length > 5 ? ', …' : ''}. Move them away, or set DATA_DIR to another directory.`);
  }
  const script = [
    'const [pglite, dir, settings] = process.argv.slice(1);',
    // The parent's end is closed however it died (a kill -9 included): this process then has no one to make the database for.
    'process.stdin.on("end", () => process.exit(1)).resume();',
    'require(pglite).PGlite.create(dir, { postgresqlconf: JSON.parse(settings) })',
    '  .then((db) => db.close())',
    '  .then(() => process.exit(0), (error) => { console.error(error && error.stack ? error.stack : String(error)); process.exit(1); });',
  ].join('\n');
  const args = [...EMBEDDED_DATABASE_NODE_FLAGS, '-e', script, require.resolve('@electric-sql/pglite'), dataDir, JSON.stringify(EMBEDDED_SETTINGS)];
  writeFileSync(marker, '');
  // NODE_OPTIONS is the app's (a debugger, a preloaded agent, --input-type=module): none of it is for this script.
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  if (child.pid !== undefined) writeFileSync(marker, String(child.pid));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), CREATE_TIMEOUT_MS);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: Error }>((resolve) => {
    child.once('error', (error) => resolve({ error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  }).finally(() => clearTimeout(timeout));
  if ('error' in exit || exit.code !== 0) {
    emptyDirectory(dataDir);
    rmSync(marker, { force: true });
    const how =
      'error' in exit
        ? `could not be started: ${exit.error.message}`
        : exit.signal
          ? `was killed by ${exit.signal}${exit.signal === 'SIGKILL' ? ` (out of memory? it needs about 450 MB; or it ran past ${CREATE_TIMEOUT_MS / 1000} s)` : ''}`
          : `exited with code ${exit.code}`;
    throw new Error(`Could not create the embedded database in ${dataDir}: the process making it ${how}. ${stderr.trim()}`.trim());
  }
  rmSync(marker);
}

/** How long making a new database may take (about 5 s on a busy 2-core machine). */
const CREATE_TIMEOUT_MS = 120_000;

async function waitUntilGone(pid: number, dataDir: string): Promise<void> {
  if (!Number.isInteger(pid) || pid <= 0) return;
  const deadline = Date.now() + 30_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      throw new EmbeddedDatabaseInUseError(`Process ${pid}, from an interrupted start, is still making the embedded database in ${dataDir}. Stop it, then start again.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function emptyDirectory(dir: string): void {
  for (const entry of readdirSync(dir)) rmSync(path.join(dir, entry), { recursive: true, force: true });
}

/**
 * PGlite files must be opened by one process at a time. A second process (the CLI while the app
 * runs) is refused with a clear message instead of corrupting the data.
 */
const openInThisProcess = new Set<string>();

function lockDataDir(dataDir: string): () => void {
  const lockFile = path.join(dataDir, '..', `${path.basename(dataDir)}.lock`);
  const key = path.resolve(dataDir);
  if (openInThisProcess.has(key)) {
    throw new EmbeddedDatabaseInUseError(`The embedded database in ${dataDir} is already open in this process; close it first.`);
  }
  try {
    const holder = Number(readFileSync(lockFile, 'utf8'));
    if (holder && holder !== process.pid && isAlive(holder)) {
      throw new EmbeddedDatabaseInUseError(
        `The embedded database in ${dataDir} is in use by process ${holder} (probably the running app). Stop it first, or set DATABASE_URL to use PostgreSQL.`,
      );
    }
  } catch (error) {
    if (error instanceof EmbeddedDatabaseInUseError) throw error;
  }
  writeFileSync(lockFile, String(process.pid));
  openInThisProcess.add(key);
  return () => {
    openInThisProcess.delete(key);
    rmSync(lockFile, { force: true });
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
