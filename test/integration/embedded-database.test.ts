import { randomUUID } from 'node:crypto';
import { composeApp } from '../../src/app/composition-root';
import type { PaymentId } from '../../src/lib/ids';
import { createLogger } from '../../src/lib/logger';
import { useHarness } from '../support/harness';

/**
 * The embedded database (src/db/embedded-postgres.ts): PGlite is one session, whose prepared
 * statements (src/db/sql.ts) outlive the connections to it.
 * (Embedded project only: on PostgreSQL nothing here applies.)
 */
const onEmbedded = process.env.TEST_DATABASE === 'embedded' ? describe : describe.skip;

onEmbedded('the embedded database', () => {
  const { h } = useHarness({ shop: false });

  it('gives a statement one name for every part of the app composed on it', async () => {
    // A second outbox worker on the same database (as the outbox test's instances are): its first
    // statement must not take a name the first app already gave another text in the same session
    // (the harness's app has prepared its worker's claim first, so with names per part of the app
    // this statement would get the claim's name).
    const other = composeApp(h.config, h.components.database, createLogger({ level: 'silent' }), { clock: h.clock });
    expect(await other.repos.shops.findById(randomUUID())).toBeNull();
    await expect(other.transactor.runSql((repos) => repos.payments.findById(randomUUID() as PaymentId))).resolves.toBeNull();
    expect(await h.components.repos.shops.findById(randomUUID())).toBeNull();
  });

  it('prepares its statements again after a failed statement made the pool replace its connection', async () => {
    const { pool } = h.components.database;
    const { repos } = h.components;
    expect(await repos.payments.findById(randomUUID() as PaymentId)).toBeNull();
    // Outside a transaction, the pool drops the connection a statement failed on, whatever the error
    // (a unique violation the app expects, say); the next statement runs on a new connection.
    await expect(pool.query('SELECT 1/0')).rejects.toThrow(/division by zero/);
    expect(await repos.payments.findById(randomUUID() as PaymentId)).toBeNull();
    await expect(h.components.transactor.runSql((r) => r.payments.findById(randomUUID() as PaymentId))).resolves.toBeNull();
  });

  it('prepares its statements again on a connection that replaced a lost one', async () => {
    const { pool } = h.components.database;
    const { repos } = h.components;
    expect(await repos.payments.findById(randomUUID() as PaymentId)).toBeNull();
    // The pool drops its one connection (as after a connection error); the session keeps what the
    // old connection prepared, and the new connection does not know it.
    const client = await pool.connect();
    client.release(true);
    expect(await repos.payments.findById(randomUUID() as PaymentId)).toBeNull();
    await expect(h.components.transactor.runSql((r) => r.payments.findById(randomUUID() as PaymentId))).resolves.toBeNull();
  });
});
