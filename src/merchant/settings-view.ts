import { CART_FALLBACK_EXPLANATIONS, type CartFallbackReason } from '../cart/price-cart';
import type { FlexMode, PaymentKind, PaymentStatus } from '@prisma/client';
import type { Clock } from '../lib/clock';
import { z } from 'zod';
import type { ShopDomain } from '../lib/ids';
import { formatMoney } from '../lib/money';
import type { JobRecord } from '../db/repositories/jobs';
import type { Transactor } from '../db/transactor';
import { isConfigurationJob, pendingConfigurationJobs } from './payments-app-configuration';
import { CUSTOMER_REDACT_TOPIC, DATA_REQUEST_TOPIC } from '../db/repositories/shopify-webhook-deliveries';
import { mutationLabel, timelineEntry, type TimelineEntry } from './timeline';
import { loadCatalogView, type CatalogView } from './catalog-view';

export interface ConnectionView {
  mode: FlexMode;
  apiKeyHint: string;
  verifiedAt: Date;
  keyRejectedAt: Date | null;
}

export type Readiness = 'ready' | 'waiting' | 'not_ready' | 'not_connected';

export interface Problem {
  key: string;
  severity: 'critical' | 'warning';
  title: string;
  detail: string;
  whatToDo: string;
  /** A job that needs attention; the page offers "Retry". */
  retryJobId?: string;
  /** Shopify was never told the provider is ready; the page offers to tell it. */
  offerReadiness?: boolean;
}

export interface PaymentView {
  id: string;
  shopifyId: string;
  createdAt: Date;
  /** "42.00 USD" */
  amount: string;
  kind: PaymentKind;
  test: boolean;
  status: PaymentStatus;
  statusLabel: string;
  statusTone: TimelineEntry['tone'];
  steps: Array<{ label: string; state: 'done' | 'current' | 'failed' | 'todo' }>;
  flexCheckoutSessionId: string | null;
  timeline: TimelineEntry[];
}

export interface DataRequestView {
  id: string;
  receivedAt: Date;
  customerEmail: string | null;
  paymentsFound: number | null;
  status: string;
  downloadable: boolean;
}

export interface RedactionView {
  receivedAt: Date;
  customerId: string | null;
  outcome: string;
}

export interface SettingsView {
  shop: { domain: string; paymentsAppReady: boolean; externalHandle: string | null };
  connections: ConnectionView[];
  readiness: Readiness;
  /** Shopify is being told right now (first attempts): worth refreshing the page for. */
  readinessSoon: boolean;
  problems: Problem[];
  payments: PaymentView[];
  dataRequests: DataRequestView[];
  redactions: RedactionView[];
  cart: CartCaptureView;
  /** The catalog sync per mode and the first page of the catalog with its Flex eligibility. */
  catalog: CatalogView;
}

/** How the buyers' carts reached Flex: the pixel's state, and the last 30 days' payments by cart source. */
export interface CartCaptureView {
  pixel: { active: boolean; activatedAt: Date | null; problem: string | null };
  withCart: number;
  catchAll: number;
  /** Why payments went to Flex as the catch-all line, most frequent first. */
  fallbacks: Array<{ reason: string; explanation: string; count: number }>;
}

const RECENT_PAYMENTS = 20;
const RECONCILER_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;
const PAID_LATE_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;
const CART_STATS_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;
const STUCK_AFTER_ATTEMPTS = 3;

/** Everything the settings page shows, for the signed-in shop only. */
export class LoadSettingsView {
  constructor(private readonly deps: { transactor: Transactor; clock: Clock }) {}

