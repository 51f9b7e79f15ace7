import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric the app exposes (Prometheus text format, `prom-client`), defined in this one place.
 * The composition root makes one `AppMetrics` per app and hands it to whatever records something, so
 * each app (and each test) has a registry of its own.
 *
 * Labels are closed sets spelled out in the types below: a label never carries an id, a shop domain,
 * an email or anything a buyer typed, so the number of series stays bounded and the scrape leaks
 * nothing. To add a metric: define it here (name `flex_app_…`, help text, typed labels), give the
 * module that records it this object through the composition root, and, for a value that is read
 * from the database when Prometheus scrapes, register a source with `onScrape`. README "Metrics"
 * lists them; add yours there too.
 */

export type FlexOperation =
  | 'verify_key'
  | 'create_product'
  | 'create_price'
  | 'create_checkout_session'
  | 'get_checkout_session'
  | 'list_checkout_sessions'
  | 'refund'
  | 'get_refund'
  | 'list_refunds'
  | 'capture'
  | 'cancel'
  | 'create_webhook'
  | 'delete_webhook'
  | 'get_product'
  | 'update_product'
  | 'list_products_by_reference'
  | 'list_prices_of_product'
  | 'deactivate_price'
  | 'list_payment_intents'
  | 'list_checkout_line_items'
  | 'list_payouts'
  | 'list_payout_balance_transactions';

/** How a call to Flex or Shopify ended, as seen on the wire. */
export type CallOutcome =
  | 'ok'
  /** Refused outright: a 4xx other than those below, or GraphQL errors that are not transient. */
  | 'refused'
  | 'not_found'
  /** The credential was refused (401/403). */
  | 'unauthorized'
  /** 429, or Shopify's THROTTLED. */
  | 'throttled'
  /** 5xx, or a transient GraphQL error (INTERNAL_SERVER_ERROR, …). */
  | 'server_error'
  | 'timeout'
  | 'network_error'
  /** An answer that is not what the API sends (not JSON, wrong shape). */
  | 'bad_response';

export type WebhookSource = 'flex' | 'shopify';
/** valid: the signature checked out; invalid: refused (401); not_checked: refused as malformed before or without the check. */
export type WebhookVerification = 'valid' | 'invalid' | 'not_checked';

export type SessionKind = 'payment' | 'refund' | 'capture' | 'void';
export type SessionOutcome = 'resolved' | 'rejected' | 'pending';

