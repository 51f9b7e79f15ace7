import { Prisma, type FlexMode } from '@prisma/client';
import type { DbClient } from '../db-client';
import type { SqlRunner } from '../sql';

export interface NewFlexWebhookDelivery {
  shopId: string;
  mode: FlexMode;
  deliveryId: string;
  eventId: string | null;
  eventType: string;
  payload: Prisma.InputJsonValue;
  /** By the app's clock (retention counts from it); the database's time otherwise. */
  receivedAt?: Date;
  /** Known when the delivery is recorded (its event was not applied); else set later (setOutcome). */
  outcome?: string;
}

export class FlexWebhookDeliveryRepository {
  constructor(
    private readonly db: DbClient,
    private readonly sql: SqlRunner,
  ) {}

  /**
   * Records a delivery; null when this delivery id was already recorded for the shop. Run inside
   * the transaction that applies the event, so a failed application leaves no record and Flex's
   * redelivery is processed again. A concurrent duplicate waits here for the first to commit.
   */
  async recordIfNew(delivery: NewFlexWebhookDelivery): Promise<{ id: string } | null> {
    // ON CONFLICT DO NOTHING rather than catching the unique violation, which would abort the transaction.
    // SQL as written: every webhook of an event whose handler does not record it (recordsDelivery) sends
    // this, and so does one whose handler returns before its first statement.
    const rows = await this.sql.query<{ id: string }>`${insertFlexDeliverySql(delivery)}`;
    return rows[0] ?? null;
  }

  async setOutcome(id: string, outcome: string): Promise<void> {
    await this.sql.execute`${flexDeliveryOutcomeSql(id, outcome)}`;
  }

  async countForShop(shopId: string, since: Date): Promise<number> {
    return this.db.flexWebhookDelivery.count({ where: { shopId, receivedAt: { gte: since } } });
  }

  async latestForShop(shopId: string): Promise<{ receivedAt: Date; eventType: string } | null> {
    return this.db.flexWebhookDelivery.findFirst({
      where: { shopId },
      orderBy: { receivedAt: 'desc' },
      select: { receivedAt: true, eventType: true },
    });
  }
}

/** A delivery's outcome, as a statement or (`onlyIf`) a CTE of the statement that decided it (payment-sessions.ts). */
export function flexDeliveryOutcomeSql(id: string, outcome: string, onlyIf?: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`UPDATE "FlexWebhookDelivery" SET outcome = ${outcome} WHERE id = ${id}::uuid ${onlyIf ? Prisma.sql`AND ${onlyIf}` : Prisma.empty}`;
}

/**
 * The insert of a delivery, once per (shop, delivery id), returning its `id` only when it is new: as a
 * statement of its own (recordIfNew) or as the first CTE of the statement with which an event's
 * handler starts applying it (payment-sessions.ts): one round trip fewer on every payment's webhook.
 * A concurrent copy of the delivery waits at this insert until the first one's transaction ends.
 */
export function insertFlexDeliverySql(delivery: NewFlexWebhookDelivery): Prisma.Sql {
  return Prisma.sql`
      INSERT INTO "FlexWebhookDelivery" ("shopId", "mode", "deliveryId", "eventId", "eventType", "payload", "receivedAt", "outcome")
      VALUES (${delivery.shopId}::uuid, ${delivery.mode}::"FlexMode", ${delivery.deliveryId}, ${delivery.eventId}, ${delivery.eventType},
        ${JSON.stringify(delivery.payload)}::jsonb, ${delivery.receivedAt ?? new Date()}, ${delivery.outcome ?? null})
      ON CONFLICT ("shopId", "deliveryId") DO NOTHING
      RETURNING id::text AS id`;
}
