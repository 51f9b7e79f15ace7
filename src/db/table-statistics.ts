import type { Pool } from 'pg';

/**
 * ANALYZE for the embedded database, which has no autovacuum (PGlite is PostgreSQL in single-user
 * mode). Without it the planner keeps guessing at every table as if it were still empty, and the
 * plans it keeps for the prepared statements (sql.ts) were made from those guesses: with several
 * indexes that start with `shopId` and no statistics to tell them apart, a lookup by
 * `(shopId, flexCheckoutSessionId)` can walk the shop's every payment through another index, more
 * of them the longer the shop sells. PostgreSQL's autovacuum analyzes a table once 50 rows and a tenth
 * of it have changed; this cannot see changes (PGlite does not report them while it runs), so it goes
 * by size: a table with rows but no column statistics, or one that has grown by a fifth and at least a
 * page since its size was last recorded, is analyzed. ANALYZE also makes the database plan its
 * prepared statements again. On PostgreSQL autovacuum does this, so it is not run there.
 */
export class TableStatistics {
  constructor(private readonly pool: Pool) {}

  /**
   * Analyzes the tables of the app's schema that need it, one statement per table so that the one
   * session of the embedded database serves whatever waits for it in between; returns their names and
   * how long the ANALYZEs took.
   */
  async analyzeGrownTables(): Promise<{ analyzed: string[]; ms: number }> {
    const { rows } = await this.pool.query<{ name: string }>(TABLES_TO_ANALYZE_SQL);
    const analyzed: string[] = [];
    let ms = 0;
    for (const { name } of rows) {
      const client = await this.pool.connect();
      let failed: Error | undefined;
      try {
        const started = performance.now();
        // The name comes from the catalog already quoted (regclass). A sample of 3,000 rows instead of
        // PostgreSQL's 30,000: enough to tell a key from a shop's id, and a tenth of the rows to read
        // while the one session waits (with the default, a pass over the bench's 40,000 payments held it
        // for up to 1.5 s).
        await client.query(`BEGIN; SET LOCAL default_statistics_target = ${STATISTICS_TARGET}; ANALYZE ${name}; COMMIT`);
        ms += performance.now() - started;
        analyzed.push(name);
      } catch (error) {
        failed = error as Error;
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release(failed);
      }
    }
    return { analyzed, ms: Math.round(ms) };
  }
}

/**
 * `relpages` and `reltuples` are the size recorded by the last ANALYZE, VACUUM or CREATE INDEX
 * (`reltuples` -1 before any of them). Only ANALYZE writes column statistics (`pg_stats`, which needs
 * no superuser, unlike `pg_statistic`), so a table whose rows a CREATE INDEX (a migration's) counted
 * but no ANALYZE ever saw is found by their absence. The current size is read from the table's files.
 */
/** PostgreSQL's default is 100; ANALYZE samples 300 rows per unit. */
const STATISTICS_TARGET = 10;

const TABLES_TO_ANALYZE_SQL = `
  SELECT c.oid::regclass::text AS name
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL (SELECT pg_relation_size(c.oid) / current_setting('block_size')::int AS pages) size
  WHERE n.nspname = current_schema() AND c.relkind = 'r' AND size.pages > 0
    AND (c.reltuples < 0
      OR (c.reltuples > 0 AND NOT EXISTS (SELECT 1 FROM pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = c.relname))
      OR size.pages >= GREATEST(c.relpages + 1, c.relpages * 1.2))
  ORDER BY c.relname`;
