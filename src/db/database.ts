import path from 'node:path';
import { Pool } from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '@prisma/client';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';
import { applyMigrations } from './migrate';
import type { Logger } from '../lib/logger';

export type Db = PrismaClient;

export interface Database {
  prisma: PrismaClient;
  pool: Pool;
  kind: 'postgres' | 'embedded';
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
}

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
  const pool = new Pool({
    connectionString: url,
    // One backend session is all PGlite has (see embedded-postgres.ts).
    max: embedded ? 1 : options.poolSize,
    idleTimeoutMillis: embedded ? 0 : 30_000,
  });
  pool.on('error', (error) => options.logger?.error({ err: error }, 'idle database connection failed'));

  if (options.migrate !== false) await applyMigrations(pool, options.logger);

  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const description = embedded
    ? `embedded PGlite in ${path.resolve(options.dataDir, 'pglite')}`
    : describeUrl(url);

  return {
    prisma,
    pool,
    kind: embedded ? 'embedded' : 'postgres',
    description,
    async ping() {
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
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
