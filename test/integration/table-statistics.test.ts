import { TableStatistics } from '../../src/db/table-statistics';
import { eventually, useHarness } from '../support/harness';

/**
 * The embedded database has no autovacuum, so the app analyzes its tables as they grow
 * (db/table-statistics.ts); on PostgreSQL that is autovacuum's job. The probe is a table of its own
 * (autovacuum off for it, so PostgreSQL's cannot get there first), and what the last ANALYZE saw is in
 * pg_class: reltuples is the rows it counted, -1 before the first.
 */
describe('statistics of the tables as they grow', () => {
  // The app's own pass every 200 ms on the embedded database.
  const { h } = useHarness({ shop: false, tuning: { analyzeIntervalMs: 200 } });
  const embedded = process.env.TEST_DATABASE === 'embedded';

  const counted = async () => (await h.prisma.$queryRaw<Array<{ n: number }>>`SELECT reltuples::float8 AS n FROM pg_class WHERE relname = 'statistics_probe'`)[0]!.n;
  const add = (from: number, to: number) => h.prisma.$executeRawUnsafe(`INSERT INTO statistics_probe SELECT i, repeat('x', 100) FROM generate_series(${from}, ${to}) i`);
  const pass = () => new TableStatistics(h.components.database.pool).analyzeGrownTables();
  /** The app's pass analyzes the probe on the embedded database; on PostgreSQL the test runs the same pass. */
  const analyzedWith = async (rows: number) => {
    if (!embedded) expect((await pass()).analyzed).toContain('statistics_probe');
    await eventually(async () => (await counted()) === rows, 20_000, `the probe analyzed with ${rows} rows`);
  };
  /** Neither the app's pass (given time for several) nor one of the test's own analyzes it. */
  const notAnalyzedAgain = async (rows: number) => {
    if (embedded) await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await pass()).analyzed).not.toContain('statistics_probe');
    expect(await counted()).toBe(rows);
  };

  beforeAll(async () => {
    await h.prisma.$executeRawUnsafe('CREATE TABLE statistics_probe (n int, v text) WITH (autovacuum_enabled = false)');
  });

  it('runs only on the embedded database', () => {
    expect(h.components.tableStatistics !== undefined).toBe(embedded);
  });

  it('analyzes a table once it has rows, and again once it has grown by a fifth, not before', async () => {
    // Empty: nothing to learn.
    await notAnalyzedAgain(-1);

    await add(1, 2000);
    await analyzedWith(2000);
    await notAnalyzedAgain(2000);

    // About 5 % more pages: not yet.
    await add(2001, 2100);
    await notAnalyzedAgain(2000);

    // A fifth more than when it was analyzed.
    await add(2101, 2500);
    await analyzedWith(2500);
  });
});
