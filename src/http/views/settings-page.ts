import type { PaymentView, Problem, SettingsView } from '../../merchant/settings-view';
import type { TimelineEntry } from '../../merchant/timeline';
import { catalogSection } from './catalog-card';
import { escapeHtml as e } from './html';
import { layout } from './layout';

/** The merchant's settings page: status, what needs attention, Flex keys, payments, data requests. */

export interface SettingsPageInput {
  view: SettingsView;
  csrfToken: string;
  returnUrl: string;
  notice?: string;
  errors?: string[];
  /** Cards other use cases add below the payments (orders, reconciliation). */
  sections?: string[];
}

export function settingsPage(input: SettingsPageInput): string {
  const { view, csrfToken, returnUrl } = input;
  const csrf = `<input type="hidden" name="_csrf" value="${e(csrfToken)}">`;
  const form = (action: string, button: string, className = 'button', fields = '') =>
    `<form class="inline" method="post" action="${e(action)}">${csrf}${fields}<button class="${className}" type="submit">${e(button)}</button></form>`;
  const topbar = `<div class="shop"><span>${e(view.shop.domain)}</span><a href="${e(returnUrl)}">Return to Shopify</a>${form('/settings/sign-out', 'Sign out', 'link')}</div>`;
  const waiting = view.readinessSoon ? '<meta http-equiv="refresh" content="3;url=/settings">' : '';

  const banners = [
    input.notice ? `<div class="banner success" role="status">${e(input.notice)}</div>` : '',
    input.errors && input.errors.length > 0
      ? `<div class="banner critical" role="alert"><strong>Nothing was saved.</strong><ul>${input.errors.map((p) => `<li>${e(p)}</li>`).join('')}</ul></div>`
      : '',
  ].join('');

  return layout(
    'Flex HSA/FSA payments',
    `<main class="page">
<div class="page-title"><h1>Flex HSA/FSA payments</h1><a class="button" href="${e(returnUrl)}">Return to Shopify</a></div>
${banners}
${statusCard(view)}
${problemsCard(view.problems, form)}
${keysCard(view, csrf, form)}
${cartCard(view)}
${paymentsCard(view.payments)}
${catalogSection(view.catalog, { syncForm: form('/settings/catalog/sync', 'Sync products again'), standalone: false })}
${(input.sections ?? []).join('\n')}
${privacyCard(view)}
<footer>This page opens in its own tab: Shopify does not let payments apps run inside its admin (since 30 April 2025). Your session here lasts 8 hours and covers ${e(view.shop.domain)} only.</footer>
</main>`,
    { head: waiting, topbar },
  );
}

function statusCard(view: SettingsView): string {
  const modes = view.connections.length
    ? view.connections
        .map(
          (c) =>
            `<div>${c.mode === 'LIVE' ? 'Live' : 'Test'} <code>${e(c.apiKeyHint)}</code> ${c.keyRejectedAt ? '<span class="badge critical">Key refused</span>' : '<span class="badge success">Active</span>'} <span class="muted small">checked ${e(date(c.verifiedAt))}</span></div>`,
        )
        .join('')
    : '';
  const flex = view.connections.length
    ? `<span class="badge success">Connected</span> <span class="muted">${view.connections.map((c) => (c.mode === 'LIVE' ? 'live' : 'test')).join(' and ')} mode</span>${modes}${
        view.connections.every((c) => c.mode === 'TEST') ? '<p class="muted small">Test mode only: live payments are refused until you add a live key.</p>' : ''
      }`
    : '<span class="badge">Not connected</span><p class="muted small">Enter your Flex API keys below.</p>';
  const shopify = {
    ready: `<span class="badge success">Ready</span><p class="muted small">Shopify shows Flex as ready${view.shop.externalHandle ? ` (as “${e(view.shop.externalHandle)}”)` : ''}. Activate it in Shopify under Settings → Payments.</p>`,
    waiting: `<span class="badge info">Waiting for Shopify</span><p class="muted small">${
      view.readinessSoon ? 'Telling Shopify… this page refreshes by itself.' : 'Shopify has not confirmed yet; the app keeps trying (see below).'
    }</p>`,
    not_ready: '<span class="badge warning">Not ready</span><p class="muted small">Shopify does not show Flex as ready yet.</p>',
    not_connected: '<span class="badge">Not ready</span><p class="muted small">Shopify shows Flex as ready once your keys are connected.</p>',
  }[view.readiness];
  return `<section class="card" id="status"><h2>Status</h2><div class="grid">
<div><div class="label">Flex account</div>${flex}</div>
<div><div class="label">Shopify</div>${shopify}</div>
</div></section>`;
}

