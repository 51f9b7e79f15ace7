import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { createGraphQLClient } from '@shopify/graphql-client';
import express from 'express';
import { Webhook } from 'svix';
import { MemoryFloorStore, PostgresFloorStore } from './floor-store';
import { SCENARIOS } from './scenarios';
import type { BenchVariant } from './lib/bench-catalog';
import type { FloorStore } from './scenarios/scenario';

/**
 * THE FLOOR: the least any server can do for a payment, step by step, with the same Flex and Shopify
 * calls as the app and nothing else: no persistence, no validation, no logging. With
 * FLOOR_DATABASE_URL it is the durable floor instead: the same, with the least it must write to
 * PostgreSQL for a payment to survive a restart (floor-store.ts). Same Node, same
 * Express, same HTTP client (global fetch; Shopify's own GraphQL client) as the app, in a process of
 * its own, so the difference to the app is what the app adds.
 *
 * - each request scenario (bench/scenarios/) installs its step: the session request (answer 201 with
 *   the pay page's URL, keep the session in memory) and the pay page (one Flex call: create the
 *   checkout session; 303 to Flex);
 * - here, the cart: Shopify's `checkouts/create` webhook, its HMAC verified (a server that skips it
 *   cannot trust the cart), the lines (variant, quantity) kept in memory under the checkout's tokens,
 *   for the pay page, which sends them to Flex at the floor's own price of each variant;
 * - here, the end of a payment: Flex's `checkout.session.completed` webhook, its signature verified
 *   (Svix, with the `svix` package as the app does: a server that skips it cannot take payments),
 *   then the one Shopify call, `paymentSessionResolve`, and 200.
 *
 * Env: PORT, FLEX_API_URL, FLEX_API_KEY, APP_URL, AMOUNT_MINOR, SHOPIFY_API_ORIGIN,
 * SHOPIFY_API_VERSION, SHOP_ACCESS_TOKEN (the floor's shop in the Shopify simulator), SHOPIFY_API_SECRET
 * (webhooks' HMAC key), BENCH_CATALOG (the shop's bench variants, JSON); the durable floor's
 * FLOOR_DATABASE_URL and FLOOR_POOL_SIZE.
 */

const port = Number(process.env.PORT ?? 0);
const flexUrl = required('FLEX_API_URL');
const apiKey = required('FLEX_API_KEY');
const appUrl = process.env.APP_URL ?? `http://127.0.0.1:${port}`;
const amountMinor = Number(process.env.AMOUNT_MINOR ?? 4999);
const shopifyOrigin = required('SHOPIFY_API_ORIGIN');
const shopifyApiVersion = required('SHOPIFY_API_VERSION');
const shopAccessToken = required('SHOP_ACCESS_TOKEN');
const shopifySecret = required('SHOPIFY_API_SECRET');
const catalog = JSON.parse(process.env.BENCH_CATALOG ?? '[]') as BenchVariant[];

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function flexPost(path: string, body: unknown, idempotencyKey: string): Promise<Record<string, any>> {
  const response = await fetch(`${flexUrl}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, Accept: 'application/json', 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, any>;
  if (!response.ok) throw new Error(`Flex ${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Shopify's checkouts/create webhook: verify the HMAC over the raw body, keep the lines under the checkout's tokens, 200. */
function installCartWebhook(app: express.Express, store: FloorStore): void {
  app.post('/webhooks/shopify/checkouts/create', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const raw = req.body as Buffer;
    const given = Buffer.from(req.get('x-shopify-hmac-sha256') ?? '', 'base64');
    const expected = createHmac('sha256', shopifySecret).update(raw).digest();
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.status(401).end();
      return;
    }
    const checkout = JSON.parse(raw.toString('utf8')) as { token?: string; cart_token?: string | null; line_items?: Array<{ variant_id?: number | string | null; quantity?: number }> };
    const lines = (checkout.line_items ?? []).flatMap((l) => (l.variant_id != null && l.quantity ? [{ variantId: String(l.variant_id), quantity: l.quantity }] : []));
    const tokens = [checkout.token, checkout.cart_token].filter((t): t is string => Boolean(t));
    if (tokens.length > 0 && lines.length > 0) await store.keepCart(tokens, lines);
    res.status(200).end();
  });
}

const RESOLVE = `mutation PaymentSessionResolve($id: ID!) {
  paymentSessionResolve(id: $id) {
    paymentSession { id state { __typename } }
    userErrors { field message }
  }
}`;

/**
 * Flex's webhook: verify, then resolve the Shopify session the checkout's metadata names (the durable
 * floor records the payment as paid before, and as resolved after).
 */
async function installWebhook(app: express.Express, store: FloorStore): Promise<void> {
  const { webhook } = await flexPost('/v1/webhooks', { webhook: { url: `${appUrl}/webhooks/flex`, events: ['checkout.session.completed'] } }, 'floor-webhook');
  const secret = String(webhook.signing_secret);
  // Flex's secrets are "fwhsec_<base64>"; the svix package strips only "whsec_" (as src/flex/webhooks/signature.ts).
  const verifier = new Webhook(secret.slice(secret.indexOf('_') + 1));
  const shopify = createGraphQLClient({
    url: `${shopifyOrigin}/payments_apps/api/${shopifyApiVersion}/graphql.json`,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Shopify-Access-Token': shopAccessToken },
    retries: 0,
  });
  app.post('/webhooks/flex', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    let event: Record<string, any>;
    try {
      event = verifier.verify(req.body as Buffer, req.headers as Record<string, string>) as Record<string, any>;
    } catch {
      res.status(401).end();
      return;
    }
    const checkout = event.object?.checkout_session;
    const gid = checkout?.metadata?.shopify_payment_session_gid;
    const id = checkout?.metadata?.app_payment_session_id;
    if (event.event_type !== 'checkout.session.completed' || checkout?.status !== 'complete' || !gid || !id) {
      res.status(200).json({ received: true });
      return;
    }
    // Until Shopify has the answer, Flex keeps the webhook (a non-2xx is retried); the durable floor
    // has also recorded the payment as paid, and a redelivery after the resolve does nothing.
    if (!(await store.paid(String(id)))) {
      res.status(200).json({ received: true });
      return;
    }
    const { errors } = await shopify.request(RESOLVE, { variables: { id: gid } });
    if (errors) {
      res.status(502).json({ error: errors.message ?? 'Shopify refused' });
      return;
    }
    await store.resolved(String(id));
    res.status(200).json({ received: true });
  });
}

async function main(): Promise<void> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  const databaseUrl = process.env.FLOOR_DATABASE_URL;
  const store: FloorStore = databaseUrl ? await PostgresFloorStore.open(databaseUrl, Number(process.env.FLOOR_POOL_SIZE ?? 10)) : new MemoryFloorStore();
  installCartWebhook(app, store);
  for (const scenario of SCENARIOS) await scenario.installFloor(app, { flexPost, appUrl, amountMinor, store, catalog });
  await installWebhook(app, store);

  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1');
  const stop = () => {
    server.close(() => void store.close().finally(() => process.exit(0)));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`floor failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
