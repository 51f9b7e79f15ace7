import express from 'express';
import { paymentSessionBody, paymentSessionHeaders } from '../lib/payment-request';
import type { RequestScenario } from './scenario';

/**
 * Shopify's payment session request, `POST /payments/sessions` (unique Shopify session per request).
 * The app answers 201 {redirect_url} once it has created the Flex checkout session.
 *
 * Its floor parses the JSON body, makes the one Flex call the app must make per payment (create the
 * checkout session: same body shape, same Idempotency-Key, at a price created up front, as the app's
 * cached catch-all price) and answers 201 {redirect_url}.
 */
export const paymentSession: RequestScenario = {
  key: 'payment-session',
  title: 'Payment session requests, POST /payments/sessions (unique Shopify session per request)',

  nextRequest: ({ shop, amount, shopifyUrl }) => ({
    method: 'POST',
    path: '/payments/sessions',
    headers: paymentSessionHeaders(shop),
    body: JSON.stringify(paymentSessionBody({ shop, amount, shopifyUrl })),
  }),

  async installFloor(app, { flexPost, appUrl, amountMinor }) {
    // The app keeps a catch-all product and one price per amount; the floor makes them once, up front.
    const { product } = await flexPost(
      '/v1/products',
      { product: { name: 'Floor catch-all', description: 'benchmark floor', client_reference_id: 'floor', metadata: {} } },
      'floor-product',
    );
    const { price } = await flexPost('/v1/prices', { price: { product: product.product_id, unit_amount: amountMinor, description: 'floor price' } }, `floor-price-${amountMinor}`);
    const priceId: string = price.price_id;

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
  },
};
