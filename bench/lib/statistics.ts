import { Client } from 'pg';
import type { RunningTarget } from '../context';

/**
 * ANALYZE of the app's PostgreSQL database after a warm-up, as autovacuum keeps a database in service
 * analyzed. The bench's database is made for the run, and autovacuum gets to a new database only after
 * its naptime (a minute) and then once a table has grown by a tenth: the plans PostgreSQL keeps for the
 * app's prepared statements (src/db/sql.ts) would otherwise be made on tables it has never analyzed,
 * and with several indexes starting with `shopId` and no statistics to tell them apart it can pick one
 * that walks every payment of the bench's shop, more each run (README "Performance"). ANALYZE also makes
 * PostgreSQL plan those statements again. The embedded database analyzes itself
 * (src/db/table-statistics.ts); the floor keeps nothing.
 */
export async function analyzeAppDatabase(t: RunningTarget): Promise<void> {
  const postgres = t.cpu.postgres;
  if (!postgres) return;
  const url = new URL(postgres.adminUrl);
  url.pathname = `/${postgres.database}`;
  const client = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}
