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
  /**
   * The signing secret's ciphertext as stored when the secret that verified the delivery was read
   * (FlexConnectionWithSecrets.webhookSecretCiphertext). The secret may have come from a cache
   * (flex/webhooks/connection-cache.ts): the delivery is recorded only while it is still the stored
   * one for the shop and mode, in the same statement; otherwise that statement throws
   * FlexSigningSecretChanged and nothing is written.
   */
  verifiedWithCiphertext: string;
}

/**
 * The secret that verified a delivery is not the one stored for its shop and mode (since it was read,
 * the key was replaced or removed, or the secrets were re-encrypted): nothing was recorded, and the
 * delivery must be verified again against the stored secret.
 */
export class FlexSigningSecretChanged extends Error {
  constructor() {
    super('the Flex webhook signing secret changed since it was read');
  }
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
    const rows = await this.sql.query<{ id: string | null; signing_secret_current: boolean }>`
      WITH delivery AS (${insertFlexDeliverySql(delivery)})
      SELECT (SELECT id FROM delivery) AS id, ${signingSecretCurrentSql(delivery)} AS signing_secret_current`;
    const row = rows[0]!;
    if (!row.signing_secret_current) throw new FlexSigningSecretChanged();
    return row.id === null ? null : { id: row.id };
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
 * The insert of a delivery, once per (shop, delivery id), returning its `id` only when it is new: a CTE
 * of recordIfNew's statement, or the first CTE of the statement with which an event's handler starts
 * applying it (payment-sessions.ts): one round trip fewer on every payment's webhook. A concurrent
 * copy of the delivery waits at this insert until the first one's transaction ends. Nothing is
 * inserted unless the secret that verified it is still the stored one (signingSecretCurrentSql, which
 * the statement must return so that "not inserted" is not taken for "a duplicate").
 */
export function insertFlexDeliverySql(delivery: NewFlexWebhookDelivery): Prisma.Sql {
  return Prisma.sql`
      INSERT INTO "FlexWebhookDelivery" ("shopId", "mode", "deliveryId", "eventId", "eventType", "payload", "receivedAt", "outcome")
      SELECT ${delivery.shopId}::uuid, ${delivery.mode}::"FlexMode", ${delivery.deliveryId}::text, ${delivery.eventId}::text, ${delivery.eventType}::text,
        ${JSON.stringify(delivery.payload)}::jsonb, ${delivery.receivedAt ?? new Date()}::timestamptz, ${delivery.outcome ?? null}::text
      WHERE ${signingSecretCurrentSql(delivery)}
      ON CONFLICT ("shopId", "deliveryId") DO NOTHING
      RETURNING id::text AS id`;
}

/**
 * True while the secret that verified the delivery is the one stored for its shop and mode. Read in the
 * statement that records the delivery (one snapshot for both), so a delivery verified with a cached
 * secret is recorded, and its event applied, only if that secret was still the shop's when it was.
 */
export function signingSecretCurrentSql(delivery: Pick<NewFlexWebhookDelivery, 'shopId' | 'mode' | 'verifiedWithCiphertext'>): Prisma.Sql {
  return Prisma.sql`EXISTS (SELECT 1 FROM "FlexConnection" WHERE "shopId" = ${delivery.shopId}::uuid AND mode = ${delivery.mode}::"FlexMode"
        AND "webhookSecretCiphertext" = ${delivery.verifiedWithCiphertext})`;
}
