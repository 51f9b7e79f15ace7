import { openDatabase } from '../../src/db/database';

export interface QueryCost {
  queries: number;
  /** CPU and wall time per call, ms: the same primary-key-like lookup through Prisma and through pg. */
  prisma: { cpuMs: number; wallMs: number };
  pg: { cpuMs: number; wallMs: number };
}

/**
 * What one query costs the app's process through Prisma (as the app sends them) and through the pg
 * driver directly: `prisma.shop.findUnique({ where: { domain } })` against the same SELECT on the
 * same pool, one at a time, after a warm-up. Run against the benchmark's PostgreSQL database.
 */
export async function measureQueryCost(databaseUrl: string, shopDomain: string, queries = 2000): Promise<QueryCost> {
  const database = await openDatabase({ databaseUrl, dataDir: '.', poolSize: 1, migrate: false });
  try {
    const time = async (fn: () => Promise<unknown>) => {
      for (let i = 0; i < 200; i++) await fn();
      const cpu = process.cpuUsage();
      const started = performance.now();
      for (let i = 0; i < queries; i++) await fn();
      const used = process.cpuUsage(cpu);
      return { cpuMs: (used.user + used.system) / 1000 / queries, wallMs: (performance.now() - started) / queries };
    };
    const prisma = await time(() => database.prisma.shop.findUnique({ where: { domain: shopDomain } }));
    const pg = await time(() => database.pool.query('SELECT * FROM "Shop" WHERE "domain" = $1', [shopDomain]));
    return { queries, prisma, pg };
  } finally {
    await database.close();
  }
}
