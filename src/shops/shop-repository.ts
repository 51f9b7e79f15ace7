import type { Shop } from '@prisma/client';
import type { DbClient } from '../db/db-client';

export type ShopRecord = Shop;

export class ShopRepository {
  constructor(private readonly db: DbClient) {}

  findByDomain(domain: string): Promise<ShopRecord | null> {
    return this.db.shop.findUnique({ where: { domain } });
  }

  findById(id: string): Promise<ShopRecord | null> {
    return this.db.shop.findUnique({ where: { id } });
  }

  /** Creates the shop, or reactivates it on reinstall. */
  upsertActive(domain: string, now: Date): Promise<ShopRecord> {
    return this.db.shop.upsert({
      where: { domain },
      create: { domain, installedAt: now },
      update: { status: 'ACTIVE', uninstalledAt: null },
    });
  }

  setPaymentsAppConfiguration(id: string, ready: boolean, externalHandle: string | null): Promise<ShopRecord> {
    return this.db.shop.update({ where: { id }, data: { paymentsAppReady: ready, externalHandle } });
  }

  async delete(id: string): Promise<void> {
    await this.db.shop.delete({ where: { id } });
  }

  markUninstalled(id: string, now: Date): Promise<ShopRecord> {
    return this.db.shop.update({ where: { id }, data: { status: 'UNINSTALLED', uninstalledAt: now, paymentsAppReady: false } });
  }
}
