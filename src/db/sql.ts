import { Prisma } from '@prisma/client';
import { types as pgTypes, type Pool, type PoolClient } from 'pg';

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
}

const INT8 = 20;

/** Rows as `$queryRaw` gives them: `bigint` columns as BigInt (pg's default is a string). */
const asPrismaRaw = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === INT8) return (value: string) => BigInt(value);
    return pgTypes.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
  },
};

function runOn(target: Pool | PoolClient) {
  return (strings: TemplateStringsArray, values: unknown[]) => {
    const statement = Prisma.sql(strings, ...values);
    return target.query({ text: statement.text, values: statement.values as unknown[], types: asPrismaRaw });
  };
}

function runner(run: ReturnType<typeof runOn>): SqlRunner {
  return {
    async query<T>(strings: TemplateStringsArray, ...values: unknown[]) {
      return (await run(strings, values)).rows as T[];
    },
    async execute(strings: TemplateStringsArray, ...values: unknown[]) {
      return (await run(strings, values)).rowCount ?? 0;
    },
  };
}

/** Each statement on its own connection from the pool, committed on its own. */
export function poolSql(pool: Pool): SqlRunner {
  return runner(runOn(pool));
}

/** Every statement on one connection: a transaction the caller began on it (Transactor.runSql). */
export function clientSql(client: PoolClient): SqlRunner {
  return runner(runOn(client));
}

export function transactionSql(tx: Prisma.TransactionClient): SqlRunner {
  return {
    query<T>(strings: TemplateStringsArray, ...values: unknown[]) {
      return tx.$queryRaw<T[]>(Prisma.sql(strings, ...values));
    },
    execute(strings: TemplateStringsArray, ...values: unknown[]) {
      return tx.$executeRaw(Prisma.sql(strings, ...values));
    },
  };
}
