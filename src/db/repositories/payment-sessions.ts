import { Prisma, type DecisionSource, type PaymentKind, type PaymentSession } from '@prisma/client';
import type { CommitHooks, DbClient } from '../db-client';
import type { FlexCheckoutSessionId, PaymentId, ShopId, ShopifySessionId } from '../../lib/ids';
import { toSafeNumber } from '../../lib/money';
import type { SqlRunner } from '../sql';
import { joinShopWithConnectionSql, type ShopWithConnectionColumns } from './flex-connections';
import { cartReadOf, cartReadSql, type CartRead, type CartReadJson } from './cart-snapshots';
import { FlexSigningSecretChanged, flexDeliveryOutcomeSql, insertFlexDeliverySql, signingSecretCurrentSql, type NewFlexWebhookDelivery } from './flex-webhook-deliveries';
import { claimedJobOfRow, insertJobSql, jobSucceededSql, type JobSucceeded, type NewJob } from './jobs';

export type { PaymentKind, PaymentStatus, DecisionSource } from '@prisma/client';

/** A Shopify payment session as the app keeps it; money in integer minor units. */
export type PaymentSessionRecord = Omit<PaymentSession, 'amountMinor' | 'id' | 'shopId' | 'shopifyId' | 'flexCheckoutSessionId'> & {
  id: PaymentId;
  shopId: ShopId;
  shopifyId: ShopifySessionId;
  flexCheckoutSessionId: FlexCheckoutSessionId | null;
  amountMinor: number;
};

export interface NewPaymentSession {
  shopId: ShopId;
  shopifyId: ShopifySessionId;
  gid: string;
  groupId: string;
  buyerSessionId: string | null;
  amountMinor: number;
  currency: string;
  kind: PaymentKind;
  test: boolean;
  cancelUrl: string;
  /** The checkout token in `cancelUrl` (checkoutTokenOf), if any. */
  checkoutToken: string | null;
  merchantLocale: string | null;
  proposedAt: Date | null;
  customer: Prisma.InputJsonValue | null;
  rawRequest: Prisma.InputJsonValue;
  requestFingerprint: string;
  apiVersion: string;
  shopifyRequestId: string | null;
  /** When it was received, by the app's clock (retention counts from it); the database's time otherwise. */
  createdAt?: Date;
}

/** A timeline event written with the row it belongs to. */
export interface NewPaymentEvent {
  type: string;
  detail: Prisma.InputJsonValue;
}

export type FinalDecision =
  | { status: 'RESOLVED'; authorizationExpiresAt: Date | null }
  | { status: 'REJECTED'; rejectionCode: string; rejectionMessage: string };

/** What goes with a decision, in its statement, each only if the decision is written (writeDecision). */
export interface DecisionWrite {
  source: DecisionSource;
  now: Date;
  flexCheckoutSessionId?: FlexCheckoutSessionId;
  /** Its timeline event. */
  event?: { type: string; detail: Prisma.InputJsonValue };
  /** The outbox job that carries it to Shopify. */
  job?: NewJob;
  /**
   * For a decision that takes the buyer's money, made under the group's lock (lockGroup, taken by an
   * earlier statement of the transaction, so this one reads what the lock's previous holder wrote):
   * not written when another payment of the group took the money (its id is returned), and when
   * written, `closeJob` too if another payment of the group has an open Flex checkout to cancel.
   */
  group?: { shopId: ShopId; groupId: string; closeJob: NewJob };
  /** The outcome of the Flex webhook delivery that decided it. */
  flexDeliveryOutcome?: { deliveryId: string; outcome: string };
}

export interface DecisionWritten {
  won: boolean;
  /** Another payment of the group that took the buyer's money (only with `group`). */
  paidSibling: { id: PaymentId; shopifyId: ShopifySessionId } | null;
  /** Whether `flexDeliveryOutcome` was written (only when the decision was). */
  flexDeliveryOutcomeRecorded: boolean;
}

/** The advisory lock of a payment group (lockGroup), in JavaScript and as SQL over a PaymentSession row named payment. */
function groupLockKey(shopId: string, groupId: string): string {
  return `${shopId}:${groupId}`;
}
/** The columns writeDecision's statement returns besides a job written claimed. */
const DECISION_COLUMNS = ['n', 'paid_sibling_id', 'paid_sibling_shopify_id', 'closed', 'delivery_recorded'] as const;

