import { randomBytes } from 'node:crypto';
import type { Shop } from '@prisma/client';
import type { DbClient } from '../db-client';
import type { SqlRunner } from '../sql';
import type { ShopDomain, ShopId } from '../../lib/ids';

export type ShopRecord = Omit<Shop, 'id' | 'domain'> & { id: ShopId; domain: ShopDomain };

export class ShopRepository {
  constructor(
    private readonly db: DbClient,
    private readonly sql: SqlRunner,
  ) {}

  // Read on every checkouts/* webhook and pixel post: SQL as written (bench/README-queries.md).
  async findByDomain(domain: ShopDomain): Promise<ShopRecord | null> {
    const rows = await this.sql.query<Shop>`SELECT * FROM "Shop" WHERE domain = ${domain}`;
    return toRecord(rows[0] ?? null);
  }

  async findById(id: string): Promise<ShopRecord | null> {
    if (!UUID.test(id)) return null;
    const rows = await this.sql.query<Shop>`SELECT * FROM "Shop" WHERE id = ${id}::uuid`;
    return toRecord(rows[0] ?? null);
  }

  /** Creates the shop, or reactivates it on reinstall. */
  async upsertActive(domain: ShopDomain, now: Date): Promise<ShopRecord> {
    return toRecord(await this.db.shop.upsert({
      where: { domain },
      create: { domain, installedAt: now },
      update: { status: 'ACTIVE', uninstalledAt: null },
    }));
  }

  async setPaymentsAppConfiguration(id: ShopId, ready: boolean, externalHandle: string | null): Promise<void> {
    await this.db.shop.update({ where: { id }, data: { paymentsAppReady: ready, externalHandle } });
  }

  /** The shop's pixel key, made on first use (README "How the cart reaches Flex"). */
  async ensurePixelKey(id: ShopId): Promise<string> {
    await this.db.shop.updateMany({ where: { id, pixelKey: null }, data: { pixelKey: randomBytes(24).toString('base64url') } });
    const shop = await this.db.shop.findUniqueOrThrow({ where: { id }, select: { pixelKey: true } });
    return shop.pixelKey!;
  }

  async recordPixelActivated(id: ShopId, webPixelId: string, now: Date): Promise<void> {
    await this.db.shop.update({ where: { id }, data: { webPixelId, pixelActivatedAt: now, pixelProblem: null } });
  }

  async recordPixelProblem(id: ShopId, problem: string | null): Promise<void> {
    await this.db.shop.update({ where: { id }, data: { pixelProblem: problem } });
  }

  async delete(id: string): Promise<void> {
    await this.db.shop.delete({ where: { id } });
  }

  async markUninstalled(id: ShopId, now: Date): Promise<void> {
    await this.db.shop.update({ where: { id }, data: { status: 'UNINSTALLED', uninstalledAt: now, paymentsAppReady: false } });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toRecord(row: Shop): ShopRecord;
function toRecord(row: Shop | null): ShopRecord | null;
function toRecord(row: Shop | null): ShopRecord | null {
  return row ? { ...row, id: row.id as ShopId, domain: row.domain as ShopDomain } : null;
}
