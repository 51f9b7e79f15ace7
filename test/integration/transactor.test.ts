import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { transactionOnClient, type SqlRunner } from '../../src/db/sql';
import { useHarness } from '../support/harness';

/**
 * Transactor.runSql: a transaction on a pg connection of its own, for hot paths written as SQL. It
 * commits everything or nothing, and a repository that reaches for Prisma's query API inside it is
 * refused by name instead of silently running outside the transaction.
 */
describe('transactions on a pg connection (Transactor.runSql)', () => {
  const { h } = useHarness({ shop: false });
  const job = (dedupeKey: string) => ({ kind: 'test.transactor', dedupeKey, payload: {}, runAt: new Date() });

  it('commits every statement of the work, and wakes the workers of the jobs it wrote', async () => {
    const key = `commit-${randomUUID()}`;
    const woken: Array<string[] | undefined> = [];
    h.components.transactor.onJobsEnqueued((kinds) => woken.push(kinds ? [...kinds] : undefined));
    await h.components.transactor.runSql(async (tx) => {
      await tx.jobs.enqueue(job(key));
      // The transaction's own writes are visible inside it, before the commit.
      expect((await tx.jobs.enqueue(job(key))).dedupeKey).toBe(key);
    });
    expect(await h.prisma.job.count({ where: { dedupeKey: key } })).toBe(1);
    expect(woken).toContainEqual(['test.transactor']);
  });

  it('rolls everything back when the work fails', async () => {
    const key = `rollback-${randomUUID()}`;
    await expect(
      h.components.transactor.runSql(async (tx) => {
        await tx.jobs.enqueue(job(key));
        throw new Error('the work failed');
      }),
    ).rejects.toThrow('the work failed');
    expect(await h.prisma.job.count({ where: { dedupeKey: key } })).toBe(0);
  });

  it('fails, and keeps nothing, when a statement in it failed even though the work caught the error', async () => {
    const key = `caught-${randomUUID()}`;
    await expect(
      h.components.transactor.runSql(async (tx) => {
        await tx.jobs.enqueue(job(key));
        // The cast fails in the database, which then refuses the rest of the transaction.
        await tx.payments.findById('not-a-uuid' as never).catch(() => null);
      }),
    ).rejects.toThrow(/rolled back at COMMIT/);
    expect(await h.prisma.job.count({ where: { dedupeKey: key } })).toBe(0);
  });

  it("refuses Prisma's query API inside it, naming the model, and rolls back", async () => {
    const key = `prisma-${randomUUID()}`;
    await expect(
      h.components.transactor.runSql(async (tx) => {
        await tx.jobs.enqueue(job(key));
        await tx.jobs.countByStatus();
      }),
    ).rejects.toThrow(/Prisma's job\.groupBy was used in a Transactor\.runSql transaction/);
    expect(await h.prisma.job.count({ where: { dedupeKey: key } })).toBe(0);
    // The connection went back to the pool in a usable state.
    expect(await h.components.repos.shops.findByDomain('nobody.myshopify.com' as never)).toBeNull();
  });

  /** The database's answers on a connection: one ReadyForQuery per round trip. */
  const roundTripsOn = (client: PoolClient) => {
    const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
    let count = 0;
    const listener = () => (count += 1);
    connection.on('readyForQuery', listener);
    return { count: () => count, stop: () => connection.removeListener('readyForQuery', listener) };
  };
  const inTransaction = async (client: PoolClient, work: (sql: SqlRunner) => Promise<void>) => {
    const { statementNames } = h.components.database;
    const transaction = transactionOnClient(client, statementNames);
    await work(transaction.sql);
    if (transaction.begun) await client.query('COMMIT');
  };
  const xid = async (sql: SqlRunner, tag: string) => (await sql.query<{ xid: string }>`SELECT pg_current_xact_id()::text AS xid, ${tag}::text AS tag`)[0]!.xid;

  it('sends BEGIN with the first statement once the connection has it prepared: one round trip less, the statement inside the transaction', async () => {
    // Written before the connection is taken: the embedded database's pool has only that one.
    const existing = await h.components.repos.jobs.enqueue(job(`begin-${randomUUID()}`));
    const client = await h.components.database.pool.connect();
    const trips = roundTripsOn(client);
    let clean = false;
    try {
      const xids: string[] = [];
      // First on this connection: the statement is not prepared yet, so BEGIN goes on its own.
      await inTransaction(client, async (sql) => {
        xids.push(await xid(sql, 'a'), await xid(sql, 'b'));
      });
      expect(trips.count()).toBe(4); // BEGIN, two statements, COMMIT
      await inTransaction(client, async (sql) => {
        xids.push(await xid(sql, 'c'), await xid(sql, 'd'));
      });
      expect(trips.count()).toBe(4 + 3); // BEGIN with the first statement, the second, COMMIT
      // Both statements of each transaction ran in it (one transaction id), and the two transactions were two.
      expect(xids[0]).toBe(xids[1]);
      expect(xids[2]).toBe(xids[3]);
      expect(xids[2]).not.toBe(xids[0]);
      // A first statement that returns no rows (an UPDATE: its count) comes back as its own result, not
      // BEGIN's (whose count is none, read as 0).
      const touch = (sql: SqlRunner) => sql.execute`UPDATE "Job" SET "updatedAt" = "updatedAt" WHERE id = ${existing.id}::uuid`;
      await inTransaction(client, async (sql) => {
        expect(await touch(sql)).toBe(1);
      });
      await inTransaction(client, async (sql) => {
        const before = trips.count();
        expect(await touch(sql)).toBe(1);
        expect(trips.count()).toBe(before + 1);
      });
      clean = true;
    } finally {
      trips.stop();
      // A connection left in a transaction by a failed assertion is not given back for others' use.
      client.release(!clean);
    }
  });

  it('rolls back when the first statement, sent with BEGIN, fails; the connection stays usable', async () => {
    const client = await h.components.database.pool.connect();
    const { statementNames } = h.components.database;
    const trips = roundTripsOn(client);
    let clean = false;
    try {
      const asUuid = (sql: SqlRunner, value: string) => sql.query`SELECT ${value}::uuid AS id`;
      await inTransaction(client, async (sql) => {
        await asUuid(sql, randomUUID());
      });
      const transaction = transactionOnClient(client, statementNames);
      const before = trips.count();
      await expect(asUuid(transaction.sql, 'not-a-uuid')).rejects.toThrow(/uuid/);
      // The transaction BEGIN opened is aborted: the database refuses anything but its end.
      await expect(client.query('SELECT 1')).rejects.toThrow(/current transaction is aborted/);
      await client.query('ROLLBACK');
      // A failed query is rejected on the database's error, before its ReadyForQuery arrives; a
      // successful one (the ROLLBACK) only on its ReadyForQuery, so all three have been counted by now:
      // BEGIN and the failing statement together, SELECT 1, ROLLBACK.
      expect(trips.count()).toBe(before + 3);
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      clean = true;
    } finally {
      trips.stop();
      client.release(!clean);
    }
  });

  it('begins nothing until the first statement: a transaction whose work runs none has sent nothing (runSql then sends no COMMIT)', async () => {
    const client = await h.components.database.pool.connect();
    const trips = roundTripsOn(client);
    try {
      const transaction = transactionOnClient(client, h.components.database.statementNames);
      await new Promise((resolve) => setImmediate(resolve));
      expect(transaction.begun).toBe(false);
      expect(trips.count()).toBe(0);
      // Nothing open on the connection: a statement outside the transaction machinery runs on its own.
      expect((await client.query('SELECT pg_current_xact_id_if_assigned() IS NULL AS none')).rows).toEqual([{ none: true }]);
    } finally {
      trips.stop();
      client.release();
    }
  });
});
