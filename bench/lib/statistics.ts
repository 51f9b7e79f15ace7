import { Client } from 'pg';
import type { RunningTarget } from '../context';

/**
 * ANALYZE of the app's PostgreSQL database after a warm-up, as autovacuum keeps a database in service
 * analyzed. The bench's database is made for the run; autovacuum gets to a new database only after its
 * naptime (a minute), and analyzes a table once 50 rows and a tenth of it have changed. Without it the
 * plans PostgreSQL keeps for the app's prepared statements (src/db/sql.ts) would be made on tables never
 * analyzed, and with several indexes starting with `shopId` and no statistics to tell them apart it can
 * pick one that walks every payment of the bench's shop, more each run (bench/README-queries.md,
 * "Seventh round"). ANALYZE also makes PostgreSQL plan those statements again. The embedded database
 * analyzes itself (src/db/table-statistics.ts; its first look is a minute after start, so it may fall
 * in a measured run, as it would in a shop's); the floor keeps nothing.
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
