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

  // A name that must be quoted, as the app's tables' are.
  const PROBE = '"StatisticsProbe"';
  const counted = async (table = 'StatisticsProbe') => (await h.prisma.$queryRaw<Array<{ n: number }>>`SELECT reltuples::float8 AS n FROM pg_class WHERE relname = ${table}`)[0]!.n;
  const columnStatistics = async (table: string) => (await h.prisma.$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM pg_stats WHERE tablename = ${table}`)[0]!.n;
  const add = (from: number, to: number) => h.prisma.$executeRawUnsafe(`INSERT INTO ${PROBE} SELECT i, repeat('x', 100) FROM generate_series(${from}, ${to}) i`);
  const pass = () => new TableStatistics(h.components.database.pool).analyzeGrownTables();
  /** The app's pass analyzes the probe on the embedded database; on PostgreSQL the test runs the same pass. */
  const analyzedWith = async (rows: number) => {
    if (!embedded) expect((await pass()).analyzed).toContain(PROBE);
    await eventually(async () => (await counted()) === rows, 20_000, `the probe analyzed with ${rows} rows`);
  };
  /** Neither the app's pass (given time for several) nor one of the test's own analyzes it. */
  const notAnalyzedAgain = async (rows: number) => {
    if (embedded) await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await pass()).analyzed).not.toContain(PROBE);
    expect(await counted()).toBe(rows);
  };

  beforeAll(async () => {
    await h.prisma.$executeRawUnsafe(`CREATE TABLE ${PROBE} (n int, v text) WITH (autovacuum_enabled = false)`);
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

  it('analyzes a table whose rows a CREATE INDEX counted but no ANALYZE saw', async () => {
    // PostgreSQL 15 records the size whatever the table's autovacuum setting (off here, so that its
    // autovacuum cannot get there first); PGlite (PostgreSQL 18) only where it is on, and never runs it.
    await h.prisma.$executeRawUnsafe(`CREATE TABLE "IndexedProbe" (n int) WITH (autovacuum_enabled = ${embedded})`);
    // In one transaction, so that the app's own pass cannot analyze it before it is looked at.
    const before = await h.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`INSERT INTO "IndexedProbe" SELECT i FROM generate_series(1, 1000) i`);
      // A migration's index on a table in service: it records the table's size, not its columns' statistics.
      await tx.$executeRawUnsafe(`CREATE INDEX "IndexedProbe_n_idx" ON "IndexedProbe" (n)`);
      const [size] = await tx.$queryRaw<Array<{ n: number }>>`SELECT reltuples::float8 AS n FROM pg_class WHERE relname = 'IndexedProbe'`;
      const [columns] = await tx.$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM pg_stats WHERE tablename = 'IndexedProbe'`;
      return { counted: size!.n, columns: columns!.n };
    });
    expect(before).toEqual({ counted: 1000, columns: 0 });
    if (!embedded) expect((await pass()).analyzed).toContain('"IndexedProbe"');
    await eventually(async () => (await columnStatistics('IndexedProbe')) === 1, 20_000, 'the indexed probe analyzed');
  });
});
