import { Prisma, type PrismaClient } from '@prisma/client';
import { secretContexts } from '../lib/secret-contexts';
import type { SecretBox } from '../lib/secret-box';

/**
 * Every column that holds a secret sealed with SecretBox, with the context it is sealed under.
 * `secrets:rotate` re-seals what is listed here; a new sealed column must be added here, or
 * removing an old key from the configuration would leave its values unreadable.
 */
interface SealedTable {
  table: string;
  label: string;
  /** The lowest id, for the first page (ids are compared in the column's own type, so the index serves). */
  firstCursor: string;
  idType: Prisma.Sql;
  /** Other columns the contexts are built from. */
  contextColumns: string[];
  columns: Array<{ name: string; context: (row: Record<string, string>) => string }>;
}

const SEALED_TABLES: SealedTable[] = [
  {
    table: 'FlexConnection',
    label: 'Flex API keys and webhook signing secrets',
    firstCursor: '00000000-0000-0000-0000-000000000000',
    idType: Prisma.sql`uuid`,
    contextColumns: ['shopId', 'mode'],
    columns: [
      { name: 'apiKeyCiphertext', context: (row) => secretContexts.flexApiKey(row.shopId!, row.mode!) },
      { name: 'webhookSecretCiphertext', context: (row) => secretContexts.flexWebhookSecret(row.shopId!, row.mode!) },
    ],
  },
  {
    table: 'Session',
    label: 'Shopify access and refresh tokens',
    firstCursor: '',
    idType: Prisma.sql`text`,
    contextColumns: [],
    columns: [
      { name: 'accessToken', context: (row) => secretContexts.shopifySessionToken(row.id!, 'access-token') },
      { name: 'refreshToken', context: (row) => secretContexts.shopifySessionToken(row.id!, 'refresh-token') },
    ],
  },
];

export interface RotationProgress {
  label: string;
  /** Rows re-sealed so far in this table, by this run. */
  done: number;
  /** Rows that held a secret not sealed with the newest key when this run started. */
  total: number;
}

export interface RotationFailure {
  table: string;
  id: string;
  column: string;
  reason: string;
}

export interface RotationReport {
  keyId: string;
  resealed: number;
  failures: RotationFailure[];
  /** Stopped before the end (asked to): run again to finish. */
  interrupted: boolean;
  /** Rows still holding a secret sealed with an older key. */
  remaining: number;
}

/**
 * Re-seals every stored secret with the newest key, so older keys can be removed from the
 * configuration. In batches, each its own transaction with its rows locked (a merchant saving a key
 * at the same moment waits, then is not overwritten); only values not already sealed with the newest
 * key are touched, so an interrupted run is finished by running it again and a finished one changes
 * nothing. A value no configured key opens is left as it is and reported.
 */
export class SecretRotation {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly box: SecretBox,
  ) {}

  /** Rows holding a secret sealed with an older key, per table. */
  async countStale(): Promise<Array<{ label: string; rows: number }>> {
    const counts = [];
    for (const table of SEALED_TABLES) {
      const [row] = await this.prisma.$queryRaw<Array<{ n: bigint }>>`
        SELECT count(*) AS n FROM ${Prisma.raw(`"${table.table}"`)} WHERE ${this.stale(table)}`;
      counts.push({ label: table.label, rows: Number(row?.n ?? 0) });
    }
    return counts;
  }

  async run(options: { batchSize: number; signal?: AbortSignal; onProgress?: (progress: RotationProgress) => void }): Promise<RotationReport> {
    const failures: RotationFailure[] = [];
    let resealed = 0;
    let interrupted = false;
    const totals = await this.countStale();
    for (const [index, table] of SEALED_TABLES.entries()) {
      const total = totals[index]!.rows;
      let done = 0;
      let cursor = table.firstCursor;
      while (total > 0) {
        if (options.signal?.aborted) {
          interrupted = true;
          break;
        }
        const batch = await this.prisma.$transaction((tx) => this.resealBatch(tx, table, cursor, options.batchSize, failures), { timeout: 60_000, maxWait: 60_000 });
        if (batch.rows === 0) break;
        cursor = batch.lastId;
        done += batch.resealed;
        resealed += batch.resealed;
        options.onProgress?.({ label: table.label, done, total });
        if (batch.rows < options.batchSize) break;
      }
      if (interrupted) break;
    }
    const remaining = (await this.countStale()).reduce((sum, t) => sum + t.rows, 0);
    return { keyId: this.box.currentKeyId, resealed, failures, interrupted, remaining };
  }

  private async resealBatch(
    tx: Prisma.TransactionClient,
    table: SealedTable,
    cursor: string,
    limit: number,
    failures: RotationFailure[],
  ): Promise<{ rows: number; resealed: number; lastId: string }> {
    const selected = [Prisma.sql`id::text AS id`, ...[...table.contextColumns, ...table.columns.map((c) => c.name)].map((c) => Prisma.raw(`"${c}"::text AS "${c}"`))];
    const rows = await tx.$queryRaw<Array<Record<string, string>>>`
      SELECT ${Prisma.join(selected)} FROM ${Prisma.raw(`"${table.table}"`)}
      WHERE id > ${cursor}::${table.idType} AND (${this.stale(table)})
      ORDER BY id LIMIT ${limit} FOR UPDATE`;
    let resealed = 0;
    for (const row of rows) {
      const changes: Prisma.Sql[] = [];
      for (const column of table.columns) {
        const sealed = row[column.name];
        if (!sealed || this.box.isCurrent(sealed)) continue;
        try {
          changes.push(Prisma.sql`${Prisma.raw(`"${column.name}"`)} = ${this.box.reseal(sealed, column.context(row))}`);
        } catch (error) {
          failures.push({ table: table.table, id: row.id!, column: column.name, reason: (error as Error).message });
        }
      }
      if (changes.length === 0) continue;
      await tx.$executeRaw`UPDATE ${Prisma.raw(`"${table.table}"`)} SET ${Prisma.join(changes)} WHERE id = ${row.id}::${table.idType}`;
      resealed++;
    }
    return { rows: rows.length, resealed, lastId: rows[rows.length - 1]?.id ?? cursor };
  }

  /** Rows with a value in a sealed column that is not sealed with the newest key ('' is no value). */
  private stale(table: SealedTable): Prisma.Sql {
    const prefix = `v2.${this.box.currentKeyId}.`;
    return Prisma.join(
      table.columns.map((c) => Prisma.sql`(coalesce(${Prisma.raw(`"${c.name}"`)}, '') <> '' AND NOT starts_with(${Prisma.raw(`"${c.name}"`)}, ${prefix}))`),
      ' OR ',
    );
  }
}
