import type { OrdersOverview } from '../../orders/orders-overview';
import { FLAG_TEXT, type ReconciliationOverview, type ReportRow } from '../../reconciliation/reconciliation-report';
import { formatMoney } from '../../lib/money';
import { escapeHtml as e } from './html';

/** The settings page's Orders and Reconciliation cards (README "Orders", "Reconciliation"). */

export function ordersCard(view: OrdersOverview): string {
  const missing = view.missing.length
    ? `<div class="problem warning" data-problem="orders-missing"><h3>${view.missing.length} paid payment${view.missing.length === 1 ? '' : 's'} without a Shopify order yet</h3>
<p>Flex took the money and Shopify was told, but no order naming ${view.missing.length === 1 ? 'this payment' : 'these payments'} has reached the app (neither its webhook nor the app's periodic search found one).</p>
<ul>${view.missing.map((m) => `<li data-missing-order="${e(m.paymentShopifyId)}">Payment <code>${e(m.paymentShopifyId)}</code>: ${e(m.amount)}${m.test ? ' (test)' : ''}, paid ${e(date(m.decidedAt))}</li>`).join('')}</ul>
<p><strong>What to do:</strong> look for the order in Shopify (search the orders for the payment id). If there is none, the buyer paid but Shopify made no order: refund them in the Flex dashboard, or create the order by hand.</p></div>`
    : '';
  const rows = view.orders
    .map((o) => {
      const flagged = o.differences.length > 0;
      return `<tr data-order="${e(o.name)}"${flagged ? ' class="flagged"' : ''}><td><strong>${e(o.name)}</strong>${o.test ? ' <span class="badge info">Test</span>' : ''}<div class="muted small">payment <code>${e(o.paymentShopifyId)}</code>${o.flexCheckoutSessionId ? ` · Flex <code>${e(o.flexCheckoutSessionId)}</code>` : ''}</div></td>
<td>${e(o.total)}</td><td>${e(o.hsaFsa)}</td><td>${e(o.card)}</td><td>${o.lmnRequired ? 'Yes' : o.lmnRequired === false ? 'No' : '—'}</td>
<td>${flagged ? `<span class="badge warning">Differs</span><ul class="small">${o.differences.map((d) => `<li>${e(d)}</li>`).join('')}</ul>` : '<span class="badge success">Matches</span>'}
<div class="muted small">${o.annotated ? 'Written on the order' : 'Being written on the order'} · found by ${e(o.source === 'poller' ? "the app's search" : o.source)}</div></td></tr>`;
    })
    .join('');
  const table = rows
    ? `<table><thead><tr><th>Order</th><th>Total</th><th>HSA/FSA card</th><th>Regular card</th><th>Letter needed</th><th>Compared with Flex</th></tr></thead><tbody>${rows}</tbody></table>`
    : '<p class="muted">No orders yet. Each Shopify order paid with Flex appears here once Shopify has created it.</p>';
  return `<section class="card" id="orders"><h2>Orders paid with Flex${view.flaggedCount ? ` <span class="badge warning">${view.flaggedCount} differ</span>` : ''}</h2>
<p class="muted">Each order is tagged, gets a line in its note and Flex metafields (checkout, amounts per card, letter of medical necessity). Orders that differ from what Flex charged come first.</p>
${missing}${table}</section>`;
}

export function reconciliationCard(view: ReconciliationOverview, links: { live: string; test: string }): string {
  const mode = view.mode === 'LIVE' ? 'live' : 'test';
  const other = view.mode === 'LIVE' ? `<a href="${e(links.test)}">Show test mode</a>` : `<a href="${e(links.live)}">Show live mode</a>`;
  const status = view.lastRunAt
    ? `Flex payouts last read ${e(date(view.lastRunAt))}${view.lastError ? ` <span class="badge warning">last attempt failed: ${e(view.lastError)}</span>` : ''}.`
    : 'Flex payouts have not been read yet.';
  const payouts = view.payouts
    .map((p) => {
      const rows = p.rows.map(rowHtml).join('');
      return `<article class="payment" data-payout="${e(p.flexPayoutId)}"><div class="payment-head"><span class="amount">${e(p.amount)}</span><span class="badge ${p.status === 'paid' ? 'success' : 'info'}">${e(p.status.replace(/_/g, ' '))}</span>
${p.flaggedRows ? `<span class="badge critical">${p.flaggedRows} flagged</span>` : '<span class="badge success">All match</span>'}${p.totalDiffers ? '<span class="badge critical">Payout differs from its transactions</span>' : ''}
<span class="muted small">Payout <code>${e(p.flexPayoutId)}</code> · arrives ${e(day(p.arrivalDate))} · ${p.transactions} transactions, net ${e(p.net)}</span></div>
<table class="small"><thead><tr><th>Order</th><th>HSA/FSA card</th><th>Regular card</th><th>Fees</th><th>Refunds</th><th>Net</th><th>Check</th></tr></thead><tbody>${rows}</tbody></table>
${p.moreRows ? `<p class="muted small">${p.moreRows} more row${p.moreRows === 1 ? '' : 's'} in the CSV export.</p>` : ''}</article>`;
    })
    .join('');
  const unpaid = view.unpaidOrders.length
    ? `<h3>Orders Flex has not paid out</h3><table class="small"><tbody>${view.unpaidOrders.map(rowHtml).join('')}</tbody></table>`
    : '';
  const csv = `<form method="get" action="/settings/reconciliation.csv" class="actions"><input type="hidden" name="mode" value="${mode}">
<label class="inline">From <input type="date" name="from" required></label><label class="inline">To <input type="date" name="to" required></label>
<button class="button" type="submit">Export CSV</button></form>`;
  return `<section class="card" id="reconciliation"><h2>Reconciliation with Flex payouts (${mode})</h2>
<p class="muted">Flex pays out to your bank 24–72 hours after a payment, net of its fees. Each payout below lists the orders it paid, what Flex charged on each card, its fees, refunds and the net; rows that do not match Shopify come first. ${other}</p>
<p class="muted small">${status}</p>
${payouts || '<p class="muted">No payouts yet.</p>'}${unpaid}${csv}</section>`;
}

function rowHtml(r: ReportRow): string {
  const money = (minor: number) => formatMoney(minor, r.currency);
  const fees = r.transactionFeeMinor + r.interchangeFeeMinor + r.lmnFeeMinor + r.disputeFeeMinor;
  const check = r.flags.length
    ? `${r.flags.map((f) => `<span class="badge critical" data-flag="${f}">${e(FLAG_TEXT[f])}</span>`).join(' ')}<div class="muted">${r.notes.map(e).join(' ')}</div>`
    : '<span class="badge success">Matches</span>';
  const who = r.orderName ? `<strong>${e(r.orderName)}</strong>` : r.flexCheckoutSessionId ? '<span class="muted">no order</span>' : '<span class="muted">adjustments</span>';
  return `<tr data-row="${e(r.flexCheckoutSessionId ?? r.orderName ?? 'other')}"><td>${who}${r.flexCheckoutSessionId ? `<div class="muted"><code>${e(r.flexCheckoutSessionId)}</code></div>` : ''}</td>
<td>${e(money(r.chargedHsaFsaMinor))}</td><td>${e(money(r.chargedCardMinor))}</td><td>${e(money(fees))}</td><td>${e(money(r.refundedMinor))}</td><td>${e(money(r.netMinor))}</td><td>${check}</td></tr>`;
}

function date(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}
