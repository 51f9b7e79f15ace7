import { once } from 'node:events';
import type { FlexMode } from '@prisma/client';
import { Router, type Response } from 'express';
import type { ShopDomain } from '../../lib/ids';
import type { LoadOrdersOverview } from '../../orders/orders-overview';
import type { ReconciliationReport } from '../../reconciliation/reconciliation-report';
import { currentMerchant, requireMerchant, type MerchantRoutesDeps } from '../merchant-auth';
import { logFields } from '../request-log';
import { ordersCard, reconciliationCard } from '../views/order-report-cards';
import { RECONCILIATION_CSV_HEADER, csvLine, reconciliationCsvLine } from '../views/reconciliation-csv';

/** What the settings page's Orders and Reconciliation cards, and the CSV export, work with. */
export interface OrderReportsDeps {
  orders: LoadOrdersOverview;
  reconciliation: ReconciliationReport;
  clock: { now(): Date };
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** The settings page shows payouts arriving in the last 90 days (and those still to come). */
const PAGE_RANGE_PAST_MS = 90 * DAY_MS;
const PAGE_RANGE_FUTURE_MS = 30 * DAY_MS;
const MAX_EXPORT_DAYS = 366;

/** The Orders and Reconciliation cards for the signed-in shop (`reconciliation=test` shows test mode). */
export async function orderReportSections(deps: OrderReportsDeps, shop: ShopDomain, modeParam: unknown): Promise<string[]> {
  const mode: FlexMode = modeParam === 'test' ? 'TEST' : 'LIVE';
  const now = deps.clock.now().getTime();
  const [orders, reconciliation] = await Promise.all([
    deps.orders.execute(shop),
    deps.reconciliation.overview(shop, mode, { from: new Date(now - PAGE_RANGE_PAST_MS), to: new Date(now + PAGE_RANGE_FUTURE_MS) }),
  ]);
  return [
    orders ? ordersCard(orders) : '',
    reconciliation ? reconciliationCard(reconciliation, { live: '/settings?reconciliation=live#reconciliation', test: '/settings?reconciliation=test#reconciliation' }) : '',
  ];
}

/**
 * GET /settings/reconciliation.csv?mode=live|test&from=YYYY-MM-DD&to=YYYY-MM-DD (both days included):
 * the signed-in shop's reconciliation for payouts arriving in that range, in one mode, streamed
 * batch by batch from the database to the response (backpressure respected; nothing buffered whole).
 */
export function orderReportRoutes(deps: { merchant: MerchantRoutesDeps; reports: OrderReportsDeps }): Router {
  const router = Router();
  router.get('/settings/reconciliation.csv', requireMerchant(deps.merchant), async (req, res) => {
    const { shop } = currentMerchant(res);
    const mode = req.query.mode === 'test' ? 'TEST' : req.query.mode === 'live' || req.query.mode === undefined ? 'LIVE' : undefined;
    const from = dayOf(req.query.from);
    const toDay = dayOf(req.query.to);
    if (!mode || !from || !toDay || toDay < from || toDay.getTime() - from.getTime() > MAX_EXPORT_DAYS * DAY_MS) {
      res.status(400).type('text').send(`Choose a mode (live or test) and a range of dates (from and to, YYYY-MM-DD, at most ${MAX_EXPORT_DAYS} days).`);
      return;
    }
    const rows = await deps.reports.reconciliation.rowsOf(shop, mode, { from, to: new Date(toDay.getTime() + DAY_MS) });
    if (!rows) {
      res.status(404).type('text').send('No such store.');
      return;
    }
    const name = `flex-reconciliation-${mode.toLowerCase()}-${isoDay(from)}-to-${isoDay(toDay)}.csv`;
    res.status(200).set({ 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${name}"` });
    let count = 0;
    try {
      await write(res, csvLine(RECONCILIATION_CSV_HEADER));
      for await (const row of rows) {
        if (res.destroyed) break;
        await write(res, reconciliationCsvLine(row));
        count++;
      }
    } finally {
      logFields(res).outcome = `rows:${count}`;
      res.end();
    }
  });
  return router;
}

/** Writes and, when the socket's buffer is full, waits for it to drain (a slow reader slows the query). */
async function write(res: Response, chunk: string): Promise<void> {
  if (!res.write(chunk) && !res.destroyed) await Promise.race([once(res, 'drain'), once(res, 'close')]);
}

function dayOf(value: unknown): Date | null {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || isoDay(date) !== value ? null : date;
}

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}
