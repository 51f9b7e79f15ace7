import { cartKind, defaultHsaFsaShare, recommendedOutcome } from './cart';
import { successRedirect } from './checkout';
import { escapeHtml, formatCents, layout } from './html';
import type { Eligibility, SessionRec } from './types';

// The hosted checkout page at `redirect_url`. A buyer (or a headless browser test) picks an
// outcome with one of the buttons; every button is `name="outcome"` with a fixed value and label.
// Like Flex's page, it offers first what fits the cart: HSA/FSA card when every item is eligible,
// a split when some are, a regular card when none are. Every other outcome stays available.

export const OUTCOME_BUTTONS = [
  { value: 'hsa_fsa', label: 'Pay with HSA/FSA card' },
  { value: 'split', label: 'Split: HSA/FSA card + regular card' },
  { value: 'card', label: 'Pay with regular card' },
  { value: 'decline', label: 'Card declined' },
  { value: 'processing', label: 'Processing (completes later)' },
  { value: 'abandon', label: 'Cancel and return to store' },
] as const;

const ELIGIBILITY_LABEL: Record<Eligibility, string> = {
  not_eligible: 'Not HSA/FSA eligible',
  auto_substantiation: 'HSA/FSA eligible',
  private_label: 'HSA/FSA eligible (private label)',
  vision: 'HSA/FSA eligible (vision)',
  prescription: 'HSA/FSA eligible (prescription)',
  letter_of_medical_necessity: 'HSA/FSA eligible with a letter of medical necessity',
};

function header(session: SessionRec, shopName: string): string {
  const banner = session.testMode
    ? '<div class="test-banner" role="status">Test mode: no real card is charged</div>'
    : '';
  return `${banner}
<p class="hint">Flex checkout for</p>
<h1>${escapeHtml(shopName)}</h1>
<p>Total due: <strong data-testid="amount-total">${formatCents(session.amountTotal)}</strong></p>`;
}

function lineItems(session: SessionRec): string {
  const rows = session.lineItems
    .map(
      (li) => `<tr data-testid="line-item" data-eligibility="${escapeHtml(li.eligibility)}"><td>${escapeHtml(li.description)}
<br><span class="hint">${escapeHtml(ELIGIBILITY_LABEL[li.eligibility])}</span></td>
<td class="num">${li.quantity}</td><td class="num">${formatCents(li.unitAmount * li.quantity)}</td></tr>`,
    )
    .join('\n');
  const extra = (label: string, amount: number, negative = false): string =>
    amount > 0 ? `<tr><td colspan="2">${label}</td><td class="num">${formatCents(negative ? -amount : amount)}</td></tr>` : '';
  return `<table>
<thead><tr><th>Item</th><th class="num">Qty</th><th class="num">Amount</th></tr></thead>
<tbody>
${rows}
${extra('Shipping', session.amountShipping)}
${extra('Tax', session.amountTax)}
${extra('Fees', session.amountFees)}
${extra('Discount', session.amountDiscount, true)}
</tbody>
<tfoot><tr><td colspan="2">Total</td><td class="num">${formatCents(session.amountTotal)}</td></tr></tfoot>
</table>`;
}

function advice(session: SessionRec): string {
  const kind = cartKind(session);
  const recommended = recommendedOutcome(session);
  if (recommended === 'split') {
    const share = defaultHsaFsaShare(session);
    return `Some items are HSA/FSA eligible: pay ${formatCents(share)} (those items and their tax) with your HSA/FSA card and ${formatCents(session.amountTotal - share)} with a regular card.`;
  }
  if (recommended === 'hsa_fsa') {
    return kind === 'all_eligible'
      ? 'Every item is HSA/FSA eligible: pay with your HSA/FSA card.'
      : 'The eligible items cover the whole amount: pay with your HSA/FSA card.';
  }
  return kind === 'none_eligible'
    ? 'No item is HSA/FSA eligible: pay with a regular card. Keep the itemized receipt.'
    : 'Nothing left to pay with an HSA/FSA card: pay with a regular card.';
}

export function renderCheckoutPage(session: SessionRec, shopName: string): string {
  const share = defaultHsaFsaShare(session);
  const recommended = recommendedOutcome(session);
  const ordered = [...OUTCOME_BUTTONS].sort((a, b) => Number(b.value === recommended) - Number(a.value === recommended));
  const buttons = ordered
    .map(
      (b) =>
        `<button type="submit" name="outcome" value="${b.value}"${b.value === recommended ? ' class="primary" data-recommended="true"' : ''}>${escapeHtml(b.label)}</button>`,
    )
    .join('\n');
  return layout(
    `Pay ${shopName}`,
    `${header(session, shopName)}
${lineItems(session)}
<p data-testid="cart-advice" data-cart="${cartKind(session)}" data-recommended="${recommended}">${escapeHtml(advice(session))}</p>
<form method="post" action="/pay/c/${escapeHtml(session.id)}" class="actions" aria-label="Choose how the payment goes">
${buttons}
</form>
<p class="hint">A split charges the HSA/FSA card ${formatCents(share)} and a regular card ${formatCents(session.amountTotal - share)}.
Processing leaves the session open until the test calls <code>completeProcessing</code>.</p>`,
  );
}

export function renderDeclinedPage(session: SessionRec, shopName: string, declineCode: string): string {
  const back = session.cancelUrl
    ? `<p><a href="${escapeHtml(session.cancelUrl)}">Return to store</a></p>`
    : '<p>You can close this window.</p>';
  return layout(
    'Card declined',
    `${header(session, shopName)}
<h2 class="error" role="alert">Your card was declined</h2>
<p>Reason: <code>${escapeHtml(declineCode)}</code>. No money was taken.</p>
${back}`,
  );
}

export function renderLeftPage(session: SessionRec, shopName: string): string {
  return layout('Checkout left', `${header(session, shopName)}<h2>You left checkout</h2><p>No money was taken. You can close this window.</p>`);
}

/** For a session that can no longer be paid (or is waiting for a processing payment). */
export function renderClosedPage(session: SessionRec, shopName: string): string {
  const message: Record<string, string> = {
    complete: 'This checkout is already complete. Thank you!',
    expired: 'This checkout session has expired. Return to the store to start again.',
    canceled: 'This checkout was canceled.',
    processing: 'Your payment is processing. The store will confirm your order when it completes.',
  };
  const state = session.status === 'open' && session.processing ? 'processing' : session.status;
  const link =
    state === 'complete' || state === 'processing'
      ? `<p><a href="${escapeHtml(successRedirect(session))}">Back to the store</a></p>`
      : session.cancelUrl
        ? `<p><a href="${escapeHtml(session.cancelUrl)}">Return to store</a></p>`
        : '';
  return layout(
    'Checkout closed',
    `${header(session, shopName)}
<h2 role="status" data-testid="checkout-state" data-state="${escapeHtml(state)}">${escapeHtml(message[state] ?? `This checkout is ${state}.`)}</h2>
${link}`,
  );
}
