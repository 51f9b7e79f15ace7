import { randomBytes, randomUUID } from 'node:crypto';
import { PROXY_AUTH_HEADER } from '../../src/http/session-route-auth';

export { PROXY_AUTH_HEADER };

/**
 * Shopify's payment session request (POST /payments/sessions), as the Shopify simulator sends it
 * (sandbox/shopify/session-requests.ts): a fresh Shopify session id, group and request id every
 * time, the documented headers, and a full buyer.
 */

export const BENCH_API_VERSION = '2026-10';

/** The app's client secret in the benchmark: Shopify signs its webhooks with it (the apps and the floor verify them). */
export const BENCH_API_SECRET = 'bench-api-secret';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function sessionId(length = 24): string {
  const bytes = randomBytes(length);
  let id = '';
  for (const byte of bytes) id += BASE62[byte % 62];
  return id;
}

function groupId(): string {
  return `${randomBytes(22).toString('base64url').slice(0, 30)}=`;
}

const ADDRESS = {
  given_name: 'Alice',
  family_name: 'Buyer',
  line1: '123 Main Street',
  line2: 'Apt 4',
  city: 'Springfield',
  postal_code: '62701',
  province: 'Illinois',
  province_code: 'IL',
  country_code: 'US',
  phone_number: '5555555555',
};

export interface PaymentRequestOptions {
  shop: string;
  /** Decimal string, e.g. "49.99". */
  amount: string;
  /** Base of the cancel URL (Shopify's checkout). */
  shopifyUrl: string;
}

export function paymentSessionBody(options: PaymentRequestOptions): Record<string, unknown> {
  const id = sessionId();
  const group = groupId();
  return {
    id,
    gid: `gid://shopify/PaymentSession/${id}`,
    group,
    session_id: groupId(),
    amount: options.amount,
    currency: 'USD',
    test: false,
    merchant_locale: 'en',
    payment_method: { type: 'offsite', data: { cancel_url: `${options.shopifyUrl}/checkouts/${encodeURIComponent(group)}/cancel` } },
    proposed_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    customer: {
      email: 'buyer@example.com',
      phone_number: '5555555555',
      locale: 'en',
      billing_address: { ...ADDRESS, company: '' },
      shipping_address: ADDRESS,
    },
    kind: 'sale',
  };
}

/**
 * With `proxySecret`, the header the TLS-terminating proxy in front of the app adds once it has
 * verified Shopify's client certificate (the app's proxy mode): the benchmark sends straight to the
 * app's private session listener, since the proxy's own cost is not the app's.
 */
export function paymentSessionHeaders(shop: string, proxySecret?: string): Record<string, string> {
  return {
    ...(proxySecret ? { [PROXY_AUTH_HEADER]: proxySecret } : {}),
    'content-type': 'application/json',
    accept: 'application/json',
    'user-agent': 'Shopify Payments Platform (benchmark)',
    'shopify-shop-domain': shop,
    'shopify-request-id': randomUUID(),
    'shopify-api-version': BENCH_API_VERSION,
  };
}
