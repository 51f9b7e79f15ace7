import { toDecimalString } from '../../lib/money';
import { FLAG_TEXT, type ReportRow } from '../../reconciliation/reconciliation-report';

/** The reconciliation export, one CSV line per report row (RFC 4180: CRLF, quotes doubled). */

export const RECONCILIATION_CSV_HEADER = [
  'payout_id',
  'payout_status',
  'arrival_date',
  'shopify_order',
  'shopify_order_id',
  'shopify_payment_id',
  'flex_checkout_session_id',
  'currency',
  'order_total',
  'charged_hsa_fsa_card',
  'charged_regular_card',
  'fee_transaction',
  'fee_interchange',
  'fee_letter_of_medical_necessity',
  'fee_dispute',
  'refunds',
  'adjustments',
  'net',
  'flags',
  'notes',
];

export function csvLine(fields: Array<string | null>): string {
  return `${fields.map((f) => quote(f ?? '')).join(',')}\r\n`;
}

export function reconciliationCsvLine(r: ReportRow): string {
  const money = (minor: number | null) => (minor === null ? '' : toDecimalString(minor, r.currency));
  return csvLine([
    text(r.flexPayoutId),
    text(r.payoutStatus),
    r.arrivalDate ? r.arrivalDate.toISOString().slice(0, 10) : '',
    text(r.orderName),
    text(r.shopifyOrderId),
    text(r.paymentShopifyId),
    text(r.flexCheckoutSessionId),
    r.currency,
    money(r.orderTotalMinor),
    money(r.chargedHsaFsaMinor),
    money(r.chargedCardMinor),
    money(r.transactionFeeMinor),
    money(r.interchangeFeeMinor),
    money(r.lmnFeeMinor),
    money(r.disputeFeeMinor),
    money(r.refundedMinor),
    money(r.adjustmentsMinor),
    money(r.netMinor),
    text(r.flags.map((f) => FLAG_TEXT[f]).join('; ')),
    text(r.notes.join(' ')),
  ]);
}

function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/**
 * Text that came from elsewhere (order names, ids, notes): a spreadsheet would run a cell starting
 * with =, +, - or @ as a formula, so such a cell is prefixed with a quote. Amounts are never text.
 */
function text(value: string | null): string {
  if (value === null) return '';
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
