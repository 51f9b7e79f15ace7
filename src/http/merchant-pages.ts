import type { Problem, SettingsView, PaymentView } from '../merchant/settings-view';
import type { TimelineEntry } from '../merchant/timeline';
import { escapeHtml } from './pages';

/**
 * The merchant's pages, server-rendered with inline styles in the look of the Shopify admin
 * (Polaris): no scripts, fonts or images from anywhere, so they work without outside network.
 */

const e = escapeHtml;

const STYLE = `
  *, *::before, *::after { box-sizing: border-box; }
  body { margin: 0; background: #f1f1f1; color: #303030; font: 13px/1.45 -apple-system, BlinkMacSystemFont, "San Francisco", "Segoe UI", Roboto, "Helvetica Neue", sans-serif; }
  a { color: #005bd3; text-decoration: none; } a:hover { text-decoration: underline; }
  .topbar { background: #1a1a1a; color: #e3e3e3; height: 56px; display: flex; align-items: center; justify-content: space-between; padding: 0 16px; }
  .brand { display: flex; align-items: center; gap: 10px; font-weight: 650; color: #fff; font-size: 14px; }
  .logo { width: 28px; height: 28px; border-radius: 8px; background: linear-gradient(135deg, #29845a, #1f5199); color: #fff; display: grid; place-items: center; font-weight: 700; }
  .topbar .shop { display: flex; align-items: center; gap: 12px; font-size: 12px; }
  .topbar a, .topbar button.link { color: #e3e3e3; }
  .page { max-width: 998px; margin: 0 auto; padding: 20px 16px 48px; }
  .page-title { display: flex; align-items: center; justify-content: space-between; margin: 4px 0 16px; }
  h1 { font-size: 20px; font-weight: 700; margin: 0; }
  h2 { font-size: 14px; font-weight: 650; margin: 0 0 12px; }
  h3 { font-size: 13px; font-weight: 650; margin: 0 0 4px; }
  .card { background: #fff; border-radius: 12px; box-shadow: 0 1px 0 rgba(26,26,26,.07), 0 0 0 1px rgba(26,26,26,.07); padding: 16px; margin-bottom: 16px; }
  .muted { color: #616161; } .small { font-size: 12px; }
  .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
  @media (max-width: 700px) { .grid { grid-template-columns: 1fr; } }
  .label { color: #616161; font-size: 12px; margin-bottom: 4px; }
  .badge { display: inline-block; border-radius: 8px; padding: 2px 8px; font-size: 12px; font-weight: 550; background: #e3e3e3; color: #303030; }
  .badge.success { background: #cdfee1; color: #0c5132; } .badge.critical { background: #fedad9; color: #8e1f0b; }
  .badge.warning { background: #ffe8a3; color: #5e4200; } .badge.info { background: #e0f0ff; color: #00527c; }
  .banner { border-radius: 12px; padding: 12px 16px; margin-bottom: 16px; border: 1px solid transparent; }
  .banner.success { background: #cdfee1; border-color: #95e9b5; } .banner.critical { background: #fee9e8; border-color: #fdb5b1; }
  .banner.warning { background: #fff1e3; border-color: #ffd79d; } .banner.info { background: #eaf4ff; border-color: #a8d3fb; }
  .banner ul { margin: 6px 0 0; padding-left: 18px; }
  .problem { border-left: 4px solid #e51c00; background: #fff7f7; border-radius: 8px; padding: 10px 12px; margin-bottom: 10px; }
  .problem.warning { border-left-color: #e8a500; background: #fffbf1; }
  .problem p { margin: 4px 0; }
  form.inline { display: inline; }
  label { display: block; font-weight: 550; margin: 12px 0 4px; }
  input[type=password], input[type=text] { width: 100%; max-width: 460px; padding: 7px 10px; border: 1px solid #8a8a8a; border-radius: 8px; font: inherit; background: #fdfdfd; }
  input:focus { outline: 2px solid #005bd3; outline-offset: 1px; }
  .button { display: inline-block; border: 0; border-radius: 8px; padding: 6px 12px; font: inherit; font-weight: 600; cursor: pointer; background: #fff; color: #303030; box-shadow: inset 0 -1px 0 #b5b5b5, 0 0 0 1px #e3e3e3; }
  .button.primary { background: #303030; color: #fff; box-shadow: inset 0 -1px 0 #000; }
  .button.critical { background: #c70a24; color: #fff; box-shadow: none; }
  .button.plain, button.link { background: none; box-shadow: none; color: #005bd3; padding: 0; border: 0; font: inherit; cursor: pointer; }
  .actions { margin-top: 14px; display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 8px; border-bottom: 1px solid #ebebeb; vertical-align: top; }
  th { font-weight: 550; color: #616161; font-size: 12px; }
  .payment { border-top: 1px solid #ebebeb; padding: 12px 0; }
  .payment:first-of-type { border-top: 0; }
  .payment-head { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
  .amount { font-weight: 650; font-size: 14px; }
  .steps { display: flex; gap: 6px; margin: 8px 0; flex-wrap: wrap; align-items: center; font-size: 12px; }
  .step { padding: 2px 8px; border-radius: 8px; background: #f1f1f1; color: #616161; }
  .step.done { background: #cdfee1; color: #0c5132; } .step.failed { background: #fedad9; color: #8e1f0b; } .step.current { background: #ffe8a3; color: #5e4200; }
  .arrow { color: #8a8a8a; }
  ol.timeline { list-style: none; margin: 6px 0 0; padding: 0 0 0 14px; border-left: 2px solid #e3e3e3; }
  ol.timeline li { position: relative; margin: 0 0 6px 0; padding-left: 8px; }
  ol.timeline li::before { content: ""; position: absolute; left: -20px; top: 5px; width: 10px; height: 10px; border-radius: 50%; background: #8a8a8a; }
  ol.timeline li.success::before { background: #29845a; } ol.timeline li.critical::before { background: #e51c00; }
  ol.timeline li.warning::before { background: #e8a500; } ol.timeline li.info::before { background: #4b7fd6; }
  ol.timeline time { color: #616161; font-size: 12px; margin-right: 6px; }
  code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f1f1f1; padding: 1px 4px; border-radius: 4px; }
  .center { max-width: 520px; margin: 12vh auto; }
  footer { color: #616161; font-size: 12px; margin-top: 24px; }
`;

