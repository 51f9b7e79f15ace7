import { composeApp } from '../../src/app/composition-root';
import { openDatabase, type Database } from '../../src/db/database';
import type { Repositories } from '../../src/db/repositories';
import { isTransientDatabaseConflict } from '../../src/lib/database-unavailable';
import { shopifySessionId, type ShopId } from '../../src/lib/ids';
import { createLogger } from '../../src/lib/logger';
import { normalizeShopDomain } from '../../src/lib/shop-domain';
import { useHarness } from '../support/harness';

/**
 * The hot statements are prepared, on PostgreSQL too (db/sql.ts). A migration that adds a column under
 * a prepared `SELECT *` (another instance's, in a rolling deploy) makes PostgreSQL refuse the statement
 * on every connection that prepared it, before running it: the app must neither fail that connection's
 * requests for good nor lose the work.
 */
describe('prepared statements across a migration', () => {
  // The app's own periodic passes stay out of the way: on the embedded database a reconciler pass
  // between the migration and the next statement would find its own prepared statement refused, and
  // the pool would replace the one connection (with it every statement prepared on the session,
  // database.ts), so the transaction below would prepare afresh instead of meeting the refusal.
  const { h } = useHarness({ shop: false, tuning: { reconcileIntervalMs: 60 * 60 * 1000, refundPollIntervalMs: 60 * 60 * 1000, workerPollIntervalMs: 60 * 60 * 1000 } });
  // One connection, so that the statement prepared is the one used next (PGlite has only one anyway).
  let own: { database: Database; components: ReturnType<typeof composeApp> } | undefined;
  const app = async () => {
    if (process.env.TEST_DATABASE !== 'postgres') return h.components;
    if (!own) {
      const database = await openDatabase({ databaseUrl: h.config.databaseUrl, dataDir: h.config.dataDir, poolSize: 1, migrate: false });
      own = { database, components: composeApp(h.config, database, createLogger({ level: 'silent' })) };
    }
    return own.components;
  };
  afterAll(async () => {
    await own?.database.close();
  });

  const migrationAdds = (column: string) => h.prisma.$executeRawUnsafe(`ALTER TABLE "PaymentSession" ADD COLUMN "${column}" integer`);
  const nothingFound = null;

  it('sends a refused statement again outside a transaction; inside one, fails it as a transient conflict and drops the connection', async () => {
    const { repos, transactor } = await app();
    const shopId = (await h.components.repos.shops.upsertActive(normalizeShopDomain('prepared-statements.myshopify.com')!, new Date())).id as ShopId;
    // `SELECT * FROM "PaymentSession"`: its result's columns are the table's.
    const read = (r: Repositories) => r.payments.findByShopifyId(shopId, shopifySessionId('no-such-session'));

    expect(await read(repos)).toEqual(nothingFound);
    await migrationAdds('addedByAMigration1');
    // Refused on the connection that prepared it, sent again unnamed: the caller sees nothing of it.
    expect(await read(repos)).toEqual(nothingFound);

    expect(await transactor.runSql((tx) => read(tx))).toEqual(nothingFound);
    await migrationAdds('addedByAMigration2');
    // In a transaction it cannot be sent again: the transaction fails, and is answered as a conflict to retry (503).
    const failed: unknown = await transactor.runSql((tx) => read(tx)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(Error);
    expect(isTransientDatabaseConflict(failed)).toBe(true);
    // Its connection was dropped, not given back: the retry prepares the statement afresh and succeeds.
    expect(await transactor.runSql((tx) => read(tx))).toEqual(nothingFound);
    expect(await read(repos)).toEqual(nothingFound);

    // Dropped too when the work catches the refusal itself (its transaction then rolls back at COMMIT).
    await transactor.runSql((tx) => read(tx));
    await migrationAdds('addedByAMigration3');
    await expect(transactor.runSql((tx) => read(tx).then(() => 'read', () => 'caught'))).rejects.toThrow(/rolled back at COMMIT/);
    expect(await transactor.runSql((tx) => read(tx))).toEqual(nothingFound);
  });

  it("keeps the database's generic plan of a prepared statement once it has made five for its parameters", async () => {
    const { repos } = await app();
    const shopId = (await h.components.repos.shops.upsertActive(normalizeShopDomain('generic-plans.myshopify.com')!, new Date())).id as ShopId;
    for (let i = 0; i < 8; i++) await repos.payments.findByShopifyId(shopId, shopifySessionId(`no-such-session-${i}`));
    // Prepared statements belong to their connection: asked on the same one (the only one of `own`, and
    // the embedded database's one session).
    const pool = process.env.TEST_DATABASE === 'postgres' ? own!.database.pool : h.components.database.pool;
    const { rows } = await pool.query<{ generic_plans: string; custom_plans: string }>(
      `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE 'SELECT * FROM "PaymentSession" WHERE "shopId" = $1%'`,
    );
    expect(rows).toHaveLength(1);
    // PostgreSQL's default (plan_cache_mode = auto): five plans for the parameters, then the generic
    // plan for as long as it costs no more than they did. force_custom_plan would make 8 and 0.
    expect(Number(rows[0]!.custom_plans)).toBeLessThanOrEqual(5);
    expect(Number(rows[0]!.generic_plans)).toBeGreaterThanOrEqual(3);
  });
});
