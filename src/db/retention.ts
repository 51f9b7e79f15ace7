import { Prisma, type PrismaClient } from '@prisma/client';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { DATA_REQUEST_TOPIC } from './repositories/shopify-webhook-deliveries';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Shopify gives the merchant 30 days to answer a customer's data request: its report is kept that long at least. */
export const DATA_REQUEST_REPORT_DAYS = 30;

/**
 * What is pruned, per table: the buyer data of rows older than the retention period. Everything
 * about the money (amounts, states, ids, fingerprints, decisions, timelines, jobs) stays; `prunedAt`
 * records when the rest went, and the index on (prunedAt, age) finds the rows still to prune.
 */
interface PruneTarget {
  name: string;
  table: string;
  ageColumn: 'createdAt' | 'receivedAt';
  /** The SET list that removes the buyer data. */
  prune: Prisma.Sql;
  /** Rows that must stay longer than the retention period (ANDed to the age condition). */
  keepLonger?: (context: { reportCutoff: Date }) => Prisma.Sql;
}

const EMPTY_REQUEST = Prisma.sql`"rawRequest" = '{}'::jsonb`;

const TARGETS: PruneTarget[] = [
  // Shopify's payment session request: the customer (email, phone, addresses) and the client details.
  { name: 'paymentSessions', table: 'PaymentSession', ageColumn: 'createdAt', prune: Prisma.sql`${EMPTY_REQUEST}, customer = NULL` },
  { name: 'refundSessions', table: 'RefundSession', ageColumn: 'createdAt', prune: EMPTY_REQUEST },
  { name: 'captureSessions', table: 'CaptureSession', ageColumn: 'createdAt', prune: EMPTY_REQUEST },
  { name: 'voidSessions', table: 'VoidSession', ageColumn: 'createdAt', prune: EMPTY_REQUEST },
  // Flex events echo the buyer details of their checkout; the event's id and type stay.
  {
    name: 'flexWebhookDeliveries',
    table: 'FlexWebhookDelivery',
    ageColumn: 'receivedAt',
    prune: Prisma.sql`payload = jsonb_strip_nulls(jsonb_build_object('event_id', payload->'event_id', 'event_type', payload->'event_type'))`,
  },
  // Compliance webhooks: the record of what was asked and done stays (customer id, data request id,
  // orders, counts; topic, outcome and times are columns), the contact details and a data request's
  // report go, the report only once the merchant's period to send it on is over.
  {
    name: 'shopifyWebhookDeliveries',
    table: 'ShopifyWebhookDelivery',
    ageColumn: 'receivedAt',
    prune: Prisma.sql`payload = jsonb_strip_nulls(jsonb_build_object(
      'request', jsonb_build_object(
        'customer', jsonb_build_object('id', payload #> '{request,customer,id}'),
        'data_request', jsonb_build_object('id', payload #> '{request,data_request,id}'),
        'orders_to_redact', payload #> '{request,orders_to_redact}',
        'orders_requested', payload #> '{request,orders_requested}'),
      'result', payload -> 'result'))`,
    keepLonger: ({ reportCutoff }) => Prisma.sql`(topic <> ${DATA_REQUEST_TOPIC} OR "receivedAt" < ${reportCutoff})`,
  },
];

export type PruneCounts = Record<string, number>;

/**
 * Prunes buyer data (raw Shopify requests, webhook payloads) once it is older than the retention
 * period, keeping the money records. Run periodically by every instance: each batch is one
 * statement that claims its rows with FOR UPDATE SKIP LOCKED, so instances running at once share
 * the work instead of waiting on each other, and a row a payment flow holds locked is simply taken
 * on the next run.
 */
export class BuyerDataRetention {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: { clock: Clock; logger: Logger; retentionDays: number; batchSize?: number },
  ) {}

  async runOnce(): Promise<PruneCounts> {
    const now = this.options.clock.now();
    const cutoff = new Date(now.getTime() - this.options.retentionDays * DAY_MS);
    const reportCutoff = new Date(now.getTime() - Math.max(this.options.retentionDays, DATA_REQUEST_REPORT_DAYS) * DAY_MS);
    const batchSize = this.options.batchSize ?? 500;
    const counts: PruneCounts = {};
    for (const target of TARGETS) {
      let pruned = 0;
      for (;;) {
        const n = await this.pruneBatch(target, { cutoff, reportCutoff, now, batchSize });
        pruned += n;
        if (n < batchSize) break;
      }
      counts[target.name] = pruned;
    }
    counts.cartSnapshots = await this.deleteExpiredCartSnapshots(now, batchSize);
    if (Object.values(counts).some((n) => n > 0)) {
      this.options.logger.info({ pruned: counts, olderThan: cutoff.toISOString(), retentionDays: this.options.retentionDays }, 'retention: pruned buyer data');
    }
    return counts;
  }

  /** Cart snapshots are joinable until they expire (cart/cart-snapshot.ts); then they are deleted whole. */
  private async deleteExpiredCartSnapshots(now: Date, batchSize: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const n = await this.prisma.$executeRaw`
        DELETE FROM "CartSnapshot" WHERE id IN (
          SELECT id FROM "CartSnapshot" WHERE "expiresAt" <= ${now} LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)`;
      deleted += n;
      if (n < batchSize) return deleted;
    }
  }

  private pruneBatch(target: PruneTarget, at: { cutoff: Date; reportCutoff: Date; now: Date; batchSize: number }): Promise<number> {
    const table = Prisma.raw(`"${target.table}"`);
    const age = Prisma.raw(`"${target.ageColumn}"`);
    const keepLonger = target.keepLonger ? Prisma.sql`AND ${target.keepLonger(at)}` : Prisma.empty;
    return this.prisma.$executeRaw`
      WITH batch AS (
        SELECT id FROM ${table}
        WHERE "prunedAt" IS NULL AND ${age} < ${at.cutoff} ${keepLonger}
        ORDER BY ${age}
        LIMIT ${at.batchSize}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE ${table} SET ${target.prune}, "prunedAt" = ${at.now}
      FROM batch WHERE ${table}.id = batch.id`;
  }
}
