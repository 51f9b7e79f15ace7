import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

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
