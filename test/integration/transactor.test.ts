import { randomUUID } from 'node:crypto';
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
});
