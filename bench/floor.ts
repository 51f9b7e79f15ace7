import http from 'node:http';
import express from 'express';

/**
 * THE FLOOR: the least any server can do for POST /payments/sessions. It makes the one Flex call the
 * app must make per payment (create the checkout session, with the same body shape and
 * Idempotency-Key, at a price created up front, as the app's cached catch-all price) and answers
 * 201 {redirect_url}. No persistence, no validation, no logging. Same Node, same Express, same HTTP
 * client (global fetch) as the app, in a process of its own, so the difference to the app is what
 * the app adds.
 *
 * Env: PORT, FLEX_API_URL, FLEX_API_KEY, APP_URL, AMOUNT_MINOR.
 */

const port = Number(process.env.PORT ?? 0);
const flexUrl = required('FLEX_API_URL');
const apiKey = required('FLEX_API_KEY');
const appUrl = process.env.APP_URL ?? `http://127.0.0.1:${port}`;
const amountMinor = Number(process.env.AMOUNT_MINOR ?? 4999);

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

async function main(): Promise<void> {
  // The app keeps a catch-all product and one price per amount; the floor makes them once, up front.
  const { product } = await flexPost(
    '/v1/products',
    { product: { name: 'Floor catch-all', description: 'benchmark floor', client_reference_id: 'floor', metadata: {} } },
    'floor-product',
  );
  const { price } = await flexPost('/v1/prices', { price: { product: product.product_id, unit_amount: amountMinor, description: 'floor price' } }, `floor-price-${amountMinor}`);
  const priceId: string = price.price_id;

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.post('/payments/sessions', express.json({ limit: '256kb', type: () => true }), async (req, res) => {
    const body = req.body as Record<string, any>;
    const shop = req.get('shopify-shop-domain');
    try {
      const { checkout_session } = await flexPost(
        '/v1/checkout/sessions',
        {
          checkout_session: {
            mode: 'payment',
            line_items: [{ price: priceId, quantity: 1 }],
            success_url: `${appUrl}/payments/return/${body.id}?checkout_session={CHECKOUT_SESSION_ID}`,
            cancel_url: `${appUrl}/payments/cancel/${body.id}`,
            client_reference_id: body.id,
            capture_method: 'automatic',
            defaults: { email: body.customer?.email, first_name: body.customer?.billing_address?.given_name, last_name: body.customer?.billing_address?.family_name, phone: body.customer?.phone_number },
            metadata: { shopify_shop_domain: shop, shopify_payment_session_gid: body.gid, shopify_payment_session_id: body.id, shopify_payment_group: body.group },
          },
        },
        `shopify-payment-session:${shop}:${body.id}`,
      );
      res.status(201).json({ redirect_url: checkout_session.redirect_url });
    } catch (error) {
      res.status(502).json({ error: (error as Error).message });
    }
  });

  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1');
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`floor failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
