import type { CaptureSession } from '@prisma/client';
import type { DbClient } from '../db-client';
import type { PaymentId, ShopId } from '../../lib/ids';
import { toSafeNumber } from '../../lib/money';
import { OperationSessionRepository, type NewOperationSession, type SessionTable } from './operation-sessions';

export type { CaptureStatus } from '@prisma/client';

/** A Shopify capture session as the app keeps it; money in integer minor units. */
export type CaptureSessionRecord = Omit<CaptureSession, 'amountMinor' | 'paymentSessionId' | 'shopId'> & { amountMinor: number; paymentSessionId: PaymentId; shopId: ShopId };

export type NewCaptureSession = NewOperationSession & { amountMinor: number; currency: string; finalCapture: boolean };

export class CaptureSessionRepository extends OperationSessionRepository<CaptureSession, CaptureSessionRecord> {
  constructor(private readonly db: DbClient) {
    super(db.captureSession as unknown as SessionTable<CaptureSession>, toRecord);
  }

  insertIfNew(input: NewCaptureSession): Promise<boolean> {
    return this.insert({ ...input, amountMinor: BigInt(input.amountMinor) });
  }

  async succeed(id: string, flexCaptureId: string | null, now: Date): Promise<boolean> {
    const { count } = await this.db.captureSession.updateMany({ where: { id, status: 'RECEIVED' }, data: { status: 'SUCCEEDED', flexCaptureId, decidedAt: now } });
    return count === 1;
  }
}

function toRecord(row: CaptureSession): CaptureSessionRecord {
  return { ...row, amountMinor: toSafeNumber(row.amountMinor), paymentSessionId: row.paymentSessionId as PaymentId, shopId: row.shopId as ShopId };
}
