// Webhooks to the app (reference §10): app/uninstalled and the three mandatory compliance topics,
// signed over the raw body with the app's client secret.
import { createHmac, randomInt, randomUUID } from 'node:crypto';
import type { HttpClient } from './http-client';
import type { PaymentsState } from './payments-state';
import type { ShopRecord } from './shops';
import type { AppConfig } from './types';

export interface WebhookOptions {
  /** Sign with the wrong key, to test that the app refuses the delivery. */
  tamperHmac?: boolean;
  /** Fixed `X-Shopify-Webhook-Id`, to redeliver the same webhook. Default: a fresh uuid. */
  webhookId?: string;
  /** Fixed `X-Shopify-Event-Id`. Default: a fresh uuid. */
  eventId?: string;
  /** `X-Shopify-API-Version`, default the simulator's `apiVersion`. */
  apiVersion?: string;
  /** Headers to add or replace; `null` removes one of the defaults. */
  headers?: Record<string, string | null>;
  timeoutMs?: number;
}

export interface WebhookDelivery {
  at: string;
  shop: string;
  topic: string;
  url: string;
  webhookId: string;
  eventId: string;
  payload: unknown;
  tampered: boolean;
  status: number;
  body: unknown;
  error?: string;
}

export interface WebhookContext {
  app(): AppConfig;
  apiVersion: string;
  now(): Date;
  http: HttpClient;
  state: PaymentsState;
  deliveries: WebhookDelivery[];
}

export function webhookSignature(rawBody: string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody, 'utf8').digest('base64');
}

/** Realistic payloads; the customer is the shop's latest buyer when there is one. */
export function defaultWebhookPayload(topic: string, shop: ShopRecord, state: PaymentsState, now: Date): Record<string, unknown> {
  const latestEmail = state
    .listPayments(shop.domain)
    .map((p) => p.customerEmail)
    .filter((e): e is string => Boolean(e))
    .at(-1);
  const customer = { id: 207119551, email: latestEmail ?? 'buyer@example.com', phone: '555-625-1199' };
  const orderIds = [randomInt(100_000_000, 999_999_999), randomInt(100_000_000, 999_999_999)];
  switch (topic) {
    case 'customers/data_request':
      return {
        shop_id: shop.shopId,
        shop_domain: shop.domain,
        orders_requested: orderIds,
        customer,
        data_request: { id: randomInt(1_000, 9_999_999) },
      };
    case 'customers/redact':
      return { shop_id: shop.shopId, shop_domain: shop.domain, customer, orders_to_redact: orderIds };
    case 'shop/redact':
      return { shop_id: shop.shopId, shop_domain: shop.domain };
    case 'app/uninstalled':
      return {
        id: shop.shopId,
        name: shop.name,
        email: shop.email,
        domain: shop.domain,
        myshopify_domain: shop.domain,
        country_code: 'US',
        currency: 'USD',
        primary_locale: 'en',
        iana_timezone: 'America/New_York',
        shop_owner: 'Merchant Owner',
        plan_name: 'basic',
        created_at: shop.createdAt,
        updated_at: now.toISOString(),
      };
    default:
      return { shop_id: shop.shopId, shop_domain: shop.domain };
  }
}

export async function sendWebhook(
  ctx: WebhookContext,
  shop: ShopRecord,
  topic: string,
  payload: unknown,
  options: WebhookOptions = {},
): Promise<WebhookDelivery> {
  const app = ctx.app();
  const webhookId = options.webhookId ?? randomUUID();
  const eventId = options.eventId ?? randomUUID();
  const body = payload ?? defaultWebhookPayload(topic, shop, ctx.state, ctx.now());
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const secret = options.tamperHmac ? `${app.apiSecret}-tampered` : app.apiSecret;
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'Shopify-Captain-Hook',
    'X-Shopify-Hmac-Sha256': webhookSignature(raw, secret),
    'X-Shopify-Topic': topic,
    'X-Shopify-Shop-Domain': shop.domain,
    'X-Shopify-Webhook-Id': webhookId,
    'X-Shopify-API-Version': options.apiVersion ?? ctx.apiVersion,
    'X-Shopify-Triggered-At': ctx.now().toISOString(),
    'X-Shopify-Event-Id': eventId,
  };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    for (const existing of Object.keys(headers)) if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
    if (value !== null) headers[name] = value;
  }
  const base = app.url.replace(/\/$/, '');
  const path = (app.webhooksPath ?? '/webhooks/shopify').replace(/\/$/, '');
  const url = `${base}${path}/${topic}`;
  const response = await ctx.http.send({ url, headers, body: raw, timeoutMs: options.timeoutMs ?? app.requestTimeoutMs ?? 5000 });
  const delivery: WebhookDelivery = {
    at: ctx.now().toISOString(),
    shop: shop.domain,
    topic,
    url,
    webhookId,
    eventId,
    payload: body,
    tampered: Boolean(options.tamperHmac),
    status: response.status,
    body: response.body,
    ...(response.error ? { error: response.error } : {}),
  };
  ctx.deliveries.push(delivery);
  return delivery;
}
