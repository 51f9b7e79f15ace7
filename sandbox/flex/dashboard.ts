import type { FlexCore } from './core';
import type { FaultSettings } from './faults';
import { escapeHtml, formatCents, layout } from './html';
import type { DeliveryRecord } from './webhooks';

// The developer dashboard at `/` and `/__sandbox`: what `npm start` users need to wire the app to
// the sandbox (keys, webhook endpoints) and to follow what happens (sessions, deliveries).

export function renderDashboard(core: FlexCore, deliveries: readonly DeliveryRecord[], faults: FaultSettings): string {
  const { state, clock } = core;
  const accountName = (id: string): string => state.accounts.get(id)?.name ?? id;
  const accounts = [...state.accounts.values()]
    .map(
      (a) => `<tr><td>${escapeHtml(a.name)}<br><code>${escapeHtml(a.accountId)}</code></td>
<td><code>${escapeHtml(a.testKey)}</code></td><td><code>${escapeHtml(a.liveKey)}</code></td></tr>`,
    )
    .join('\n');
  const webhooks = state
    .list(state.webhooks, undefined)
    .map(
      (w) => `<tr><td>${escapeHtml(accountName(w.accountId))} (${w.testMode ? 'test' : 'live'})</td>
<td><code>${escapeHtml(w.url)}</code></td><td>${escapeHtml(w.events.join(', '))}</td></tr>`,
    )
    .join('\n');
  const sessions = state
    .list(state.sessions, undefined)
    .slice(0, 25)
    .map((s) => {
      core.refresh(s);
      const status = s.status === 'open' && s.processing ? 'open (processing)' : s.status;
      return `<tr><td><a href="/pay/c/${escapeHtml(s.id)}"><code>${escapeHtml(s.id)}</code></a><br>${escapeHtml(s.clientReferenceId ?? '')}</td>
<td>${escapeHtml(accountName(s.accountId))} (${s.testMode ? 'test' : 'live'})</td><td>${escapeHtml(status)}</td><td class="num">${formatCents(s.amountTotal)}</td></tr>`;
    })
    .join('\n');
  const recent = deliveries
    .slice(-25)
    .reverse()
    .map((d) => {
      const last = d.attempts.at(-1);
      const outcome = d.dropped ? 'dropped' : d.delivered ? 'delivered' : d.done ? 'failed' : 'pending';
      return `<tr><td>${escapeHtml(d.eventType)}<br><code>${escapeHtml(d.svixId)}</code></td><td><code>${escapeHtml(d.url)}</code></td>
<td>${outcome}</td><td class="num">${d.attempts.length}${last ? ` (${escapeHtml(last.status ?? last.error ?? '')})` : ''}</td></tr>`;
    })
    .join('\n');
  const empty = (cols: number, text: string): string => `<tr><td colspan="${cols}" class="hint">${text}</td></tr>`;
  return layout(
    'Flex sandbox',
    `<h1>Flex sandbox</h1>
<p class="hint">The API lives under <code>/v1</code>. Sandbox clock: ${escapeHtml(clock.iso())}.
Faults: ${escapeHtml(JSON.stringify(faults))}. JSON: <a href="/__sandbox/state">/__sandbox/state</a>.</p>
<h2>Accounts</h2>
<table><thead><tr><th>Account</th><th>Test key</th><th>Live key</th></tr></thead>
<tbody>${accounts || empty(3, 'No accounts yet: POST /__sandbox/accounts')}</tbody></table>
<h2>Webhook endpoints</h2>
<table><thead><tr><th>Account</th><th>URL</th><th>Events</th></tr></thead>
<tbody>${webhooks || empty(3, 'None registered')}</tbody></table>
<h2>Checkout sessions (latest 25)</h2>
<table><thead><tr><th>Session</th><th>Account</th><th>Status</th><th class="num">Total</th></tr></thead>
<tbody>${sessions || empty(4, 'None yet')}</tbody></table>
<h2>Webhook deliveries (latest 25)</h2>
<table><thead><tr><th>Event</th><th>URL</th><th>Outcome</th><th class="num">Attempts</th></tr></thead>
<tbody>${recent || empty(4, 'None yet')}</tbody></table>`,
  );
}