function problemsCard(problems: Problem[], form: (action: string, button: string, className?: string, fields?: string) => string): string {
  if (problems.length === 0) return '';
  const items = problems
    .map((p) => {
      const actions = [
        p.retryJobId ? form(`/settings/jobs/${encodeURIComponent(p.retryJobId)}/retry`, 'Retry', 'button primary') : '',
        p.offerReadiness ? form('/settings/ready', 'Tell Shopify Flex is ready', 'button primary') : '',
      ].join('');
      return `<div class="problem ${p.severity === 'warning' ? 'warning' : ''}" data-problem="${e(p.key)}"><h3>${e(p.title)}</h3><p>${e(p.detail)}</p><p><strong>What to do:</strong> ${e(p.whatToDo)}</p>${actions ? `<div class="actions">${actions}</div>` : ''}</div>`;
    })
    .join('');
  return `<section class="card" id="attention"><h2>Needs attention <span class="badge critical">${problems.length}</span></h2>${items}</section>`;
}

function keysCard(view: SettingsView, csrf: string, form: (action: string, button: string, className?: string, fields?: string) => string): string {
  const connected = view.connections.length > 0;
  const disconnect = connected
    ? `<div class="actions"><span class="muted">Remove keys:</span>${view.connections
        .map((c) => form('/settings/disconnect', `Remove ${c.mode === 'LIVE' ? 'live' : 'test'} key`, 'button', `<input type="hidden" name="mode" value="${c.mode.toLowerCase()}">`))
        .join('')}${form('/settings/disconnect', 'Disconnect Flex', 'button critical', '<input type="hidden" name="mode" value="all">')}</div>`
    : '';
  return `<section class="card" id="connect"><h2>${connected ? 'Flex API keys' : 'Connect your Flex account'}</h2>
<p class="muted">Your secret keys are in the Flex dashboard under Developers → API keys. Each key is checked with Flex before it is saved; keys are stored encrypted and never shown again.${connected ? ' Leave a field empty to keep the key you have.' : ' A test key alone lets you try Flex in Shopify’s test mode.'}</p>
<form method="post" action="/settings/connect" autocomplete="off">${csrf}
<label for="live_key">Live secret key</label><input type="password" id="live_key" name="live_key" placeholder="fsk_…" autocomplete="off" spellcheck="false">
<label for="test_key">Test secret key</label><input type="password" id="test_key" name="test_key" placeholder="fsk_test_…" autocomplete="off" spellcheck="false">
<div class="actions"><button class="button primary" type="submit">${connected ? 'Save keys' : 'Connect Flex'}</button></div>
</form>${disconnect}</section>`;
}