  async execute(shopDomain: ShopDomain): Promise<SettingsView | null> {
    const repos = this.deps.transactor.repos;
    const shop = await repos.shops.findByDomain(shopDomain);
    if (!shop) return null;
    const now = this.deps.clock.now();

    const connections = await repos.flexConnections.listForShop(shop.id);
    const pendingConfiguration = await pendingConfigurationJobs(repos, shop.id);
    const needsAttention = await repos.jobs.list({ shopId: shop.id, status: ['NEEDS_ATTENTION'], limit: 20 });
    const retrying = (await repos.jobs.list({ shopId: shop.id, status: ['QUEUED'], limit: 50 })).filter((j) => j.attempts >= STUCK_AFTER_ATTEMPTS);
    const recent = await repos.payments.listRecentForShop(shop.id, RECENT_PAYMENTS);
    const reconciled = await repos.payments.countResolvedByReconciler(shop.id, new Date(now.getTime() - RECONCILER_WINDOW_MS));
    const paidLate = await repos.payments.listPaidAfterDecision(shop.id, new Date(now.getTime() - PAID_LATE_WINDOW_MS));
    const paidLateTimelines = await repos.payments.listEventsForPayments(paidLate.map((p) => p.id));
    const cartSources = await repos.paymentCarts.sourceCounts(shop.id, new Date(now.getTime() - CART_STATS_WINDOW_MS));

    const connectionViews: ConnectionView[] = connections.map((c) => ({
      mode: c.mode,
      apiKeyHint: c.apiKeyHint,
      verifiedAt: c.verifiedAt,
      keyRejectedAt: c.keyRejectedAt,
    }));

    const readiness: Readiness =
      connections.length === 0 && !shop.paymentsAppReady
        ? pendingConfiguration.length > 0 ? 'waiting' : 'not_connected'
        : pendingConfiguration.length > 0 ? 'waiting' : shop.paymentsAppReady ? 'ready' : 'not_ready';

    const problems: Problem[] = [];
    for (const c of connections) {
      const mode = c.mode === 'LIVE' ? 'live' : 'test';
      if (c.keyRejectedAt) {
        problems.push({
          key: `key-rejected-${mode}`,
          severity: 'critical',
          title: `Flex refuses your ${mode} API key`,
          detail: `Since ${c.keyRejectedAt.toISOString()} Flex answers "invalid API key" for ${c.apiKeyHint}. ${mode === 'live' ? 'Live' : 'Test'} payments cannot start until this is fixed.`,
          whatToDo: `Create a new secret key in the Flex dashboard (Developers → API keys) and enter it below as the ${mode} key.`,
        });
      }
    }
    if (shop.pixelProblem) {
      problems.push({
        key: 'cart-pixel',
        severity: 'warning',
        title: 'The cart pixel could not be activated on your store',
        detail: `Shopify answered: ${shop.pixelProblem}. Carts still reach Flex through Shopify's checkout webhooks, but later and less often.`,
        whatToDo: 'Open the app from your Shopify admin so it can ask for the permissions it needs (pixels, customer events), then connect your Flex keys again below to retry.',
      });
    }
    if (reconciled > 0) {
      problems.push({
        key: 'reconciled-payments',
        severity: 'warning',
        title: `${reconciled} payment${reconciled === 1 ? ' was' : 's were'} confirmed without a Flex webhook`,
        detail: `In the last 7 days the app confirmed ${reconciled === 1 ? 'a paid checkout' : 'paid checkouts'} only through its periodic check with Flex, because neither the buyer's return nor a webhook reached it. Orders were confirmed late.`,
        whatToDo: 'Make sure the app is reachable from the internet at its webhook address, then enter your keys again below to re-register the webhook endpoint.',
      });
    }
    for (const p of paidLate) {
      const events = paidLateTimelines.get(p.id) ?? [];
      const returned = events.find((e) => e.type === 'late_payment_returned' || e.type === 'late_payment_nothing_taken');
      const stuck = events.find((e) => e.type === 'late_payment_needs_decision');
      const why = detailText(events.find((e) => e.type === 'flex_paid_after_decision')?.detail, 'why');
      problems.push({
        key: `paid-late-${p.id}`,
        severity: stuck ? 'critical' : 'warning',
        title: `A buyer paid ${formatMoney(p.amountMinor, p.currency)} in Flex after payment ${p.shopifyId} was declined`,
        detail: `${why ?? 'Flex took the money after the app had decided the payment'}. ${
          stuck
            ? `Flex refused to return it: ${detailText(stuck.detail, 'why') ?? 'no reason given'}.`
            : returned
              ? 'The money was returned to the buyer in Flex (or nothing had been taken).'
              : 'The app is returning the money to the buyer in Flex.'
        }`,
        whatToDo: stuck
          ? 'Decide in the Flex dashboard: refund the buyer there, or keep the money and create the order by hand in Shopify. Then mark the job done from the Retry button once Flex shows it settled.'
          : 'Nothing: no order was created in Shopify, and the buyer gets their money back. Tell the buyer if they ask.',
      });
    }
    for (const job of needsAttention) {
      const toFlex = isFlexJob(job);
      problems.push({
        key: `job-${job.id}`,
        severity: 'critical',
        title: toFlex ? `Flex did not confirm a ${flexJobLabel(job)}: ${jobSubject(job, recent)}` : `Shopify did not take an update: ${jobSubject(job, recent)}`,
        detail: `Stopped after ${job.attempts} attempt${job.attempts === 1 ? '' : 's'}: ${job.lastError ?? 'no error recorded'}`,
        whatToDo: toFlex
          ? `Check in the Flex dashboard whether the ${flexJobLabel(job)} went through, then retry: a retry reuses the same idempotency key and first looks for what Flex already did, so it never repeats it. Quote job ${job.id} to Flex support if it keeps failing.`
          : 'If the cause is fixed (for example the app was reinstalled or Shopify was down), retry. If Shopify refuses it again, contact Flex support and quote job ' + job.id + '.',
        retryJobId: job.id,
      });
    }
    for (const job of retrying) {
      const toFlex = isFlexJob(job);
      problems.push({
        key: `job-${job.id}`,
        severity: 'warning',
        title: toFlex ? `Flex has not confirmed a ${flexJobLabel(job)} yet: ${jobSubject(job, recent)}` : `Shopify has not accepted an update yet: ${jobSubject(job, recent)}`,
        detail: `${job.attempts} attempts so far; last error: ${job.lastError ?? 'none recorded'}. The app keeps retrying for up to 26 hours.`,
        whatToDo: toFlex
          ? 'Nothing yet: the app retries by itself with the same idempotency key. If this stays here for hours, check Flex’s status and that your Flex key is still valid.'
          : 'Nothing yet: the app retries by itself. If this stays here for hours, check Shopify’s status page and that the app is still installed.',
      });
    }
    if (connections.length > 0 && !shop.paymentsAppReady && pendingConfiguration.length === 0 && !needsAttention.some(isConfigurationJob)) {
      problems.push({
        key: 'not-ready',
        severity: 'warning',
        title: 'Shopify does not show Flex as ready',
        detail: 'Your Flex keys are connected, but Shopify has not been told that the payment provider is ready, so Flex cannot be activated in Shopify’s payment settings.',
        whatToDo: 'Tell Shopify now.',
        offerReadiness: true,
      });
    }

    const timelines = await repos.payments.listEventsForPayments(recent.map((p) => p.id));
    const payments: PaymentView[] = [];
    for (const p of recent) {
      payments.push({
        id: p.id,
        shopifyId: p.shopifyId,
        createdAt: p.createdAt,
        amount: formatMoney(p.amountMinor, p.currency),
        kind: p.kind,
        test: p.test,
        status: p.status,
        statusLabel: statusLabel(p.status, p.kind),
        statusTone: p.status === 'RESOLVED' ? 'success' : p.status === 'REJECTED' ? 'critical' : p.status === 'PENDING' ? 'warning' : 'info',
        steps: steps(p.status, p.flexCheckoutSessionId !== null, p.kind),
        flexCheckoutSessionId: p.flexCheckoutSessionId,
        timeline: (timelines.get(p.id) ?? []).map(timelineEntry),
      });
    }

    const requests = await repos.shopifyWebhookDeliveries.listForShop(shop.domain, [DATA_REQUEST_TOPIC], 20);
    const redactions = await repos.shopifyWebhookDeliveries.listForShop(shop.domain, [CUSTOMER_REDACT_TOPIC], 20);
    return {
      shop: { domain: shop.domain, paymentsAppReady: shop.paymentsAppReady, externalHandle: shop.externalHandle },
      connections: connectionViews,
      readiness,
      readinessSoon: readiness === 'waiting' && pendingConfiguration.every((j) => j.attempts < STUCK_AFTER_ATTEMPTS),
      problems,
      payments,
      dataRequests: requests.map((r) => {
        const payload = asObject(r.payload);
        const report = asObject(payload.report);
        const customer = asObject(asObject(payload.request).customer);
        return {
          id: r.id,
          receivedAt: r.receivedAt,
          customerEmail: typeof customer.email === 'string' ? customer.email : null,
          paymentsFound: Array.isArray(report.payments) ? report.payments.length : null,
          // Past the retention period the report is gone; what was asked and done stays.
          status: r.prunedAt && !Array.isArray(report.payments) ? 'report_removed_after_the_retention_period' : (r.outcome ?? 'processing'),
          downloadable: Array.isArray(report.payments),
        };
      }),
      cart: {
        pixel: { active: shop.webPixelId !== null && !shop.pixelProblem, activatedAt: shop.pixelActivatedAt, problem: shop.pixelProblem },
        withCart: cartSources.filter((c) => c.source === 'CART').reduce((sum, c) => sum + c.count, 0),
        catchAll: cartSources.filter((c) => c.source === 'CATCH_ALL').reduce((sum, c) => sum + c.count, 0),
        fallbacks: cartSources
          .filter((c) => c.source === 'CATCH_ALL')
          .map((c) => ({ reason: c.reason ?? 'unknown', explanation: CART_FALLBACK_EXPLANATIONS[c.reason as CartFallbackReason] ?? 'unknown reason', count: c.count }))
          .sort((a, b) => b.count - a.count),
      },
      redactions: redactions.map((r) => {
        const customer = asObject(asObject(asObject(r.payload).request).customer);
        return { receivedAt: r.receivedAt, customerId: customer.id === undefined || customer.id === null ? null : String(customer.id), outcome: r.outcome ?? 'processing' };
      }),
      catalog: await loadCatalogView(repos, shop.id),
    };
  }
}

