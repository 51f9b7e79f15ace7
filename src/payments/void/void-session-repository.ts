import type { Prisma, VoidSession } from '@prisma/client';
import type { DbClient } from '../../db/db-client';

export type { VoidStatus } from '@prisma/client';
export type VoidSessionRecord = VoidSession;

export interface NewVoidSession {
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
}

export class VoidSessionRepository {
  constructor(private readonly db: DbClient) {}

  /** Inserts unless (shop, Shopify id) is taken (ON CONFLICT DO NOTHING: safe in a transaction). */
  async insertIfNew(input: NewVoidSession): Promise<boolean> {
    const { count } = await this.db.voidSession.createMany({ data: [input], skipDuplicates: true });
    return count === 1;
  }

  findById(id: string): Promise<VoidSessionRecord | null> {
    return this.db.voidSession.findUnique({ where: { id } });
  }

  findByShopifyId(shopId: string, shopifyId: string): Promise<VoidSessionRecord | null> {
    return this.db.voidSession.findUnique({ where: { shopId_shopifyId: { shopId, shopifyId } } });
  }

  listForPayment(paymentSessionId: string): Promise<VoidSessionRecord[]> {
    return this.db.voidSession.findMany({ where: { paymentSessionId }, orderBy: { createdAt: 'asc' } });
  }

  async succeed(id: string, now: Date): Promise<boolean> {
    const { count } = await this.db.voidSession.updateMany({ where: { id, status: 'RECEIVED' }, data: { status: 'SUCCEEDED', decidedAt: now } });
    return count === 1;
  }

  async reject(id: string, rejectionCode: string, rejectionMessage: string, now: Date): Promise<boolean> {
    const { count } = await this.db.voidSession.updateMany({ where: { id, status: 'RECEIVED' }, data: { status: 'REJECTED', rejectionCode, rejectionMessage, decidedAt: now } });
    return count === 1;
  }

  async recordShopifyState(id: string, shopifyState: string): Promise<void> {
    await this.db.voidSession.updateMany({ where: { id }, data: { shopifyState } });
  }
}
