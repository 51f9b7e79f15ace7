import type { CaptureSession, Prisma } from '@prisma/client';
import type { DbClient } from '../../db/db-client';
import { toSafeNumber } from '../../lib/money';

export type { CaptureStatus } from '@prisma/client';

/** A Shopify capture session as the app keeps it; money in integer minor units. */
export type CaptureSessionRecord = Omit<CaptureSession, 'amountMinor'> & { amountMinor: number };

export interface NewCaptureSession {
  shopId: string;
  paymentSessionId: string;
  shopifyId: string;
  gid: string;
  amountMinor: number;
  currency: string;
  test: boolean;
  finalCapture: boolean;
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

export class CaptureSessionRepository {
  constructor(private readonly db: DbClient) {}

  /** Inserts unless (shop, Shopify id) is taken (ON CONFLICT DO NOTHING: safe in a transaction). */
  async insertIfNew(input: NewCaptureSession): Promise<boolean> {
    const { count } = await this.db.captureSession.createMany({ data: [{ ...input, amountMinor: BigInt(input.amountMinor) }], skipDuplicates: true });
    return count === 1;
  }

  async findById(id: string): Promise<CaptureSessionRecord | null> {
    const row = await this.db.captureSession.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }

  async findByShopifyId(shopId: string, shopifyId: string): Promise<CaptureSessionRecord | null> {
    const row = await this.db.captureSession.findUnique({ where: { shopId_shopifyId: { shopId, shopifyId } } });
    return row ? toRecord(row) : null;
  }

  async listForPayment(paymentSessionId: string): Promise<CaptureSessionRecord[]> {
    const rows = await this.db.captureSession.findMany({ where: { paymentSessionId }, orderBy: { createdAt: 'asc' } });
    return rows.map(toRecord);
  }

  async succeed(id: string, flexCaptureId: string | null, now: Date): Promise<boolean> {
    const { count } = await this.db.captureSession.updateMany({ where: { id, status: 'RECEIVED' }, data: { status: 'SUCCEEDED', flexCaptureId, decidedAt: now } });
    return count === 1;
  }

  async reject(id: string, rejectionCode: string, rejectionMessage: string, now: Date): Promise<boolean> {
    const { count } = await this.db.captureSession.updateMany({ where: { id, status: 'RECEIVED' }, data: { status: 'REJECTED', rejectionCode, rejectionMessage, decidedAt: now } });
    return count === 1;
  }

  async recordShopifyState(id: string, shopifyState: string): Promise<void> {
    await this.db.captureSession.updateMany({ where: { id }, data: { shopifyState } });
  }
}

function toRecord(row: CaptureSession): CaptureSessionRecord {
  return { ...row, amountMinor: toSafeNumber(row.amountMinor) };
}
