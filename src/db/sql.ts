import { Prisma } from '@prisma/client';
import { types as pgTypes, type Pool } from 'pg';

/**
 * SQL as written, for the repositories' hot statements: `sql.query<Row>\`SELECT …\`` with the same
 * tagged templates as Prisma's `$queryRaw`. Outside a transaction it goes to the `pg` pool directly,
 * the cheapest way measured (about a third of `$queryRaw`'s CPU, bench/README-queries.md); inside a
 * transaction it must go through Prisma's transaction client, which holds the connection.
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

export function poolSql(pool: Pool): SqlRunner {
  const run = (strings: TemplateStringsArray, values: unknown[]) => {
    const statement = Prisma.sql(strings, ...values);
    return pool.query({ text: statement.text, values: statement.values as unknown[], types: asPrismaRaw });
  };
  return {
    async query<T>(strings: TemplateStringsArray, ...values: unknown[]) {
      return (await run(strings, values)).rows as T[];
    },
    async execute(strings: TemplateStringsArray, ...values: unknown[]) {
      return (await run(strings, values)).rowCount ?? 0;
    },
  };
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
