import type { Prisma } from '@prisma/client';
import { CART_FALLBACK_EXPLANATIONS, type CartFallbackReason } from '../cart/price-cart';
import { toDecimalString } from '../lib/money';

/** One line of a payment's timeline as the merchant reads it. */
export interface TimelineEntry {
  at: Date;
  label: string;
  detail: string | null;
  tone: 'success' | 'critical' | 'warning' | 'info';
}

const SOURCES: Record<string, string> = {
  BUYER_RETURN: 'the buyer came back from Flex',
  BUYER_CANCEL: 'the buyer left the Flex checkout',
  FLEX_WEBHOOK: 'Flex notified the app',
  RECONCILER: "the app's periodic check with Flex (no webhook arrived)",
};

const MUTATIONS: Record<string, string> = {
  paymentSessionResolve: 'payment approved',
  paymentSessionReject: 'payment declined',
  paymentSessionPending: 'payment pending',
  refundSessionResolve: 'refund done',
  refundSessionReject: 'refund refused',
  captureSessionResolve: 'capture done',
  captureSessionReject: 'capture refused',
  voidSessionResolve: 'void done',
  voidSessionReject: 'void refused',
  paymentsAppConfigure: 'provider readiness',
};

export function mutationLabel(mutation: string): string {
  return MUTATIONS[mutation] ?? humanize(mutation);
}

type Detail = Record<string, unknown>;

/** Known event types get a sentence; any other (refunds, captures, voids, …) a readable generic one. */
const KNOWN: Record<string, (d: Detail) => Omit<TimelineEntry, 'at'>> = {
  shopify_session_received: (d) => ({ label: 'Shopify started the payment', detail: join([kindText(d.kind), d.test === true ? 'test mode' : null]), tone: 'info' }),
  flex_checkout_created: (d) => ({ label: 'Flex checkout created', detail: text(d.flexCheckoutSessionId), tone: 'info' }),
  cart_joined: (d) => ({ label: "Buyer's cart sent to Flex", detail: join([typeof d.lines === 'number' ? `${d.lines} line${d.lines === 1 ? '' : 's'}` : null, text(d.snapshot) ? `captured by the ${d.snapshot === 'webhook' ? 'checkout webhook' : 'cart pixel'}` : null]), tone: 'info' }),
  cart_fallback: (d) => ({ label: 'Sent to Flex as one line for the order total', detail: CART_FALLBACK_EXPLANATIONS[d.reason as CartFallbackReason] ?? text(d.reason), tone: 'warning' }),
  refund_lines_decided: (d) =>
    d.byLine === true
      ? { label: 'Refund goes to Flex by line', detail: typeof d.lines === 'number' ? `${d.lines} line${d.lines === 1 ? '' : 's'}, as Shopify refunded them` : null, tone: 'info' }
      : { label: 'Refund goes to Flex by amount', detail: text(d.why), tone: 'info' },
  flex_checkout_failed: (d) => ({ label: 'Could not create the Flex checkout', detail: text(d.message), tone: 'critical' }),
  buyer_returned: () => ({ label: 'Buyer came back from Flex', detail: null, tone: 'info' }),
  buyer_canceled: () => ({ label: 'Buyer left the Flex checkout', detail: 'they can pick another payment method', tone: 'warning' }),
  flex_webhook: (d) => ({ label: 'Flex reported the checkout', detail: join([text(d.eventType), text(d.status)]), tone: 'info' }),
  decided_resolve: (d) => ({ label: 'Payment approved', detail: sourceText(d.source), tone: 'success' }),
  decided_reject: (d) => ({ label: 'Payment declined', detail: join([text(d.code), text(d.merchantMessage), sourceText(d.source)]), tone: 'critical' }),
  decided_pending: (d) => ({ label: 'Payment pending at Flex', detail: sourceText(d.source), tone: 'warning' }),
  needs_attention: (d) => ({ label: 'Needs attention', detail: text(d.why), tone: 'critical' }),
  shopify_acknowledged: (d) => ({ label: 'Shopify confirmed', detail: join([mutationLabel(String(d.mutation ?? '')), text(d.state)]), tone: 'success' }),
  shopify_mutation_needs_attention: (d) => ({ label: 'Shopify did not take the update', detail: join([mutationLabel(String(d.mutation ?? '')), text(d.error)]), tone: 'critical' }),
};

export function timelineEntry(event: { type: string; detail: Prisma.JsonValue; createdAt: Date }): TimelineEntry {
  const detail = event.detail && typeof event.detail === 'object' && !Array.isArray(event.detail) ? (event.detail as Detail) : {};
  const known = KNOWN[event.type];
  if (known) return { at: event.createdAt, ...known(detail) };
  return { at: event.createdAt, label: humanize(event.type), detail: genericDetail(detail), tone: toneOf(event.type) };
}

/** "refund.requested" / "capture_resolved" → "Refund requested" / "Capture resolved". */
export function humanize(type: string): string {
  const words = type
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .split(/[._\-\s]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  if (words.length === 0) return 'Event';
  const sentence = words.join(' ');
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

function toneOf(type: string): TimelineEntry['tone'] {
  if (/(fail|reject|declin|error|attention|refus)/i.test(type)) return 'critical';
  if (/(succeed|resolv|complet|captured|refunded|voided|acknowledg|approved)/i.test(type)) return 'success';
  if (/(pending|retry|waiting)/i.test(type)) return 'warning';
  return 'info';
}

/** A few short scalar fields of an unknown event, money fields shown as amounts. */
function genericDetail(detail: Detail): string | null {
  const parts: string[] = [];
  const currency = typeof detail.currency === 'string' ? detail.currency : null;
  for (const [key, value] of Object.entries(detail)) {
    if (parts.length >= 4) break;
    if (key === 'currency') continue;
    if (typeof value === 'number' && /amount.*minor|minor/i.test(key)) {
      parts.push(`${humanize(key.replace(/minor/i, '')).toLowerCase()} ${toDecimalString(value, currency ?? 'USD')}${currency ? ` ${currency}` : ''}`);
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      const shown = String(value);
      parts.push(`${humanize(key).toLowerCase()}: ${shown.length > 80 ? `${shown.slice(0, 80)}…` : shown}`);
    }
  }
  return parts.length > 0 ? parts.join(' · ') : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null;
}

function join(parts: Array<string | null>): string | null {
  const present = parts.filter((p): p is string => p !== null);
  return present.length > 0 ? present.join(' · ') : null;
}

function kindText(kind: unknown): string | null {
  return kind === 'AUTHORIZATION' || kind === 'authorization' ? 'authorization (captured later)' : kind === 'SALE' || kind === 'sale' ? 'sale' : null;
}

function sourceText(source: unknown): string | null {
  return typeof source === 'string' ? `because ${SOURCES[source] ?? humanize(source).toLowerCase()}` : null;
}
