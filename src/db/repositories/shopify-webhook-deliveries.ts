import { randomUUID } from 'node:crypto';
import { Prisma, type ShopifyWebhookDelivery } from '@prisma/client';
import type { DbClient } from '../db-client';
import type { SqlRunner } from '../sql';

export type ShopifyWebhookDeliveryRecord = ShopifyWebhookDelivery;

export interface NewShopifyWebhookDelivery {
  /** Chosen by the caller when the topic's work, done before the delivery is recorded, names it. */
  id?: string;
  webhookId: string;
  shopDomain: string;
  topic: string;
  payload: Prisma.InputJsonValue;
  receivedAt: Date;
  /** Recorded with its outcome at once, when the work was done before (an idempotent topic). */
  outcome?: string;
  processedAt?: Date;
}

export const DATA_REQUEST_TOPIC = 'customers/data_request';
export const CUSTOMER_REDACT_TOPIC = 'customers/redact';

/**
 * Shopify webhooks received, one row per `X-Shopify-Webhook-Id`. For the compliance topics the row
 * is also the record of what was done (outcome) and, for a data request, the compiled report that
 * the merchant fetches from the settings page (payload.report).
 */
export class ShopifyWebhookDeliveryRepository {
  constructor(
    private readonly db: DbClient,
    private readonly sql: SqlRunner,
  ) {}

  /**
   * Records a delivery unless its webhook id was seen before (then null). ON CONFLICT DO NOTHING,
   * inside the transaction that applies the webhook: a concurrent duplicate waits for this one and
   * then finds the row; a failed application leaves no row, so Shopify's retry is processed.
   */
  async recordIfNew(input: NewShopifyWebhookDelivery): Promise<{ id: string } | null> {
    // SQL as written: every checkouts/* webhook (each buyer's cart) comes this way (bench/README-queries.md).
    const rows = await this.sql.query<{ id: string }>`
      INSERT INTO "ShopifyWebhookDelivery" (id, "shopDomain", "webhookId", topic, payload, "receivedAt", outcome, "processedAt")
      VALUES (${input.id ?? randomUUID()}::uuid, ${input.shopDomain}, ${input.webhookId}, ${input.topic}, ${JSON.stringify(input.payload)}::jsonb, ${input.receivedAt},
        ${input.outcome ?? null}, ${input.processedAt ?? null})
      ON CONFLICT ("webhookId") DO NOTHING
      RETURNING id`;
    return rows[0] ?? null;
  }

  async finish(id: string, outcome: string, processedAt: Date, payload?: Prisma.InputJsonValue): Promise<void> {
    const replaced = payload === undefined ? null : JSON.stringify(payload);
    await this.sql.execute`
      UPDATE "ShopifyWebhookDelivery" SET outcome = ${outcome}, "processedAt" = ${processedAt}, payload = coalesce(${replaced}::jsonb, payload)
      WHERE id = ${id}::uuid`;
  }

  findById(id: string): Promise<ShopifyWebhookDeliveryRecord | null> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return Promise.resolve(null);
    return this.db.shopifyWebhookDelivery.findUnique({ where: { id } });
  }

  findByWebhookId(webhookId: string): Promise<ShopifyWebhookDeliveryRecord | null> {
    return this.db.shopifyWebhookDelivery.findUnique({ where: { webhookId } });
  }

  listForShop(shopDomain: string, topics: string[], limit: number): Promise<ShopifyWebhookDeliveryRecord[]> {
    return this.db.shopifyWebhookDelivery.findMany({
      where: { shopDomain, topic: { in: topics } },
      orderBy: { receivedAt: 'desc' },
      take: limit,
    });
  }

  /** Replaces the stored report of this customer's data requests (after the customer was redacted). */
  async redactDataRequestsOf(shopDomain: string, email: string | null, customerId: number | null): Promise<number> {
    const conditions: Prisma.Sql[] = [];
    if (email) conditions.push(Prisma.sql`lower(payload->'request'->'customer'->>'email') = lower(${email})`);
    if (customerId !== null) conditions.push(Prisma.sql`payload->'request'->'customer'->>'id' = ${String(customerId)}`);
    if (conditions.length === 0) return 0;
    return this.db.$executeRaw`
      UPDATE "ShopifyWebhookDelivery"
      SET payload = jsonb_build_object(
            'request', jsonb_build_object('customer', jsonb_build_object('id', payload->'request'->'customer'->'id'), 'data_request', payload->'request'->'data_request'),
            'report', jsonb_build_object('redacted', true)),
          outcome = 'report_redacted'
      WHERE "shopDomain" = ${shopDomain} AND topic = ${DATA_REQUEST_TOPIC} AND (${Prisma.join(conditions, ' OR ')})`;
  }

  /** Keeps the rows (they deduplicate redeliveries) but drops what they carried (shop/redact). */
  async scrubAllForShop(shopDomain: string, exceptId: string): Promise<number> {
    const { count } = await this.db.shopifyWebhookDelivery.updateMany({
      where: { shopDomain, id: { not: exceptId } },
      data: { payload: { redacted: true } },
    });
    return count;
  }
}
