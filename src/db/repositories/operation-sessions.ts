import type { Prisma } from '@prisma/client';

/**
 * What refund, capture and void sessions share in the database: the columns every one stores from
 * Shopify's request, and the reads and writes that do not depend on the kind. Each kind's repository
 * builds on this with its own table and columns.
 */
export interface NewOperationSession {
  shopId: string;
  paymentSessionId: string;
  shopifyId: string;
  gid: string;
  test: boolean;
  merchantLocale: string | null;
  proposedAt: Date | null;
  rawRequest: Prisma.InputJsonValue;
  requestFingerprint: string;
  apiVersion: string;
  shopifyRequestId: string | null;
  status: 'RECEIVED' | 'REJECTED';
  rejectionCode?: string;
  rejectionMessage?: string;
  decidedAt?: Date;
  /** When it was received, by the app's clock (retention counts from it). */
  createdAt?: Date;
}

/** The part of a Prisma model delegate these reads and writes use (refundSession, captureSession, voidSession). */
export interface SessionTable<Row> {
  findUnique(args: { where: { id: string } | { shopId_shopifyId: { shopId: string; shopifyId: string } } }): Promise<Row | null>;
  findMany(args: { where: { paymentSessionId: string }; orderBy: { createdAt: 'asc' } }): Promise<Row[]>;
  updateMany(args: { where: { id: string; status?: 'RECEIVED' }; data: Record<string, unknown> }): Promise<{ count: number }>;
  createMany(args: { data: Array<Record<string, unknown>>; skipDuplicates: true }): Promise<{ count: number }>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export abstract class OperationSessionRepository<Row, Record> {
  protected constructor(
    protected readonly table: SessionTable<Row>,
    private readonly toRecord: (row: Row) => Record,
  ) {}

  /** Inserts unless (shop, Shopify id) is taken: ON CONFLICT DO NOTHING, safe inside a transaction. */
  protected async insert(data: { [key: string]: unknown }): Promise<boolean> {
    const { count } = await this.table.createMany({ data: [data], skipDuplicates: true });
    return count === 1;
  }

  async findById(id: string): Promise<Record | null> {
    if (!UUID.test(id)) return null;
    const row = await this.table.findUnique({ where: { id } });
    return row ? this.toRecord(row) : null;
  }

  async findByShopifyId(shopId: string, shopifyId: string): Promise<Record | null> {
    const row = await this.table.findUnique({ where: { shopId_shopifyId: { shopId, shopifyId } } });
    return row ? this.toRecord(row) : null;
  }

  async listForPayment(paymentSessionId: string): Promise<Record[]> {
    return (await this.table.findMany({ where: { paymentSessionId }, orderBy: { createdAt: 'asc' } })).map(this.toRecord);
  }

  /** Refused before Flex carried it out (by the app, or by Flex outright): nothing moved. */
  async reject(id: string, rejectionCode: string, rejectionMessage: string, now: Date): Promise<boolean> {
    const { count } = await this.table.updateMany({ where: { id, status: 'RECEIVED' }, data: { status: 'REJECTED', rejectionCode, rejectionMessage, decidedAt: now } });
    return count === 1;
  }

  /** What Shopify last acknowledged (RESOLVED, REJECTED). */
  async recordShopifyState(id: string, shopifyState: string): Promise<void> {
    await this.table.updateMany({ where: { id }, data: { shopifyState } });
  }
}