function layout(title: string, body: string, options: { head?: string; topbar?: string } = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
${options.head ?? ''}
<style>${STYLE}</style>
</head>
<body>
<header class="topbar"><div class="brand"><span class="logo" aria-hidden="true">F</span>Flex HSA/FSA payments</div>${options.topbar ?? ''}</header>
${body}
</body>
</html>`;
}

function messagePage(title: string, message: string, extra = ''): string {
  return layout(title, `<main class="page"><div class="card center"><h1>${e(title)}</h1><p>${e(message)}</p>${extra}</div></main>`);
}

/** Where the merchant goes with no session and no link from Shopify: open from the admin, or name the store. */
export function welcomePage(message?: string): string {
  return messagePage(
    'Open the app from Shopify',
    message ?? 'This page is opened from your Shopify admin: Settings → Payments → Flex HSA/FSA → Manage. Or enter your store to sign in through Shopify.',
    shopForm(),
  );
}

export function signedOutPage(message?: string): string {
  return messagePage('Signed out', message ?? 'Your session has ended. Open the app again from your Shopify admin (Settings → Payments → Flex HSA/FSA → Manage).', shopForm());
}

export function forbiddenPage(message: string): string {
  return messagePage('Not allowed', message);
}

export function installFailedPage(message: string, shop?: string): string {
  const retry = shop ? `<p><a class="button primary" href="/auth?shop=${encodeURIComponent(shop)}">Start again</a></p>` : '';
  return messagePage('Installation did not complete', message, retry);
}

export function botPage(): string {
  return messagePage('Open this link in your browser', 'This address signs a merchant in to the app through Shopify, which only works in a web browser.');
}

function shopForm(): string {
  return `<form method="get" action="/auth" class="actions">
<input type="text" name="shop" placeholder="your-store.myshopify.com" aria-label="Store address" required pattern="[a-zA-Z0-9][a-zA-Z0-9\\-]*\\.myshopify\\.com">
<button class="button primary" type="submit">Sign in with Shopify</button></form>`;
}

export interface SettingsPageInput {
  view: SettingsView;
  csrfToken: string;
  returnUrl: string;
  notice?: string;
  errors?: string[];
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
${paymentsCard(view.payments)}
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

function paymentsCard(payments: PaymentView[]): string {
  if (payments.length === 0) {
    return '<section class="card" id="payments"><h2>Recent payments</h2><p class="muted">No payments yet. They appear here as soon as a buyer chooses Flex at checkout.</p></section>';
  }
  const items = payments
    .map((p) => {
      const steps = p.steps.map((s) => `<span class="step ${s.state}">${e(s.label)}</span>`).join('<span class="arrow">→</span>');
      const timeline = p.timeline.map((t) => timelineItem(t)).join('');
      return `<article class="payment" data-payment="${e(p.shopifyId)}">
<div class="payment-head"><span class="amount">${e(money(p.amount, p.currency))}</span><span class="badge ${p.statusTone}">${e(p.statusLabel)}</span>${p.test ? '<span class="badge info">Test</span>' : ''}${p.kind === 'AUTHORIZATION' ? '<span class="badge">Authorization</span>' : ''}
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

function money(amount: string, currency: string): string {
  return currency === 'USD' ? `$${amount}` : `${amount} ${currency}`;
}

function date(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function time(d: Date): string {
  return d.toISOString().slice(11, 19);
}
