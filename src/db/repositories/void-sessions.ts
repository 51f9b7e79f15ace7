import type { VoidSession } from '@prisma/client';
import type { DbClient } from '../db-client';

import type { PaymentId, ShopId } from '../../lib/ids';
import { OperationSessionRepository, type NewOperationSession, type SessionTable } from './operation-sessions';

export type { VoidStatus } from '@prisma/client';
export type VoidSessionRecord = Omit<VoidSession, 'paymentSessionId' | 'shopId'> & { paymentSessionId: PaymentId; shopId: ShopId };

export type NewVoidSession = NewOperationSession;

export class VoidSessionRepository extends OperationSessionRepository<VoidSession, VoidSessionRecord> {
  constructor(private readonly db: DbClient) {
    super(db.voidSession as unknown as SessionTable<VoidSession>, toRecord);
  }

  insertIfNew(input: NewVoidSession): Promise<boolean> {
    return this.insert({ ...input });
  }

  async succeed(id: string, now: Date): Promise<boolean> {
    const { count } = await this.db.voidSession.updateMany({ where: { id, status: 'RECEIVED' }, data: { status: 'SUCCEEDED', decidedAt: now } });
    return count === 1;
  }
}

function toRecord(row: VoidSession): VoidSessionRecord {
  return { ...row, paymentSessionId: row.paymentSessionId as PaymentId, shopId: row.shopId as ShopId };
}