/** Jobs that call Flex (refund, capture, void) rather than Shopify. */
function isFlexJob(job: JobRecord): boolean {
  return job.kind.startsWith('flex.');
}

function flexJobLabel(job: JobRecord): string {
  return job.kind.slice('flex.'.length);
}

function jobSubject(job: JobRecord, payments: Array<{ id: string; shopifyId: string }>): string {
  if (isConfigurationJob(job)) return `${mutationLabel('paymentsAppConfigure')} (paymentsAppConfigure)`;
  // Jobs that report to Shopify name their Payments Apps mutation in their payload.
  const mutation = mentionedMutation.safeParse(job.payload);
  const what = mutation.success ? mutationLabel(mutation.data.mutation) : job.kind;
  const payment = payments.find((p) => p.id === job.subjectId);
  return payment ? `${what} for payment ${payment.shopifyId}` : `${what}${job.subjectType ? ` (${job.subjectType.replace(/_/g, ' ')} ${job.subjectId ?? ''})` : ''}`;
}

const mentionedMutation = z.object({ mutation: z.string() });

function statusLabel(status: PaymentStatus, kind: PaymentKind): string {
  switch (status) {
    case 'RECEIVED':
      return 'Started';
    case 'CHECKOUT_CREATED':
      return 'Waiting for the buyer';
    case 'PENDING':
      return 'Pending';
    case 'RESOLVED':
      return kind === 'AUTHORIZATION' ? 'Authorized' : 'Paid';
    case 'REJECTED':
      return 'Declined';
  }
}

function steps(status: PaymentStatus, hasCheckout: boolean, kind: PaymentKind): PaymentView['steps'] {
  const outcome =
    status === 'RESOLVED'
      ? { label: kind === 'AUTHORIZATION' ? 'Authorized' : 'Resolved', state: 'done' as const }
      : status === 'REJECTED'
        ? { label: 'Rejected', state: 'failed' as const }
        : status === 'PENDING'
          ? { label: 'Pending', state: 'current' as const }
          : { label: 'Outcome', state: 'todo' as const };
  return [
    { label: 'Shopify session', state: 'done' },
    { label: 'Flex checkout', state: hasCheckout ? 'done' : status === 'REJECTED' ? 'failed' : 'current' },
    outcome,
  ];
}

function detailText(detail: unknown, key: string): string | undefined {
  const value = asObject(detail)[key];
  return typeof value === 'string' ? value : undefined;
}

function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