export type JobRunResult = 'succeeded' | 'retry' | 'needs_attention';
export type JobState = 'queued' | 'running' | 'needs_attention';
export type OpenPaymentStatus = 'received' | 'checkout_created' | 'pending';
export type CatalogVariantState = 'synced' | 'pending' | 'refused';

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Seconds; the outbound ones reach past the 10 s default timeouts. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const CALL_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class AppMetrics {
  readonly registry = new Registry();

  // HTTP (every listener; `route` is the Express route pattern, never the path).
  readonly httpRequestDuration = new Histogram({
    name: 'flex_app_http_request_duration_seconds',
    help: 'HTTP requests answered, by method, Express route pattern and status, and how long they took',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });

  // Calls out.
  readonly flexRequestDuration = new Histogram({
    name: 'flex_app_flex_request_duration_seconds',
    help: 'Calls to the Flex API by operation and outcome, and how long they took',
    labelNames: ['operation', 'outcome'] as const,
    buckets: CALL_BUCKETS,
    registers: [this.registry],
  });
  readonly shopifyRequestDuration = new Histogram({
    name: 'flex_app_shopify_request_duration_seconds',
    help: 'GraphQL calls to Shopify (Payments Apps and Admin API) by operation name and outcome, and how long they took',
    labelNames: ['operation', 'outcome'] as const,
    buckets: CALL_BUCKETS,
    registers: [this.registry],
  });

  // Webhooks in.
  readonly webhookDeliveries = new Counter({
    name: 'flex_app_webhook_deliveries_total',
    help: 'Webhook deliveries received, by source and what their signature check came to',
    labelNames: ['source', 'verification'] as const,
    registers: [this.registry],
  });

  // Money.
  readonly sessionOutcomes = new Counter({
    name: 'flex_app_session_outcomes_total',
    help: 'Payment, refund, capture and void session outcomes Shopify acknowledged, by kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });

  // The outbox: runs as they happen, and what the database holds (read at scrape time).
  readonly outboxJobRuns = new Counter({
    name: 'flex_app_outbox_job_runs_total',
    help: 'Outbox job runs by job kind and result (succeeded, retry, needs_attention)',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });
  readonly outboxJobs = new Gauge({
    name: 'flex_app_outbox_jobs',
    help: 'Unfinished outbox jobs by kind and state (queued, running, needs_attention), read from the database at scrape time',
    labelNames: ['kind', 'state'] as const,
    registers: [this.registry],
  });
  readonly outboxOldestDueJobAge = new Gauge({
    name: 'flex_app_outbox_oldest_due_job_age_seconds',
    help: 'How long the oldest job that is due (queued and its time come, or running with its lease run out) has been waiting; 0 when none',
    registers: [this.registry],
  });
  readonly outboxJobsNeedingAttention = new Gauge({
    name: 'flex_app_outbox_jobs_needing_attention',
    help: 'Outbox jobs a person must look at (npm run cli -- jobs:list --status NEEDS_ATTENTION)',
    registers: [this.registry],
  });

  // Payments not yet decided (read at scrape time).
  readonly openPaymentSessions = new Gauge({
    name: 'flex_app_payment_sessions_open',
    help: 'Payment sessions not decided yet, by status (received, checkout_created, pending)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly oldestPendingPaymentAge = new Gauge({
    name: 'flex_app_payment_sessions_oldest_pending_age_seconds',
    help: 'Age of the oldest payment session Shopify was told is pending (Flex has not finished it); 0 when none',
    registers: [this.registry],
  });

  // The cart, the catalog, orders and reconciliation (read at scrape time).
  readonly paymentCarts = new Gauge({
    name: 'flex_app_payment_carts_last_day',
    help: 'Payments of the last 24 hours by how the cart reached Flex (source cart or catch_all) and, for the catch-all line, why (README "How the cart reaches Flex")',
    labelNames: ['source', 'reason'] as const,
    registers: [this.registry],
  });
  readonly catalogVariants = new Gauge({
    name: 'flex_app_catalog_variants',
    help: 'Shopify variants mirrored in Flex, by state: synced (product and price current in Flex), pending (not yet, or changed since), refused (Flex refused this revision)',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly catalogSyncsFailed = new Gauge({
    name: 'flex_app_catalog_syncs_failed',
    help: 'Full catalog syncs stopped for a reason the merchant must fix (shown on the settings page)',
    registers: [this.registry],
  });
  readonly ordersFlagged = new Gauge({
    name: 'flex_app_orders_flagged',
    help: 'Shopify orders that differ from what Flex was asked to charge (flagged on the settings page)',
    registers: [this.registry],
  });
  readonly paymentsWithoutOrder = new Gauge({
    name: 'flex_app_paid_payments_without_order',
    help: 'Payments resolved more than 30 minutes ago (within 7 days) that no Shopify order has been linked to',
    registers: [this.registry],
  });
  readonly reconciliationFailing = new Gauge({
    name: 'flex_app_reconciliation_cursors_failing',
    help: 'Shops and modes whose last read of Flex payouts failed (ReconciliationCursor.lastError)',
    registers: [this.registry],
  });

  readonly scrapeSourceUp = new Gauge({
    name: 'flex_app_scrape_source_up',
    help: 'Whether a value read at scrape time could be read (sources "database" and "database_commerce": the database answered)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  private readonly scrapeSources: Array<{ name: string; collect: () => Promise<void> }> = [];

  /** `processMetrics: false` leaves out the process's own metrics (CPU, memory, event loop, GC). */
  constructor(private readonly options: { processMetrics?: boolean } = {}) {}

  /**
   * A value read when Prometheus scrapes (counts in the database): `collect` sets its gauges. A
   * source that fails leaves its gauges as they were and reads 0 in `flex_app_scrape_source_up`.
   */
  onScrape(name: string, collect: () => Promise<void>): void {
    this.scrapeSources.push({ name, collect });
  }

  /** The Prometheus text exposition, after refreshing the scrape-time sources. */
  async render(): Promise<{ contentType: string; body: string }> {
    await Promise.all(
      this.scrapeSources.map(async (source) => {
        try {
          await source.collect();
          this.scrapeSourceUp.set({ source: source.name }, 1);
        } catch {
          this.scrapeSourceUp.set({ source: source.name }, 0);
        }
      }),
    );
    const own = await this.registry.metrics();
    const proc = this.options.processMetrics === false ? '' : await processRegistry().metrics();
    return { contentType: this.registry.contentType, body: proc ? `${own.trimEnd()}\n${proc}` : own };
  }

  observeHttpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpRequestDuration.observe({ method: HTTP_METHODS.has(method) ? method : 'OTHER', route, status: String(status) }, seconds);
  }

  observeFlexCall(operation: FlexOperation, outcome: CallOutcome, seconds: number): void {
    this.flexRequestDuration.observe({ operation, outcome }, seconds);
  }

  /** `operation` is the GraphQL document's operation name (a constant in our code, never input). */
  observeShopifyCall(operation: string, outcome: CallOutcome, seconds: number): void {
    this.shopifyRequestDuration.observe({ operation, outcome }, seconds);
  }

  webhookDelivered(source: WebhookSource, verification: WebhookVerification): void {
    this.webhookDeliveries.inc({ source, verification });
  }

  sessionOutcome(kind: SessionKind, outcome: SessionOutcome): void {
    this.sessionOutcomes.inc({ kind, outcome });
  }

  jobRan(kind: string, result: JobRunResult): void {
    this.outboxJobRuns.inc({ kind, result });
  }

  /** The outbox as the database holds it now (jobs of a kind absent from `jobs` count as 0). */
  setOutboxSnapshot(snapshot: { jobs: Array<{ kind: string; state: JobState; count: number }>; oldestDueJobAgeSeconds: number; needingAttention: number }): void {
    this.outboxJobs.reset();
    for (const row of snapshot.jobs) this.outboxJobs.set({ kind: row.kind, state: row.state }, row.count);
    this.outboxOldestDueJobAge.set(snapshot.oldestDueJobAgeSeconds);
    this.outboxJobsNeedingAttention.set(snapshot.needingAttention);
  }

  setCommerceSnapshot(snapshot: {
    carts: Array<{ source: 'cart' | 'catch_all'; reason: string; count: number }>;
    catalogVariants: Record<CatalogVariantState, number>;
    catalogSyncsFailed: number;
    ordersFlagged: number;
    paymentsWithoutOrder: number;
    reconciliationFailing: number;
  }): void {
    this.paymentCarts.reset();
    for (const row of snapshot.carts) this.paymentCarts.set({ source: row.source, reason: row.reason }, row.count);
    for (const [state, count] of Object.entries(snapshot.catalogVariants)) this.catalogVariants.set({ state }, count);
    this.catalogSyncsFailed.set(snapshot.catalogSyncsFailed);
    this.ordersFlagged.set(snapshot.ordersFlagged);
    this.paymentsWithoutOrder.set(snapshot.paymentsWithoutOrder);
    this.reconciliationFailing.set(snapshot.reconciliationFailing);
  }

  setOpenPayments(snapshot: { open: Record<OpenPaymentStatus, number>; oldestPendingAgeSeconds: number }): void {
    for (const [status, count] of Object.entries(snapshot.open)) this.openPaymentSessions.set({ status }, count);
    this.oldestPendingPaymentAge.set(snapshot.oldestPendingAgeSeconds);
  }
}

/**
 * The process's own metrics (standard names: process_*, nodejs_*), collected once per process
 * whatever the number of apps in it: prom-client's collectors (event loop delay, GC observer) stay
 * on for good once started, so one set serves every app (tests start many).
 */
let sharedProcessRegistry: Registry | undefined;
function processRegistry(): Registry {
  if (!sharedProcessRegistry) {
    sharedProcessRegistry = new Registry();
    collectDefaultMetrics({ register: sharedProcessRegistry });
  }
  return sharedProcessRegistry;
}

/** Seconds since `started` (a `performance.now()` reading), for the histograms. */
export function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}
