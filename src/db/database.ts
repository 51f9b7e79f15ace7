import path from 'node:path';
import { Pool } from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '@prisma/client';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';
import { applyMigrations } from './migrate';
import { StatementNames } from './sql';
import type { Logger } from '../lib/logger';

export type Db = PrismaClient;

export interface Database {
  prisma: PrismaClient;
  pool: Pool;
  kind: 'postgres' | 'embedded';
  /**
   * The names of the statements the app prepares (sql.ts says why); none on PostgreSQL with prepared
   * statements turned off. On the embedded database they belong to its one session, not to whoever
   * sends them: every part of the app on it (several workers composed on it, say) must name a text the
   * same way.
   */
  statementNames: StatementNames | undefined;
  /** Where it runs, for logs (never includes a password). */
  description: string;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  poolSize: number;
  logger?: Logger;
  migrate?: boolean;
  /** How long to wait for a PostgreSQL connection (default 5 s). */
  connectTimeoutMs?: number;
  /**
   * PostgreSQL: prepare the hot statements (default true; sql.ts). Off for a connection pooler that
   * cannot keep a session's prepared statements (PgBouncer in transaction mode before 1.21). The
   * embedded database always prepares them.
   */
  preparedStatements?: boolean;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** How long closing waits for the pool's connections to be given back. */
const CLOSE_TIMEOUT_MS = 5_000;
/** How long /readyz waits for the database to answer before calling it not ready. */
const PING_TIMEOUT_MS = 3_000;

/**
 * Opens PostgreSQL (DATABASE_URL) or, when none is configured, the embedded PGlite database in
 * DATA_DIR, and brings its schema up to date.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let url = options.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres(path.resolve(options.dataDir, 'pglite'));
    url = embedded.url;
  }
  const prepared = embedded !== undefined || options.preparedStatements !== false;
  const pool = new Pool({
    connectionString: url,
    // One backend session is all PGlite has (see embedded-postgres.ts).
    max: embedded ? 1 : options.poolSize,
    idleTimeoutMillis: embedded ? 0 : 30_000,
    // PostgreSQL unreachable: a request gets its 503 within this instead of waiting for the
    // operating system's TCP timeout (minutes), and so does one that waits for a busy pool. The
    // embedded database lives in this process: its one connection is only ever busy, never gone.
    connectionTimeoutMillis: embedded ? 0 : (options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
    // A server that vanished without closing the connection is noticed by TCP keep-alive.
    keepAlive: !embedded,
    // PGlite's one session outlives the connections to it, and with them the statements each
    // prepared; the pool replaces its connection after any statement outside a transaction fails
    // (a unique violation the app expects, say), and the new connection, which does not know them,
    // would be refused ("already exists") for every statement it prepares again. The pool runs this
    // before it hands the connection to anyone; if it fails, the connection is dropped and the
    // caller gets the error.
    onConnect: embedded ? (client) => client.query('DEALLOCATE ALL').then(() => undefined) : undefined,
  });
  pool.on('error', (error) => options.logger?.error({ err: error }, 'idle database connection failed'));
  const statementNames = prepared ? new StatementNames() : undefined;

  if (options.migrate !== false) await applyMigrations(pool, options.logger);

  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const description = embedded
    ? `embedded PGlite in ${path.resolve(options.dataDir, 'pglite')}`
    : describeUrl(url);

  return {
    prisma,
    pool,
    kind: embedded ? 'embedded' : 'postgres',
    statementNames,
    description,
    async ping() {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
      });
      const answered = pool.query('SELECT 1').then(
        () => true,
        () => false,
      );
      try {
        return await Promise.race([answered, timedOut]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await prisma.$disconnect();
      // pool.end() waits for every connection to be given back; one lost with its server in the
      // middle of a transaction may never be, and a shutdown must not hang on it.
      let timer: NodeJS.Timeout | undefined;
      const ended = await Promise.race([
        pool.end().then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (!ended) options.logger?.warn('database pool did not close in time: a connection lost with the server was never given back');
      await embedded?.stop();
    },
  };
}

function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `PostgreSQL ${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}
