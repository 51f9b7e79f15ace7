import { Prisma } from '@prisma/client';
import { Query, types as pgTypes, type Connection, type Pool, type PoolClient, type QueryResult } from 'pg';
import { isStalePreparedStatement } from '../lib/database-unavailable';

/**
 * SQL as written, for the repositories' hot statements: `sql.query<Row>\`SELECT …\`` with the same
 * tagged templates as Prisma's `$queryRaw`. Outside a transaction it goes to the `pg` pool directly,
 * the cheapest way measured (about a third of `$queryRaw`'s CPU, bench/README-queries.md); inside a
 * transaction it goes to that transaction's connection: Prisma's transaction client when Prisma runs
 * it (Transactor.run), or the pg client itself (Transactor.runSql).
 */
export interface SqlRunner {
  query<T>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T[]>;
  /** The number of rows the statement changed. */
  execute(strings: TemplateStringsArray, ...values: unknown[]): Promise<number>;
  /** Whether every statement runs in one transaction (a lock taken by one is held for the next ones). */
  readonly inTransaction: boolean;
}

const INT8 = 20;

/** Rows as `$queryRaw` gives them: `bigint` columns as BigInt (pg's default is a string). */
const asPrismaRaw = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === INT8) return (value: string) => BigInt(value);
    return pgTypes.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
  },
};

/**
 * Names for statements, so a connection parses each one once and then only binds and executes it.
 * On the embedded database, where parsing and planning run in WASM (PGlite), that cut the CPU per
 * statement by a quarter (a third without V8's optimizing tier, src/db/embedded-node-flags.ts). On
 * PostgreSQL it also spares planning: after five executions PostgreSQL keeps a statement's generic plan
 * when it is estimated to cost no more than the plans made for each execution's values (its default,
 * `plan_cache_mode = auto`), and planning the data-modifying CTEs had been about 40 % of the
 * database's CPU per payment. A generic plan does not know the values: a statement whose best plan
 * depends on them (a range whose width varies by orders of magnitude, a skewed column) is better sent
 * unnamed, through Prisma or `pool.query`. And it is only as good as the statistics it was made from:
 * made on tables never analyzed (a database minutes old) it may pick any index that starts with
 * `shopId`, and keeps it until an ANALYZE, autovacuum's or the embedded database's own
 * (db/table-statistics.ts), makes PostgreSQL plan again. A migration that adds a column under a
 * prepared `SELECT *` makes PostgreSQL refuse it on that connection
 * (isStalePreparedStatement): outside a transaction the statement is sent again unnamed, on another
 * connection; in one, the transaction fails as a transient conflict and its connection is dropped.
 * One name per statement text, the same on every connection and for every part of the app on the
 * database (on PGlite a name belongs to its one session, which outlives connections: database.ts owns
 * the names); texts past the first MAX_NAMED_STATEMENTS stay unnamed, so a statement built with a
 * varying shape cannot grow the database's memory without bound.
 */
export class StatementNames {
  private readonly names = new Map<string, string>();

  of(text: string): string | undefined {
    const known = this.names.get(text);
    if (known !== undefined || this.names.size >= MAX_NAMED_STATEMENTS) return known;
    const name = `app_${this.names.size + 1}`;
    this.names.set(text, name);
    return name;
  }
}

const MAX_NAMED_STATEMENTS = 500;

type Run = (strings: TemplateStringsArray, values: unknown[]) => Promise<QueryResult>;
type StatementQuery = { name: string | undefined; text: string; values: unknown[]; types: typeof asPrismaRaw };

function statementOf(names: StatementNames | undefined, strings: TemplateStringsArray, values: unknown[]): StatementQuery {
  const statement = Prisma.sql(strings, ...values);
  return { name: names?.of(statement.text), text: statement.text, values: statement.values as unknown[], types: asPrismaRaw };
}

function runOn(target: Pool | PoolClient, names: StatementNames | undefined, onStaleInTransaction?: (error: Error) => void, send: (query: StatementQuery) => Promise<QueryResult> = (query) => target.query(query)): Run {
  return async (strings, values) => {
    const query = statementOf(names, strings, values);
    try {
      return await send(query);
    } catch (error) {
      if (query.name !== undefined && isStalePreparedStatement(error)) {
        // In a transaction: its connection must not be given back, even if the caller catches this.
        if (onStaleInTransaction) onStaleInTransaction(error as Error);
        // Outside one it did not run, and the pool has dropped the connection that prepared it: unnamed, it runs anywhere.
        else return target.query({ ...query, name: undefined });
      }
      throw error;
    }
  };
}

function runner(run: Run, inTransaction: boolean): SqlRunner {
  return {
    inTransaction,
    async query<T>(strings: TemplateStringsArray, ...values: unknown[]) {
      return (await run(strings, values)).rows as T[];
    },
    async execute(strings: TemplateStringsArray, ...values: unknown[]) {
      return (await run(strings, values)).rowCount ?? 0;
    },
  };
}