/** The Flex mode of the claimed payment (`claimed`), as SQL. */
const paymentModeSql = Prisma.sql`(CASE WHEN claimed.test THEN 'TEST' ELSE 'LIVE' END)::"FlexMode"`;

const groupLockKeySql = Prisma.sql`payment."shopId"::text || ':' || payment."groupId"`;

export class PaymentSessionRepository {
  /**
   * Group locks this transaction holds (lockGroup, recordFlexDeliveryFindingPayment): held until it ends,
   * which these repositories do not outlive (one set per transaction); outside one, none is held.
   */
  private readonly groupLocksHeld = new Set<string>();

  constructor(
    private readonly db: DbClient,
    private readonly sql: SqlRunner,
    /** Wakes the outbox workers for a job a decision wrote (decideFinal, decidePending), or has the job written claimed and run. */
    private readonly hooks: Pick<CommitHooks, 'jobEnqueued' | 'leaseJob'>,
  ) {}

  /**
   * The session request's common path in one statement: inserts the session with its first timeline
   * event for the shop of `shopDomain` if that shop is installed (ACTIVE) and has Flex connected for
   * the session's mode, and nothing was stored under (shop, Shopify id) yet. Null when nothing was
   * inserted, for whichever of those reasons: the caller reads the shop to say why, or finds the
   * stored session (insertOrGet).
   */
  async insertForConnectedShop(shopDomain: string, input: Omit<NewPaymentSession, 'shopId'>, event: NewPaymentEvent): Promise<PaymentSessionRecord | null> {
    const mode = input.test ? 'TEST' : 'LIVE';
    const rows = await this.insertWithEvent(
      Prisma.sql`
        SELECT s.id FROM "Shop" s
        WHERE s.domain = ${shopDomain} AND s.status = 'ACTIVE'
          AND EXISTS (SELECT 1 FROM "FlexConnection" c WHERE c."shopId" = s.id AND c.mode = ${mode}::"FlexMode")`,
      input,
      event,
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /**
   * Inserts the session with its first timeline event, or returns the one already stored under
   * (shop, Shopify id). One statement when it is new.
   */
  async insertOrGet(input: NewPaymentSession, event: NewPaymentEvent): Promise<{ record: PaymentSessionRecord; created: boolean }> {
    const rows = await this.insertWithEvent(Prisma.sql`SELECT ${input.shopId}::uuid AS id`, input, event);
    if (rows[0]) return { record: toRecord(rows[0]), created: true };
    const existing = await this.findByShopifyId(input.shopId, input.shopifyId);
    if (!existing) throw new Error(`payment session ${input.shopifyId} neither inserted nor found`);
    return { record: existing, created: false };
  }

  /** The session inserted for the shop `shopQuery` selects (its `id`; none, nothing inserted) unless stored already, with its event. */
  private insertWithEvent(shopQuery: Prisma.Sql, input: Omit<NewPaymentSession, 'shopId'>, event: NewPaymentEvent): Promise<PaymentSession[]> {
    const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
    return this.sql.query<PaymentSession>`
      WITH shop AS (${shopQuery}), inserted AS (
        INSERT INTO "PaymentSession" ("shopId", "shopifyId", "gid", "groupId", "buyerSessionId", "amountMinor", "currency",
          "kind", "test", "cancelUrl", "checkoutToken", "merchantLocale", "proposedAt", "customer", "rawRequest", "requestFingerprint",
          "apiVersion", "shopifyRequestId", "createdAt")
        SELECT shop.id, ${input.shopifyId}, ${input.gid}, ${input.groupId}, ${input.buyerSessionId},
          ${BigInt(input.amountMinor)}, ${input.currency}, ${input.kind}::"PaymentKind", ${input.test}, ${input.cancelUrl}, ${input.checkoutToken},
          ${input.merchantLocale}, ${input.proposedAt}, ${json(input.customer)}::jsonb, ${json(input.rawRequest)}::jsonb,
          ${input.requestFingerprint}, ${input.apiVersion}, ${input.shopifyRequestId}, coalesce(${input.createdAt ?? null}::timestamptz, now())
        FROM shop
        ON CONFLICT ("shopId", "shopifyId") DO NOTHING
        RETURNING *
      ), event AS (
        INSERT INTO "PaymentEvent" ("paymentSessionId", "type", "detail")
        SELECT id, ${event.type}, ${json(event.detail)}::jsonb FROM inserted
      )
      SELECT * FROM inserted`;
  }

  // The reads and writes of every payment (pay page, webhook, outbox) are SQL as written: through
  // the query API each costs several times the CPU (bench/README-queries.md).
  async findById(id: PaymentId): Promise<PaymentSessionRecord | null> {
    const rows = await this.sql.query<PaymentSession>`SELECT * FROM "PaymentSession" WHERE id = ${id}::uuid`;
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async findByShopifyId(shopId: ShopId, shopifyId: ShopifySessionId): Promise<PaymentSessionRecord | null> {
    const rows = await this.sql.query<PaymentSession>`SELECT * FROM "PaymentSession" WHERE "shopId" = ${shopId}::uuid AND "shopifyId" = ${shopifyId}`;
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /**
   * A signed Flex event's delivery recorded, and the payment of its Flex checkout session found, in
   * one statement that also, when the delivery is new and the payment is of the event's mode (`test`),
   * notes the event on its timeline and takes its group's lock (lockGroup), which a decision that
   * follows in the transaction then need not take again: on every payment's webhook, one round trip
   * instead of four. `deliveryId` is null when the delivery was recorded before (a redelivery, or a
   * concurrent copy that committed first: this statement waited for it at the insert), and then
   * nothing else was done or read. Throws FlexSigningSecretChanged, having written nothing, when the
   * secret that verified the delivery is no longer the shop's (insertFlexDeliverySql). The lock is
   * taken whatever the event will decide (a reject or a wait needs none; holding it to the end of a
   * short transaction costs nothing). The row is as read
   * before the lock, as a read before lockGroup would be; what a decision reads under the lock
   * (writeDecision's guard) comes in a later statement. Only in a transaction (the lock would not
   * outlive the statement, and the delivery must be recorded with what applying it did).
   */
  async recordFlexDeliveryFindingPayment(
    delivery: NewFlexWebhookDelivery & { shopId: ShopId },
    flexCheckoutSessionId: FlexCheckoutSessionId,
    test: boolean,
    event: { type: string; detail: Prisma.InputJsonValue },
  ): Promise<{ deliveryId: string | null; payment: PaymentSessionRecord | null }> {
    if (!this.sql.inTransaction) throw new Error('recordFlexDeliveryFindingPayment takes a transaction lock: call it in a transaction');
    const rows = await this.sql.query<PaymentSession & { delivery_row_id: string | null; group_locked: number; signing_secret_current: boolean }>`
      WITH delivery AS (${insertFlexDeliverySql(delivery)}), payment AS (
        SELECT * FROM "PaymentSession"
        WHERE "shopId" = ${delivery.shopId}::uuid AND "flexCheckoutSessionId" = ${flexCheckoutSessionId} AND EXISTS (SELECT 1 FROM delivery)
      ), noted AS (
        INSERT INTO "PaymentEvent" ("paymentSessionId", "type", "detail", "createdAt")
        SELECT id, ${event.type}, ${JSON.stringify(event.detail)}::jsonb, ${new Date()} FROM payment WHERE test = ${test}
      ), locked AS (
        SELECT pg_advisory_xact_lock(hashtextextended(${groupLockKeySql}, 0)) FROM payment WHERE test = ${test}
      )
      SELECT (SELECT id FROM delivery) AS delivery_row_id, (SELECT count(*) FROM locked)::int AS group_locked,
        ${signingSecretCurrentSql(delivery)} AS signing_secret_current, payment.*
      FROM (SELECT 1) AS one LEFT JOIN payment ON true`;
    const { delivery_row_id: deliveryId, group_locked: groupLocked, signing_secret_current: signingSecretCurrent, ...payment } = rows[0]!;
    // Nothing was inserted, noted or locked: the delivery's secret is no longer the shop's.
    if (!signingSecretCurrent) throw new FlexSigningSecretChanged();
    if (payment.id === null) return { deliveryId, payment: null };
    if (groupLocked === 1) this.groupLocksHeld.add(groupLockKey(payment.shopId, payment.groupId));
    return { deliveryId, payment: toRecord(payment as PaymentSession) };
  }

  /**
   * Takes the right to create the Flex checkout session for a while, under `token`, returning the
   * session as claimed (with its shop, the Flex connection of its mode and the buyer's cart, read in the same
   * statement). Only one request holds it; a request that finds it taken (null) waits for the
   * holder's result instead of calling Flex too. Null too when another payment of its group (the
   * same Shopify checkout) has taken the buyer's money, as far as committed rows show: a decision
   * still being written can land just after. Then the checkout made here is canceled by the decision's
   * group job if it was recorded before the decision was written (the job is written only for the
   * group's checkouts recorded by then); either way, if the buyer pays it, the money is refunded as a
   * second payment of the group (payment-outcomes.ts).
   */
  async claimCheckoutCreation(
    id: PaymentId,
    token: string,
    now: Date,
    leaseUntil: Date,
  ): Promise<{ payment: PaymentSessionRecord; shopWithConnection: ShopWithConnectionColumns; cartRead: CartRead | undefined } | null> {
    // The shop and its Flex connection for the payment's mode are read in the same statement
    // (joinShopWithConnectionSql), and so is the buyer's cart under the payment's kept checkout token
    // (cartReadSql), unless a cart was recorded already (a retry after a crash: the page uses that one):
    // the page needs them next, two round trips fewer on every payment. A payment stored without its
    // token (before the column) has its cart read by the join itself (FindCart). The cart is as the
    // statement found it when it began: a claim that waited for the row's lock reads it as of then.
    const rows = await this.sql.query<PaymentSession & ShopWithConnectionColumns & { cart_read: CartReadJson | null }>`
      WITH claimed AS (
        UPDATE "PaymentSession"
        SET "checkoutLeaseUntil" = ${leaseUntil}, "checkoutLeaseToken" = ${token}, "checkoutAttempts" = "checkoutAttempts" + 1, "updatedAt" = ${now}
        WHERE id = ${id}::uuid AND status = 'RECEIVED' AND "flexRedirectUrl" IS NULL AND ("checkoutLeaseUntil" IS NULL OR "checkoutLeaseUntil" < ${now})
          AND NOT EXISTS (
            SELECT 1 FROM "PaymentSession" other
            WHERE other."shopId" = "PaymentSession"."shopId" AND other."groupId" = "PaymentSession"."groupId" AND other.id <> "PaymentSession".id
              AND other.status IN ('RESOLVED', 'PENDING'))
        RETURNING *
      )
      SELECT claimed.*, shop_with_connection.*,
        CASE WHEN claimed."cartSource" IS NULL AND claimed."checkoutToken" IS NOT NULL
          THEN ${cartReadSql(Prisma.sql`claimed."shopId"`, Prisma.sql`claimed."checkoutToken"`, now, paymentModeSql)} END AS cart_read
      FROM claimed
      ${joinShopWithConnectionSql(Prisma.sql`claimed."shopId"`, paymentModeSql)}`;
    const row = rows[0];
    if (!row) return null;
    const { cart_read: cartRead, ...rest } = row;
    const shopWithConnection = {} as Record<string, unknown>;
    const payment = {} as Record<string, unknown>;
    for (const [key, value] of Object.entries(rest)) (key.startsWith('shop_row_') || key.startsWith('connection_row_') ? shopWithConnection : payment)[key] = value;
    return {
      payment: toRecord(payment as unknown as PaymentSession),
      shopWithConnection: shopWithConnection as unknown as ShopWithConnectionColumns,
      cartRead: cartRead === null ? undefined : cartReadOf(cartRead),
    };
  }

  /** Gives the lease back (the Flex call failed); only its holder can. */
  async releaseCheckoutLease(id: PaymentId, token: string): Promise<void> {
    await this.db.paymentSession.updateMany({ where: { id, checkoutLeaseToken: token, flexRedirectUrl: null }, data: { checkoutLeaseUntil: null, checkoutLeaseToken: null } });
  }

  /**
   * Records the Flex checkout session and its timeline event in one statement, fenced by the lease:
   * only while `token` still holds it and nothing was recorded or decided. Null when the lease was
   * lost (it ran out and another request took it): the caller must not write, and reads again.
   */
  async recordCheckoutCreated(
    id: PaymentId,
    token: string,
    flexCheckoutSessionId: FlexCheckoutSessionId,
    redirectUrl: string,
    nextReconcileAt: Date,
    event: { type: string; detail: Prisma.InputJsonValue },
  ): Promise<PaymentSessionRecord | null> {
    const rows = await this.sql.query<PaymentSession>`
      WITH updated AS (
        UPDATE "PaymentSession"
        SET "flexCheckoutSessionId" = ${flexCheckoutSessionId}, "flexRedirectUrl" = ${redirectUrl}, "checkoutLeaseUntil" = NULL, "checkoutLeaseToken" = NULL,
          status = 'CHECKOUT_CREATED', "nextReconcileAt" = ${nextReconcileAt}, "updatedAt" = now()
        WHERE id = ${id}::uuid AND "checkoutLeaseToken" = ${token} AND status = 'RECEIVED' AND "flexRedirectUrl" IS NULL
        RETURNING *
      ), event AS (
        INSERT INTO "PaymentEvent" ("paymentSessionId", "type", "detail")
        SELECT id, ${event.type}, ${JSON.stringify(event.detail)}::jsonb FROM updated
      )
      SELECT * FROM updated`;
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /**
   * Records a final decision, unless one was already made. The conditional update is what makes the
   * first of buyer return, webhook and reconciler win and the others change nothing. What `write`
   * adds (the timeline event, the outbox job, the group's guard) is in the same statement.
   */
  async decideFinal(id: PaymentId, decision: FinalDecision, write: DecisionWrite): Promise<DecisionWritten> {
    const outcome =
      decision.status === 'RESOLVED'
        ? Prisma.sql`status = 'RESOLVED', "authorizationExpiresAt" = ${decision.authorizationExpiresAt}`
        : Prisma.sql`status = 'REJECTED', "rejectionCode" = ${decision.rejectionCode}, "rejectionMessage" = ${decision.rejectionMessage}`;
    return this.writeDecision(id, Prisma.sql`${outcome}, "nextReconcileAt" = NULL`, Prisma.sql`('RECEIVED', 'CHECKOUT_CREATED', 'PENDING')`, write);
  }

  /**
   * Marks the session pending (once); it stays open for a final decision. Like a final decision, also
   * from RECEIVED, with the Flex checkout it came from: a checkout whose creation answer was lost
   * (found by the webhook through its client reference) is otherwise never recorded, and nothing would
   * look at the payment again. Shopify is told "pending" while Flex finishes; the reconciler checks again
   * at `nextReconcileAt`. What goes with it as decideFinal.
   */
  async decidePending(id: PaymentId, pendingExpiresAt: Date, nextReconcileAt: Date, write: DecisionWrite): Promise<DecisionWritten> {
    return this.writeDecision(
      id,
      Prisma.sql`status = 'PENDING', "pendingExpiresAt" = ${pendingExpiresAt}, "nextReconcileAt" = ${nextReconcileAt}`,
      Prisma.sql`('RECEIVED', 'CHECKOUT_CREATED')`,
      write,
    );
  }

  /**
   * One statement for a decision and everything that goes with it, each written only if the decision
   * is: the payment's row (`set`, from one of `fromStatuses`), its timeline event, its outbox job, and
   * for a decision that takes the buyer's money, the group's guard and the job that closes the group.
   */
  private async writeDecision(id: PaymentId, set: Prisma.Sql, fromStatuses: Prisma.Sql, write: DecisionWrite): Promise<DecisionWritten> {
    const { group, event, job } = write;
    // The guard reads what the lock's previous holder committed only if the lock was taken by an
    // earlier statement of this transaction: without it two payments of a group could both be paid.
    if (group && !this.groupLocksHeld.has(groupLockKey(group.shopId, group.groupId))) {
      throw new Error(`a decision guarded by its group was written without the group's lock held in this transaction (lockGroup first)`);
    }
    const decided = Prisma.sql`EXISTS (SELECT 1 FROM updated)`;
    const others = group ? Prisma.sql`"shopId" = ${group.shopId}::uuid AND "groupId" = ${group.groupId} AND id <> ${id}::uuid` : Prisma.empty;
    // The job that carries the decision is written claimed, when it is due and its worker has a slot: run after the commit without a claim.
    const lease = job && job.runAt.getTime() <= write.now.getTime() ? this.hooks.leaseJob?.(job.kind) : undefined;
    const rows = await this.sql.query<Record<string, unknown>>`
      WITH ${group ? Prisma.sql`paid_sibling AS (SELECT id, "shopifyId" FROM "PaymentSession" WHERE ${others} AND status IN ('RESOLVED', 'PENDING') LIMIT 1),` : Prisma.empty}
      updated AS (
        UPDATE "PaymentSession"
        SET ${set}, "decisionSource" = ${write.source}::"DecisionSource", "decidedAt" = ${write.now},
          "flexCheckoutSessionId" = coalesce(${write.flexCheckoutSessionId ?? null}, "flexCheckoutSessionId"), "updatedAt" = ${new Date()}
        WHERE id = ${id}::uuid AND status IN ${fromStatuses} ${group ? Prisma.sql`AND NOT EXISTS (SELECT 1 FROM paid_sibling)` : Prisma.empty}
        RETURNING id
      ), event AS (
        INSERT INTO "PaymentEvent" ("paymentSessionId", "type", "detail", "createdAt")
        SELECT id, ${event?.type ?? null}, ${event ? JSON.stringify(event.detail) : null}::jsonb, ${new Date()} FROM updated WHERE ${event !== undefined}
      )${job ? Prisma.sql`, job AS (${insertJobSql(job, decided, lease)})` : Prisma.empty}${
        group
          ? Prisma.sql`, close_group AS (${insertJobSql(
              group.closeJob,
              Prisma.sql`${decided} AND EXISTS (SELECT 1 FROM "PaymentSession" WHERE ${others} AND status = 'CHECKOUT_CREATED' AND "flexCheckoutSessionId" IS NOT NULL)`,
            )} RETURNING kind)`
          : Prisma.empty
      }${write.flexDeliveryOutcome ? Prisma.sql`, delivery AS (${flexDeliveryOutcomeSql(write.flexDeliveryOutcome.deliveryId, write.flexDeliveryOutcome.outcome, decided)} RETURNING 1)` : Prisma.empty}
      SELECT (SELECT count(*) FROM updated)::int AS n,
        ${group ? Prisma.sql`(SELECT id::text FROM paid_sibling)` : Prisma.sql`NULL::text`} AS paid_sibling_id,
        ${group ? Prisma.sql`(SELECT "shopifyId" FROM paid_sibling)` : Prisma.sql`NULL::text`} AS paid_sibling_shopify_id,
        ${group ? Prisma.sql`(SELECT count(*) FROM close_group)::int` : Prisma.sql`0`} AS closed,
        ${write.flexDeliveryOutcome ? Prisma.sql`(SELECT count(*) FROM delivery)::int` : Prisma.sql`0`} AS delivery_recorded
        ${lease ? Prisma.sql`, claimed.* FROM (SELECT 1) AS one LEFT JOIN job AS claimed ON true` : Prisma.empty}`;
    const row = rows[0] as ({ n: number; paid_sibling_id: string | null; paid_sibling_shopify_id: string | null; closed: number; delivery_recorded: number } & Record<string, unknown>) | undefined;
    const won = row?.n === 1;
    const claimed = lease && row ? claimedJobOfRow(row, DECISION_COLUMNS) : null;
    if (won && claimed) lease!.written(claimed);
    else if (won && job) this.hooks.jobEnqueued(job.kind);
    if (won && row?.closed) this.hooks.jobEnqueued(group!.closeJob.kind);
    const paidSibling = row?.paid_sibling_id ? { id: row.paid_sibling_id as PaymentId, shopifyId: row.paid_sibling_shopify_id as ShopifySessionId } : null;
    return { won, paidSibling, flexDeliveryOutcomeRecorded: row?.delivery_recorded === 1 };
  }

  /**
   * Serializes decisions about the payments of one Shopify checkout (a `group`) until the
   * transaction ends, so two Flex checkouts of one group paid at once cannot both be resolved.
   */
  async lockGroup(shopId: ShopId, groupId: string): Promise<void> {
    const key = groupLockKey(shopId, groupId);
    if (this.groupLocksHeld.has(key)) return;
    await this.sql.query`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))::text AS locked`;
    if (this.sql.inTransaction) this.groupLocksHeld.add(key);
  }

  /** Another payment of the group that took the buyer's money (resolved, or pending at Flex). */
  async paidInGroup(payment: Pick<PaymentSessionRecord, 'id' | 'shopId' | 'groupId'>): Promise<PaymentSessionRecord | null> {
    const rows = await this.sql.query<PaymentSession>`
      SELECT * FROM "PaymentSession"
      WHERE "shopId" = ${payment.shopId}::uuid AND "groupId" = ${payment.groupId} AND id <> ${payment.id}::uuid AND status IN ('RESOLVED', 'PENDING')
      LIMIT 1`;
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** The group's other payments whose Flex checkout the buyer could still pay. */
  async openInGroup(payment: Pick<PaymentSessionRecord, 'id' | 'shopId' | 'groupId'>): Promise<PaymentSessionRecord[]> {
    const rows = await this.sql.query<PaymentSession>`
      SELECT * FROM "PaymentSession"
      WHERE "shopId" = ${payment.shopId}::uuid AND "groupId" = ${payment.groupId} AND id <> ${payment.id}::uuid
        AND status = 'CHECKOUT_CREATED' AND "flexCheckoutSessionId" IS NOT NULL`;
    return rows.map(toRecord);
  }

  /** Flex took money for a payment the app had already decided against; true the first time. */
  async markPaidAfterDecision(id: PaymentId, now: Date): Promise<boolean> {
    const count = await this.sql.execute`
      UPDATE "PaymentSession" SET "flexPaidAfterDecisionAt" = ${now}, "updatedAt" = ${new Date()}
      WHERE id = ${id}::uuid AND "flexPaidAfterDecisionAt" IS NULL`;
    return count === 1;
  }

  async listPaidAfterDecision(shopId: ShopId, since: Date): Promise<PaymentSessionRecord[]> {
    const rows = await this.db.paymentSession.findMany({ where: { shopId, flexPaidAfterDecisionAt: { gte: since } }, orderBy: { flexPaidAfterDecisionAt: 'desc' }, take: 20 });
    return rows.map(toRecord);
  }

  /**
   * What Shopify acknowledged, and its timeline event, in one statement; false when the payment is
   * gone. A late "pending" acknowledgement (`pendingOnly`) does not hide a final state Shopify
   * already confirmed: the row is left as it is, the event is still recorded.
   */
  async recordShopifyAcknowledged(
    id: PaymentId,
    shopifyState: string,
    nextActionUrl: string | null,
    pendingOnly: boolean,
    event: { type: string; detail: Prisma.InputJsonValue },
    /** The outbox job that sent the mutation, marked succeeded in the same statement, whether or not the payment is still there. */
    jobSucceeded?: JobSucceeded,
  ): Promise<boolean> {
    const rows = await this.sql.query<{ n: number }>`
      WITH payment AS (
        SELECT id FROM "PaymentSession" WHERE id = ${id}::uuid
      ), updated AS (
        UPDATE "PaymentSession" SET "shopifyState" = ${shopifyState}, "nextActionUrl" = coalesce(${nextActionUrl || null}, "nextActionUrl"), "updatedAt" = ${new Date()}
        WHERE id = ${id}::uuid AND NOT (${pendingOnly} AND coalesce("shopifyState" IN ('RESOLVED', 'REJECTED'), false))
      ), event AS (
        INSERT INTO "PaymentEvent" ("paymentSessionId", "type", "detail", "createdAt")
        SELECT id, ${event.type}, ${JSON.stringify(event.detail)}::jsonb, ${new Date()} FROM payment
      )${jobSucceeded ? Prisma.sql`, job AS (${jobSucceededSql(jobSucceeded)})` : Prisma.empty}
      SELECT count(*)::int AS n FROM payment`;
    return (rows[0]?.n ?? 0) > 0;
  }

  async recordShopifyState(id: PaymentId, shopifyState: string, nextActionUrl: string | null): Promise<void> {
    await this.db.paymentSession.update({
      where: { id },
      data: { shopifyState, ...(nextActionUrl ? { nextActionUrl } : {}) },
    });
  }

  async recordBuyerReturn(id: PaymentId, now: Date): Promise<void> {
    await this.db.paymentSession.updateMany({ where: { id, buyerReturnedAt: null }, data: { buyerReturnedAt: now } });
  }

  async recordBuyerCancel(id: PaymentId, now: Date): Promise<void> {
    await this.db.paymentSession.update({ where: { id }, data: { buyerCanceledAt: now } });
  }

  /**
   * Claims sessions due for a status check with Flex, pushing their next check out by `leaseMs`
   * so that other instances skip them meanwhile.
   */
  async claimDueForReconciliation(now: Date, limit: number, leaseMs: number): Promise<PaymentSessionRecord[]> {
    const rows = await this.sql.query<PaymentSession>`
      UPDATE "PaymentSession" SET "nextReconcileAt" = ${new Date(now.getTime() + leaseMs)},
        "reconcileAttempts" = "reconcileAttempts" + 1, "updatedAt" = ${now}
      WHERE id IN (
        SELECT id FROM "PaymentSession"
        WHERE "nextReconcileAt" <= ${now} AND status IN ('CHECKOUT_CREATED', 'PENDING')
        ORDER BY "nextReconcileAt"
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING *`;
    return rows.map(toRecord);
  }

  async scheduleReconciliation(id: PaymentId, at: Date | null): Promise<void> {
    await this.db.paymentSession.updateMany({
      where: { id, status: { in: ['CHECKOUT_CREATED', 'PENDING'] } },
      data: { nextReconcileAt: at },
    });
  }

  async addEvent(paymentSessionId: PaymentId, type: string, detail?: Prisma.InputJsonValue): Promise<void> {
    // The app's time, as Prisma's @default(now()) sends it: the database's now() is the start of the
    // transaction, which would put this event before earlier ones of the same transaction.
    await this.sql.execute`
      INSERT INTO "PaymentEvent" ("paymentSessionId", "type", "detail", "createdAt")
      VALUES (${paymentSessionId}::uuid, ${type}, ${detail === undefined ? null : JSON.stringify(detail)}::jsonb, ${new Date()})`;
  }

  async listEvents(paymentSessionId: PaymentId): Promise<Array<{ type: string; detail: Prisma.JsonValue; createdAt: Date }>> {
    return this.db.paymentEvent.findMany({
      where: { paymentSessionId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { type: true, detail: true, createdAt: true },
    });
  }

  /** The timelines of several payments in one query (the settings page), oldest event first. */
  async listEventsForPayments(paymentSessionIds: PaymentId[]): Promise<Map<PaymentId, Array<{ type: string; detail: Prisma.JsonValue; createdAt: Date }>>> {
    const byPayment = new Map<PaymentId, Array<{ type: string; detail: Prisma.JsonValue; createdAt: Date }>>(paymentSessionIds.map((id) => [id, []]));
    if (paymentSessionIds.length === 0) return byPayment;
    const rows = await this.db.paymentEvent.findMany({
      where: { paymentSessionId: { in: paymentSessionIds } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { paymentSessionId: true, type: true, detail: true, createdAt: true },
    });
    for (const { paymentSessionId, ...event } of rows) byPayment.get(paymentSessionId as PaymentId)?.push(event);
    return byPayment;
  }

  /**
   * Paid payments that only the reconciler confirmed: the buyer did not come back and no Flex
   * webhook arrived, a sign that webhooks do not reach the app.
   */
  countResolvedByReconciler(shopId: ShopId, since: Date): Promise<number> {
    return this.db.paymentSession.count({ where: { shopId, status: 'RESOLVED', decisionSource: 'RECONCILER', decidedAt: { gte: since } } });
  }

  async listRecentForShop(shopId: ShopId, limit: number): Promise<PaymentSessionRecord[]> {
    const rows = await this.db.paymentSession.findMany({ where: { shopId }, orderBy: { createdAt: 'desc' }, take: limit });
    return rows.map(toRecord);
  }
}

export function toRecord(row: PaymentSession): PaymentSessionRecord {
  return {
    ...row,
    id: row.id as PaymentId,
    shopId: row.shopId as ShopId,
    shopifyId: row.shopifyId as ShopifySessionId,
    flexCheckoutSessionId: row.flexCheckoutSessionId as FlexCheckoutSessionId | null,
    amountMinor: toSafeNumber(row.amountMinor),
  };
}
