import { runCliBesideApp } from '../support/cli';
import { useHarness } from '../support/harness';

/**
 * `npm run cli -- db:vacuum`: the embedded database is PostgreSQL in single-user mode, which runs no
 * autovacuum, so an operator vacuums it (README "Performance"). The probe is what VACUUM (ANALYZE)
 * leaves in the catalog: a table never vacuumed or analyzed has reltuples -1, and afterwards the count
 * of its rows.
 */
describe('the db:vacuum command', () => {
  const { h } = useHarness({ shop: false });

  const reltuples = async () => (await h.prisma.$queryRaw<Array<{ n: number }>>`SELECT reltuples::float8 AS n FROM pg_class WHERE relname = 'vacuum_probe'`)[0]!.n;
  /** Set by VACUUM alone: pages whose rows every transaction sees (none before, the table never vacuumed). */
  const allVisiblePages = async () => (await h.prisma.$queryRaw<Array<{ n: number }>>`SELECT relallvisible::int AS n FROM pg_class WHERE relname = 'vacuum_probe'`)[0]!.n;
  /** Written by ANALYZE alone: the planner's statistics of the table's columns. */
  const analyzedColumns = async () => (await h.prisma.$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM pg_stats WHERE tablename = 'vacuum_probe'`)[0]!.n;

  it('vacuums and analyzes the database', async () => {
    await h.prisma.$executeRawUnsafe('CREATE TABLE vacuum_probe (n int, v text)');
    await h.prisma.$executeRawUnsafe(`INSERT INTO vacuum_probe SELECT i, 'x' FROM generate_series(1, 200) i`);
    await h.prisma.$executeRawUnsafe(`UPDATE vacuum_probe SET v = 'y'`);
    // PostgreSQL's autovacuum may have got there first; the embedded database never does.
    if (process.env.TEST_DATABASE === 'embedded') {
      expect(await reltuples()).toBe(-1);
      expect(await allVisiblePages()).toBe(0);
      expect(await analyzedColumns()).toBe(0);
    }
    const result = await runCliBesideApp(h, ['db:vacuum']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Vacuumed and analyzed .+ in \d+\.\d s\.\n$/);
    expect(await reltuples()).toBe(200);
    expect(await allVisiblePages()).toBeGreaterThan(0);
    expect(await analyzedColumns()).toBe(2);
  });

  it('takes no arguments', async () => {
    const result = await runCliBesideApp(h, ['db:vacuum', '--full']);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('db:vacuum takes no arguments');
  });
});
