import type { PreparedScenario } from './scenario';

/**
 * The buyer's pay page, `GET /pay/{id}`, opened once for a session that exists: the app takes the
 * checkout lease, finds the buyer's cart (the snapshot of the checkout whose token is in the session's
 * `cancel_url`), re-prices it from its synced catalog, makes the Flex checkout session with the cart's
 * lines and answers 303 to Flex's hosted page.
 *
 * Sessions are made before each run, not measured: for each, the Shopify simulator makes a checkout
 * with the bench cart, sends its `checkouts/create` webhook (the cart captured, as Shopify does before
 * the session request) and then the payment session request (the runner sizes how many from the
 * server's earlier rate); each run opens each pay page once. So the snapshot is there when the pay page
 * is opened: nothing waits (a bare session would wait the app's cart wait, 3 s, then fall back).
 *
 * Its floor finds the session (the floor's session request keeps it, with the token of its
 * `cancel_url`) and the cart (its checkouts/create webhook keeps it), in memory or, for the durable
 * floor, in one statement that also records them (floor-store.ts), makes the one Flex call
 * (create the checkout session: the same body shape and Idempotency-Key as the app, the cart's lines at
 * prices made up front, like the app's synced catalog), records its checkout (the durable floor) and
 * answers 303 to Flex.
 */
export const payStep: PreparedScenario = {
  kind: 'prepared',
  key: 'pay-step',
  title: 'Pay page, GET /pay/{id} (a new session each time, its cart captured by checkouts/create before: the cart joined, the Flex checkout session made with its lines, 303 to Flex; sessions made before each run, not measured)',
  expectedStatus: 303,

  async prepare({ endpoint, shop, amount, host }, count) {
    const { payUrls, errors } = await host.createSessions({ endpoint, shop, amount, count, concurrency: 8, source: { kind: 'cart' } });
    return { requests: payUrls.map((url) => ({ url, method: 'GET' as const, headers: { accept: 'text/html' } })), errors };
  },

  async installFloor(app, { flexPost, appUrl, amountMinor, store, catalog }) {
    // The app keeps a catch-all product and one price per amount, and a product and price per synced
    // variant; the floor makes them once, up front.
    const { product } = await flexPost(
      '/v1/products',
      { product: { name: 'Floor catch-all', description: 'benchmark floor', client_reference_id: 'floor', metadata: {} } },
      'floor-product',
    );
    const { price } = await flexPost('/v1/prices', { price: { product: product.product_id, unit_amount: amountMinor, description: 'floor price' } }, `floor-price-${amountMinor}`);
    const catchAllPriceId: string = price.price_id;
    const variantPrices = new Map<string, string>();
    for (const variant of catalog) {
      const made = await flexPost(
        '/v1/products',
        { product: { name: variant.title, description: 'benchmark floor', client_reference_id: `floor-variant-${variant.variantId}`, metadata: {} } },
        `floor-product-${variant.variantId}`,
      );
      const madePrice = await flexPost(
        '/v1/prices',
        { price: { product: made.product.product_id, unit_amount: variant.unitAmountMinor, description: variant.title } },
        `floor-price-${variant.variantId}-${variant.unitAmountMinor}`,
      );
      variantPrices.set(variant.variantId, madePrice.price.price_id);
    }

    app.get('/pay/:id', async (req, res) => {
      // Once: a pay page opened twice by the load generator would show as a 404, not as a fast answer.
      // The durable floor records the cart it sends before calling Flex (floor-store.ts).
      const taken = await store.takeSession(req.params.id);
      if (!taken) {
        res.status(404).send('unknown session');
        return;
      }
      const { session, cart } = taken;
      const lines = cart?.every((l) => variantPrices.has(l.variantId)) ? cart.map((l) => ({ price: variantPrices.get(l.variantId)!, quantity: l.quantity })) : undefined;
      try {
        const { checkout_session } = await flexPost(
          '/v1/checkout/sessions',
          {
            checkout_session: {
              mode: 'payment',
              line_items: lines ?? [{ price: catchAllPriceId, quantity: 1 }],
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
                cart: lines ? 'cart' : 'catch_all',
              },
            },
          },
          `shopify-payment-session:${session.shop}:${session.id}`,
        );
        await store.checkoutMade(session.id, checkout_session.checkout_session_id);
        res.redirect(303, checkout_session.redirect_url);
      } catch (error) {
        res.status(502).send((error as Error).message);
      }
    });
  },
};
