import { createHash } from 'node:crypto';
import { formatMoney, toDecimalString } from '../lib/money';
import type { MetafieldDefinitionInput, MetafieldInput } from '../shopify/admin-orders';
import type { FlexOrderLine } from './order-differences';

/**
 * What the app writes on a Shopify order paid with Flex (README "Orders"): metafields in its own
 * reserved namespace, a tag, and one line in the note. Pure: the job that writes it is
 * annotate-order.ts.
 */

/** `$app:flex` is `app--{client id}--flex` on Shopify: only this app can write there. */
export const METAFIELD_NAMESPACE = '$app:flex';

/**
 * The order metafield definitions, so the merchant sees the values in the order's Metafields card
 * (pinned) and cannot edit them (MERCHANT_READ). Bump the version when this list changes: each shop
 * gets the missing definitions made once per version.
 */
export const METAFIELD_DEFINITIONS_VERSION = 1;
export const ORDER_METAFIELD_DEFINITIONS: MetafieldDefinitionInput[] = [
  definition('checkout_session_id', 'Flex checkout session', 'The Flex checkout session this order was paid in (fcs_…).', 'single_line_text_field'),
  definition('hsa_fsa_amount', 'Paid by HSA/FSA card', 'What Flex took (or holds, before capture) on the buyer’s HSA/FSA card.', 'money'),
  definition('card_amount', 'Paid by regular card', 'What Flex took (or holds) on a regular card: all of it for a card payment, the rest of a split payment.', 'money'),
  definition('lmn_required', 'Letter of Medical Necessity required', 'Whether Flex required a Letter of Medical Necessity for this purchase.', 'boolean'),
  definition('line_eligibility', 'HSA/FSA eligibility per line', 'How Flex judged each line it was sent (only when Flex was sent the order’s lines).', 'json'),
];

function definition(key: string, name: string, description: string, type: string): MetafieldDefinitionInput {
  return { namespace: METAFIELD_NAMESPACE, key, name, description, type, ownerType: 'ORDER', pin: true, access: { admin: 'MERCHANT_READ' } };
}

export const TAG_HSA_FSA = 'Flex HSA/FSA';
export const TAG_SPLIT = 'Flex split';
export const TAG_CARD = 'Flex card';

export interface AnnotationFacts {
  orderGid: string;
  currency: string;
  flexCheckoutSessionId: string;
  hsaFsaMinor: number;
  cardMinor: number;
  lmnRequired: boolean | null;
  /** Flex's lines with their eligibility; null when Flex saw only the catch-all line. */
  lineEligibility: FlexOrderLine[] | null;
}

export interface OrderAnnotation {
  metafields: MetafieldInput[];
  tags: string[];
  noteLine: string;
  /** Changes whenever anything to write changes: one write-back job per digest. */
  digest: string;
}

export function orderAnnotation(facts: AnnotationFacts): OrderAnnotation {
  const money = (minor: number) => JSON.stringify({ amount: toDecimalString(minor, facts.currency), currency_code: facts.currency });
  const field = (key: string, type: string, value: string): MetafieldInput => ({ ownerId: facts.orderGid, namespace: METAFIELD_NAMESPACE, key, type, value });
  const metafields = [
    field('checkout_session_id', 'single_line_text_field', facts.flexCheckoutSessionId),
    field('hsa_fsa_amount', 'money', money(facts.hsaFsaMinor)),
    field('card_amount', 'money', money(facts.cardMinor)),
    ...(facts.lmnRequired === null ? [] : [field('lmn_required', 'boolean', String(facts.lmnRequired))]),
    ...(facts.lineEligibility === null
      ? []
      : [field('line_eligibility', 'json', JSON.stringify(facts.lineEligibility.map((l) => ({ description: l.description, quantity: l.quantity, eligibility: l.eligibility }))))]),
  ];
  const tags = facts.hsaFsaMinor > 0 && facts.cardMinor > 0 ? [TAG_HSA_FSA, TAG_SPLIT] : facts.hsaFsaMinor > 0 ? [TAG_HSA_FSA] : [TAG_CARD];
  const noteLine = noteLineOf(facts);
  const digest = createHash('sha256').update(JSON.stringify({ metafields, tags, noteLine })).digest('hex').slice(0, 32);
  return { metafields, tags, noteLine, digest };
}

function noteLineOf(facts: AnnotationFacts): string {
  const money = (minor: number) => formatMoney(minor, facts.currency);
  const paid =
    facts.hsaFsaMinor > 0 && facts.cardMinor > 0
      ? `${money(facts.hsaFsaMinor)} on an HSA/FSA card and ${money(facts.cardMinor)} on a regular card`
      : facts.hsaFsaMinor > 0
        ? `${money(facts.hsaFsaMinor)} on an HSA/FSA card`
        : `${money(facts.cardMinor)} on a regular card`;
  return `Flex HSA/FSA: ${paid}${facts.lmnRequired ? ', Letter of Medical Necessity required' : ''} (${checkoutMarker(facts.flexCheckoutSessionId)}).`;
}

/** How the app recognises its own line in a note, whatever else the merchant wrote around it. */
export function checkoutMarker(flexCheckoutSessionId: string): string {
  return `Flex checkout ${flexCheckoutSessionId}`;
}

/**
 * The note with our line added below the merchant's, or null when our line is there already (the
 * merchant's text is never changed, only appended to).
 */
export function noteWithLine(current: string | null, line: string, flexCheckoutSessionId: string): string | null {
  if (current?.includes(checkoutMarker(flexCheckoutSessionId))) return null;
  if (!current) return line;
  return `${current}${current.endsWith('\n') ? '' : '\n'}${line}`;
}
