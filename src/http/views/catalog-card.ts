import type { CatalogListView, CatalogModeView, CatalogView } from '../../merchant/catalog-view';
import { ELIGIBILITY_FILTERS } from '../../merchant/catalog-view';
import { escapeHtml as e } from './html';

/**
 * The catalog section of the settings page (and, whole, of `/settings/catalog`): each mode's sync
 * with its progress and last problem, then the catalog a page at a time with each variant's Flex
 * eligibility and the reason Flex gives.
 */

const STATUS: Record<CatalogModeView['status'], { label: string; tone: string }> = {
  RUNNING: { label: 'Syncing', tone: 'info' },
  COMPLETE: { label: 'Synced', tone: 'success' },
  FAILED: { label: 'Stopped', tone: 'critical' },
  NOT_STARTED: { label: 'Not started', tone: '' },
};

const FILTER_LABELS: Record<string, string> = {
  eligible: 'Eligible',
  letter_of_medical_necessity: 'Needs a Letter of Medical Necessity',
  not_eligible: 'Not eligible',
  unknown: 'Not judged yet',
};

const TONE: Record<string, string> = { eligible: 'success', letter_of_medical_necessity: 'warning', not_eligible: 'critical' };

export function catalogSection(view: CatalogView, options: { syncForm: string; standalone: boolean }): string {
  if (view.modes.length === 0) {
    return '<section class="card" id="catalog"><h2>Products in Flex</h2><p class="muted">Connect a Flex key: every product variant is then sent to Flex, which says which are HSA/FSA eligible.</p></section>';
  }
  const modes = view.modes.map(modeLine).join('');
  const list = view.list ? catalogList(view.list, options.standalone) : '';
  return `<section class="card" id="catalog"><h2>Products in Flex</h2>
<p class="muted">Every variant of your catalog is a product and a price in Flex, kept up to date as you edit products in Shopify. Flex decides, per product, whether HSA/FSA cards can pay for it; the decision is also saved on each product and variant in Shopify (metafields <code>flex.hsa_fsa_eligibility</code> and <code>flex.eligibility_rationale</code>).</p>
${modes}<div class="actions">${options.syncForm}</div>
${list}</section>`;
}

function modeLine(m: CatalogModeView): string {
  const status = STATUS[m.status];
  const mode = m.mode === 'LIVE' ? 'Live' : 'Test';
  const running = m.status === 'RUNNING' ? ` · ${m.variantsSeen.toLocaleString('en-US')} read from Shopify so far` : '';
  const when = m.finishedAt && m.status !== 'RUNNING' ? ` · last full sync ${date(m.finishedAt)}` : m.startedAt ? ` · started ${date(m.startedAt)}` : '';
  const counts = ELIGIBILITY_FILTERS.filter((f) => m.eligibility[f] > 0)
    .map((f) => `${m.eligibility[f].toLocaleString('en-US')} ${FILTER_LABELS[f]!.toLowerCase()}`)
    .join(', ');
  const problem = m.lastProblem ? `<p class="small"><strong>${m.status === 'FAILED' ? 'Stopped:' : 'Last problem:'}</strong> ${e(m.lastProblem)}${m.lastProblemAt ? ` <span class="muted">(${e(date(m.lastProblemAt))})</span>` : ''}</p>` : '';
  return `<div class="catalog-mode" data-catalog-mode="${m.mode.toLowerCase()}" data-status="${m.status.toLowerCase()}">
<div><strong>${mode}</strong> <span class="badge ${status.tone}">${status.label}</span> <span data-testid="catalog-progress">${m.synced.toLocaleString('en-US')} of ${m.total.toLocaleString('en-US')} variants synced</span>${
    m.pending > 0 ? ` · ${m.pending.toLocaleString('en-US')} waiting` : ''
  }${m.refused > 0 ? ` · <span class="badge critical">${m.refused.toLocaleString('en-US')} refused by Flex</span>` : ''}<span class="muted small">${e(running)}${e(when)}</span></div>
${counts ? `<p class="muted small">${e(counts)}</p>` : ''}${problem}</div>`;
}

function catalogList(list: CatalogListView, standalone: boolean): string {
  const mode = list.mode.toLowerCase();
  const link = (page: number, filter: string | null) => `/settings/catalog?${new URLSearchParams({ mode, page: String(page), ...(filter ? { eligibility: filter } : {}) })}#catalog`;
  const filters = [
    `<a href="${e(link(1, null))}"${list.filter === null ? ' aria-current="true"' : ''}>All</a>`,
    ...ELIGIBILITY_FILTERS.map((f) => `<a href="${e(link(1, f))}"${list.filter === f ? ' aria-current="true"' : ''}>${e(FILTER_LABELS[f]!)}</a>`),
  ].join(' · ');
  const rows = list.variants
    .map(
      (v) => `<tr data-variant="${e(v.shopifyVariantId)}" data-eligibility="${e(v.eligibility ?? 'unknown')}">
<td>${e(v.title)}${v.sku ? `<div class="muted small">SKU ${e(v.sku)}</div>` : ''}</td><td>${v.barcode ? `<code>${e(v.barcode)}</code>` : '<span class="muted">—</span>'}</td><td>${e(v.price)}</td>
<td><span class="badge ${v.eligibility ? TONE[v.eligibility] : ''}">${e(v.eligibilityLabel)}</span>${v.flexEligibility ? ` <span class="muted small">${e(v.flexEligibility)}</span>` : ''}${
        v.reason ? `<div class="small" data-testid="eligibility-reason">${e(v.reason)}</div>` : ''
      }</td>
<td>${v.state === 'synced' ? '<span class="badge success">In Flex</span>' : v.state === 'refused' ? '<span class="badge critical">Refused</span>' : '<span class="badge info">Waiting</span>'}${v.problem ? `<div class="small muted">${e(v.problem)}</div>` : ''}</td></tr>`,
    )
    .join('');
  const pages = Math.max(1, Math.ceil(list.matching / list.pageSize));
  const pager = [
    list.page > 1 ? `<a href="${e(link(list.page - 1, list.filter))}" rel="prev">Previous</a>` : '',
    `<span class="muted">Page ${list.page} of ${pages} (${list.matching.toLocaleString('en-US')} variants, ${mode} mode)</span>`,
    list.page < pages ? `<a href="${e(link(list.page + 1, list.filter))}" rel="next">Next</a>` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  const body = list.variants.length
    ? `<table><thead><tr><th>Variant</th><th>Barcode</th><th>Price</th><th>HSA/FSA eligibility (Flex)</th><th>Flex</th></tr></thead><tbody>${rows}</tbody></table>`
    : '<p class="muted">No variants here yet.</p>';
  return `<h3>Eligibility${standalone ? '' : ' (first page)'}</h3><p class="small">${filters}</p>${body}<p class="small pager">${pager}</p>`;
}

function date(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
