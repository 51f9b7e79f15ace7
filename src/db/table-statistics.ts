import type { Pool } from 'pg';

/**
 * ANALYZE for the embedded database, which has no autovacuum (PGlite is PostgreSQL in single-user
 * mode). Without it the planner keeps guessing at every table as if it were still empty, and the
 * plans it keeps for the prepared statements (sql.ts) were made from those guesses: with several
 * indexes that start with `shopId` and no statistics to tell them apart, a lookup by
 * `(shopId, flexCheckoutSessionId)` can walk the shop's every payment through another index, more
 * of them the longer the shop sells. PostgreSQL's autovacuum analyzes a table once a tenth of it has
 * changed; this cannot see changes (PGlite does not report them while it runs), so it goes by size:
 * a table with rows that was never analyzed, or that has grown by a fifth and at least a page since it
 * was, is analyzed. ANALYZE also makes the database plan its prepared statements again. On
 * PostgreSQL autovacuum does this, so it is not run there.
 */
export class TableStatistics {
  constructor(private readonly pool: Pool) {}

  /** Analyzes the tables of the app's schema that grew since their last ANALYZE; returns their names. */
  async analyzeGrownTables(): Promise<{ analyzed: string[] }> {
    const { rows } = await this.pool.query<{ name: string }>(GROWN_TABLES_SQL);
    const analyzed = rows.map((row) => row.name);
    // The names come from the catalog already quoted (regclass), one statement for all of them.
    if (analyzed.length > 0) await this.pool.query(`ANALYZE ${analyzed.join(', ')}`);
    return { analyzed };
  }
}

/**
 * `relpages` and `reltuples` are what the last ANALYZE (or VACUUM) saw; `reltuples` is -1 for a
 * table never analyzed. The current size is read from the table's files.
 */
const GROWN_TABLES_SQL = `
  SELECT c.oid::regclass::text AS name
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL (SELECT pg_relation_size(c.oid) / current_setting('block_size')::int AS pages) size
  WHERE n.nspname = current_schema() AND c.relkind = 'r' AND size.pages > 0
    AND (c.reltuples < 0 OR size.pages >= GREATEST(c.relpages + 1, c.relpages * 1.2))
  ORDER BY c.relname`;