/** Each statement on its own connection from the pool, committed on its own. */
export function poolSql(pool: Pool, names?: StatementNames): SqlRunner {
  return runner(runOn(pool, names), false);
}

/** A transaction on one connection (Transactor.runSql), begun with its first statement. */
export interface SqlTransaction {
  readonly sql: SqlRunner;
  /** Whether BEGIN has gone to the database: a transaction that ran no statement has nothing to commit or roll back. */
  readonly begun: boolean;
}

/**
 * Every statement on one connection, in a transaction that begins with the first of them: BEGIN is
 * sent in the same write as that statement, and answered in the same round trip (BeginThenQuery),
 * when the connection has that statement prepared already; else on its own first. `onConnectionUnusable`
 * is told when the connection must be dropped, not given back to the pool: it holds a prepared
 * statement that no longer fits the schema, or `pg` answered BEGIN and the statement in a way this
 * code does not expect.
 */
export function transactionOnClient(client: PoolClient, names?: StatementNames, onConnectionUnusable: (error: Error) => void = () => undefined): SqlTransaction {
  let begun = false;
  const send = async (query: StatementQuery): Promise<QueryResult> => {
    if (begun) return client.query(query);
    begun = true;
    if (query.name === undefined || preparedOn(client)?.[query.name] !== query.text) {
      await client.query('BEGIN');
      return client.query(query);
    }
    return new Promise<QueryResult>((resolve, reject) => {
      const callback = (error: Error | undefined, results: unknown) => {
        if (error) return reject(error);
        // BEGIN's result, then the statement's. Anything else means pg no longer works as
        // BeginThenQuery assumes: the statement may not have run inside a transaction, so the work
        // fails (and rolls back) rather than go on without one.
        if (!Array.isArray(results) || results.length !== 2 || (results[0] as QueryResult).command !== 'BEGIN') {
          const unexpected = new Error('pg did not answer BEGIN and the statement sent with it as two results (see BeginThenQuery in db/sql.ts)');
          onConnectionUnusable(unexpected);
          return reject(unexpected);
        }
        resolve(results[1] as QueryResult);
      };
      client.query(new BeginThenQuery(query, callback));
    });
  };
  return {
    sql: runner(runOn(client, names, onConnectionUnusable, send), true),
    get begun() {
      return begun;
    },
  };
}

/**
 * The statements `pg` has prepared on this connection, by name (pg's own record:
 * Client.connection.parsedStatements, not its documented API). Should an upgrade move it, this finds
 * nothing and BEGIN goes on its own: one round trip more, nothing unsafe.
 */
function preparedOn(client: PoolClient): Record<string, string> | undefined {
  return (client as unknown as { connection?: { parsedStatements?: Record<string, string> } }).connection?.parsedStatements;
}

/**
 * A prepared statement with BEGIN ahead of it in one write: Parse, Bind and Execute of BEGIN, then
 * the statement's Bind, Describe and Execute, then one Sync. PostgreSQL runs the messages in order
 * and answers them all before its one ReadyForQuery, so the transaction costs one round trip less
 * (each is a send that wakes another process: the app's largest cost per statement, README
 * "Performance"). If the statement fails, the transaction is aborted and the caller's ROLLBACK ends it,
 * as before.
 *
 * Only for a statement already prepared on the connection: pg records the statement it is running as
 * prepared whenever a ParseComplete arrives, so had the statement's own Parse been in the batch and
 * failed, BEGIN's ParseComplete would have recorded it as prepared, and every later use of it on this
 * connection would fail. Here the only Parse is BEGIN's, and the record stays true.
 *
 * This leans on pg 8's internals, not its documented API: Query#submit calling prepare() (corked, so
 * one write), the client's ParseComplete bookkeeping above, and Query gathering a second command's
 * result into an array as it does for a multi-statement query. The callback in transactionOnClient
 * checks the shape it gets; test/integration/transactor.test.ts counts the round trips and checks
 * both statements share one transaction: run it on any upgrade of pg.
 */
class BeginThenQuery extends Query {
  prepare(connection: Connection): void {
    // The second argument is @types/pg's `more`, which pg itself ignores: the stream is corked by submit().
    connection.parse({ text: 'BEGIN', name: '', types: [] }, true);
    connection.bind({ portal: '', statement: '', values: [] }, true);
    connection.execute({ portal: '' }, true);
    (Query.prototype as unknown as { prepare(connection: Connection): void }).prepare.call(this, connection);
  }
}

export function transactionSql(tx: Prisma.TransactionClient): SqlRunner {
  return {
    inTransaction: true,
    query<T>(strings: TemplateStringsArray, ...values: unknown[]) {
      return tx.$queryRaw<T[]>(Prisma.sql(strings, ...values));
    },
    execute(strings: TemplateStringsArray, ...values: unknown[]) {
      return tx.$executeRaw(Prisma.sql(strings, ...values));
    },
  };
}
