import type { PreparedScenario } from './scenario';

/**
 * The buyer's pay page, `GET /pay/{id}`, opened once for a session that exists: the app takes the
 * checkout lease, makes the Flex checkout session and answers 303 to Flex's hosted page.
 *
 * Sessions are made before each run, not measured: the Shopify simulator sends as many payment
 * session requests as the run will open pay pages (the runner sizes that from the server's earlier
 * rate), and each run opens each pay page once. They are bare sessions, with no cart captured: the
 * app falls back to one catch-all line (issue 10 keeps that fallback). To measure with carts, give
 * `createSessions` a cart source (sandbox-host.ts, `SessionSource`); the pay page's answer stays 303.
 *
 * Its floor finds the session in memory (the floor's session request keeps it), makes the one Flex
 * call (create the checkout session: same body shape and Idempotency-Key as the app, at a price made
 * up front, like the app's cached catch-all price) and answers 303 to Flex. With carts, the floor
 * would send the cart's lines instead of the catch-all line: one Flex call either way.
 */
export const payStep: PreparedScenario = {
  kind: 'prepared',
  key: 'pay-step',
  title: 'Pay page, GET /pay/{id} (a new session each time: the Flex checkout session is made, 303 to Flex; sessions made before each run, not measured)',
  expectedStatus: 303,

  async prepare({ endpoint, shop, amount, host }, count) {
    const { payUrls, errors } = await host.createSessions({ endpoint, shop, amount, count, concurrency: 8, source: { kind: 'bare' } });
    return { requests: payUrls.map((url) => ({ url, method: 'GET' as const, headers: { accept: 'text/html' } })), errors };
  },

  async installFloor(app, { flexPost, appUrl, amountMinor, sessions }) {
    // The app keeps a catch-all product and one price per amount; the floor makes them once, up front.
    const { product } = await flexPost(
      '/v1/products',
      { product: { name: 'Floor catch-all', description: 'benchmark floor', client_reference_id: 'floor', metadata: {} } },
      'floor-product',
    );
    const { price } = await flexPost('/v1/prices', { price: { product: product.product_id, unit_amount: amountMinor, description: 'floor price' } }, `floor-price-${amountMinor}`);
    const priceId: string = price.price_id;

    app.get('/pay/:id', async (req, res) => {
      // Once: a pay page opened twice by the load generator would show as a 404, not as a fast answer.
      const session = sessions.get(req.params.id);
      sessions.delete(req.params.id);
      if (!session) {
        res.status(404).send('unknown session');
        return;
      }
      try {
        const { checkout_session } = await flexPost(
          '/v1/checkout/sessions',
          {
            checkout_session: {
              mode: 'payment',
              line_items: [{ price: priceId, quantity: 1 }],
              success_url: `${appUrl}/payments/return/${session.id}?checkout_session={CHECKOUT_SESSION_ID}`,
              cancel_url: `${appUrl}/payments/cancel/${session.id}`,
              client_reference_id: session.id,
              capture_method: 'automatic',
              defaults: session.defaults,
              metadata: {
                shopify_shop_domain: session.shop,
                shopify_payment_session_gid: session.gid,
                shopify_payment_session_id: session.id,
                shopify_payment_group: session.group,
                app_payment_session_id: session.id,
              },
            },
          },
          `shopify-payment-session:${session.shop}:${session.id}`,
        );
        res.redirect(303, checkout_session.redirect_url);
      } catch (error) {
        res.status(502).send((error as Error).message);
      }
    });
  },
};
