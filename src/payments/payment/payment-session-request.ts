import { createHash } from 'node:crypto';
import { z } from 'zod';
import { currencyCode, decimalAmount, isoDateTime } from '../shopify-session-request';

const optionalText = z.string().nullish();

const address = z.looseObject({
  given_name: optionalText,
  family_name: optionalText,
  line1: optionalText,
  line2: optionalText,
  city: optionalText,
  postal_code: optionalText,
  province: optionalText,
  province_code: optionalText,
  country_code: optionalText,
  phone_number: optionalText,
  company: optionalText,
});

/** The buyer Shopify sends with the session (all optional). */
export const customerSchema = z.looseObject({
  email: optionalText,
  phone_number: optionalText,
  locale: optionalText,
  billing_address: address.nullish(),
  shipping_address: address.nullish(),
});

/** Shopify's offsite payment session request (Payments Apps API, reference §3.2). */
export const paymentSessionRequestSchema = z
  .looseObject({
    id: z.string().min(1).max(255),
    gid: z.string().regex(/^gid:\/\/shopify\/PaymentSession\/[^/]+$/, 'must be gid://shopify/PaymentSession/<id>'),
    group: z.string().min(1).max(255),
    session_id: z.string().max(255).nullish(),
    amount: decimalAmount,
    currency: currencyCode,
    test: z.boolean(),
    merchant_locale: optionalText,
    payment_method: z.looseObject({
      type: z.literal('offsite', { message: 'only offsite payment sessions are supported' }),
      data: z.looseObject({ cancel_url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }) }),
    }),
    proposed_at: isoDateTime.nullish(),
    customer: customerSchema.nullish(),
    kind: z.enum(['sale', 'authorization']),
  })
  .refine((body) => body.gid.endsWith(`/${body.id}`), { message: 'gid must end with the session id', path: ['gid'] });

export type PaymentSessionRequest = z.infer<typeof paymentSessionRequestSchema>;

/**
 * What makes two requests "the same payment": Shopify's retries repeat these exactly. A request that
 * reuses an id with a different fingerprint is refused rather than answered with the old session.
 */
export function paymentRequestFingerprint(shopDomain: string, body: PaymentSessionRequest): string {
  const essentials = [shopDomain, body.id, body.gid, body.group, body.amount, body.currency, body.test, body.kind];
  return createHash('sha256').update(JSON.stringify(essentials)).digest('hex');
}

/** Buyer details to pre-fill Flex's hosted page with. */
export function buyerDefaults(customer: z.infer<typeof customerSchema> | null | undefined): { email?: string; first_name?: string; last_name?: string; phone?: string } | undefined {
  if (!customer) return undefined;
  const address = customer.billing_address ?? customer.shipping_address ?? undefined;
  const defaults = {
    email: customer.email ?? undefined,
    first_name: address?.given_name ?? undefined,
    last_name: address?.family_name ?? undefined,
    phone: customer.phone_number ?? address?.phone_number ?? undefined,
  };
  const present = Object.fromEntries(Object.entries(defaults).filter(([, v]) => typeof v === 'string' && v !== ''));
  return Object.keys(present).length > 0 ? present : undefined;
}