function cartCard(view: SettingsView): string {
  const { cart } = view;
  const pixel = cart.pixel.active
    ? `<span class="badge success">Active</span> <span class="muted small">since ${e(date(cart.pixel.activatedAt!))}</span>`
    : cart.pixel.problem
      ? `<span class="badge critical">Not active</span> <span class="muted small">${e(cart.pixel.problem)}</span>`
      : '<span class="badge warning">Being activated</span>';
  const total = cart.withCart + cart.catchAll;
  const share = total === 0 ? '' : ` (${Math.round((cart.withCart / total) * 100)}%)`;
  const fallbacks =
    cart.fallbacks.length === 0
      ? ''
      : `<table class="small"><thead><tr><th>Sent as one line because</th><th>Payments</th></tr></thead><tbody>${cart.fallbacks
          .map((f) => `<tr data-reason="${e(f.reason)}"><td>${e(f.explanation)}</td><td>${f.count}</td></tr>`)
          .join('')}</tbody></table>`;
  return `<section class="card" id="cart"><h2>How carts reach Flex</h2>
<p>Cart pixel: ${pixel}</p>
<p class="muted">Flex judges HSA/FSA eligibility per product, so it needs the buyer's real cart. In the last 30 days <strong data-stat="with-cart">${cart.withCart}</strong> of ${total} payments reached Flex with their cart${share}; <strong data-stat="catch-all">${cart.catchAll}</strong> went as one line for the order total, which Flex treats as not eligible.</p>
${fallbacks}</section>`;
}

function paymentsCard(payments: PaymentView[]): string {
  if (payments.length === 0) {
    return '<section class="card" id="payments"><h2>Recent payments</h2><p class="muted">No payments yet. They appear here as soon as a buyer chooses Flex at checkout.</p></section>';
  }
  const items = payments
    .map((p) => {
      const steps = p.steps.map((s) => `<span class="step ${s.state}">${e(s.label)}</span>`).join('<span class="arrow">→</span>');
      const timeline = p.timeline.map((t) => timelineItem(t)).join('');
      return `<article class="payment" data-payment="${e(p.shopifyId)}">
<div class="payment-head"><span class="amount">${e(p.amount)}</span><span class="badge ${p.statusTone}">${e(p.statusLabel)}</span>${p.test ? '<span class="badge info">Test</span>' : ''}${p.kind === 'AUTHORIZATION' ? '<span class="badge">Authorization</span>' : ''}
<span class="muted small">Shopify <code>${e(p.shopifyId)}</code>${p.flexCheckoutSessionId ? ` · Flex <code>${e(p.flexCheckoutSessionId)}</code>` : ''} · ${e(date(p.createdAt))}</span></div>
<div class="steps">${steps}</div>
<ol class="timeline">${timeline}</ol>
</article>`;
    })
    .join('');
  return `<section class="card" id="payments"><h2>Recent payments</h2>${items}</section>`;
}

function timelineItem(t: TimelineEntry): string {
  return `<li class="${t.tone}"><time datetime="${e(t.at.toISOString())}">${e(time(t.at))}</time>${e(t.label)}${t.detail ? ` <span class="muted">— ${e(t.detail)}</span>` : ''}</li>`;
}

function privacyCard(view: SettingsView): string {
  const requests = view.dataRequests.length
    ? `<table><thead><tr><th>Received</th><th>Customer</th><th>Payments found</th><th></th></tr></thead><tbody>${view.dataRequests
        .map(
          (r) =>
            `<tr><td>${e(date(r.receivedAt))}</td><td>${e(r.customerEmail ?? 'redacted')}</td><td>${r.paymentsFound ?? '—'}</td><td>${
              r.downloadable ? `<a href="/settings/data-requests/${encodeURIComponent(r.id)}">Download report (JSON)</a>` : e(r.status.replace(/_/g, ' '))
            }</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p class="muted">None received.</p>';
  const redactions = view.redactions.length
    ? `<p class="muted small">Erasure requests carried out: ${view.redactions
        .map((r) => `${e(date(r.receivedAt))} (customer ${e(r.customerId ?? '?')}: ${e(r.outcome.replace(/_/g, ' '))})`)
        .join('; ')}.</p>`
    : '';
  return `<section class="card" id="privacy"><h2>Customer data requests</h2>
<p class="muted">When a customer asks your store for their data, Shopify tells the app, which compiles what it holds about them (their Flex payments through this app). Send the report to the customer within 30 days.</p>
${requests}${redactions}</section>`;
}

function date(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function time(d: Date): string {
  return d.toISOString().slice(11, 19);
}
