import express from 'express';
import { checkoutTokenOf } from '../../src/cart/checkout-tokens';
import { paymentSessionBody, paymentSessionHeaders } from '../lib/payment-request';
import type { EndlessScenario } from './scenario';

/**
 * Shopify's payment session request, `POST /payments/sessions` (unique Shopify session per request),
 * sent to the app's private session listener with the proxy's header (proxy mode). The app stores
 * the session and answers 201 {redirect_url: {APP_URL}/pay/{id}} at once, without calling Flex: the
 * Flex checkout is made on the pay page (pay-step.ts).
 *
 * Its floor parses the JSON body, keeps what its pay page needs (with the checkout token of its
 * `cancel_url`, the cart's key; in memory, or for the durable floor in one insert) and answers 201
 * with its pay page's URL: no Flex call, no validation.
 *
 * The requests here are bare (a fresh group as the checkout token, no checkout behind it): the
 * session request does not look for the cart, the pay page does (pay-step.ts).
 */
export const paymentSession: EndlessScenario = {
  kind: 'endless',
  key: 'payment-session',
  title: 'Payment session requests, POST /payments/sessions (unique Shopify session per request; answered with the pay page, no Flex call)',
  expectedStatus: 201,

  nextRequest: ({ endpoint, shop, amount, shopifyUrl }) => ({
    url: `${endpoint.sessionsUrl}/payments/sessions`,
    method: 'POST',
    headers: paymentSessionHeaders(shop, endpoint.proxySecret),
    body: JSON.stringify(paymentSessionBody({ shop, amount, shopifyUrl })),
  }),

  async installFloor(app, { appUrl, store }) {
    app.post('/payments/sessions', express.json({ limit: '256kb', type: () => true }), async (req, res) => {
      const body = req.body as Record<string, any>;
      const customer = body.customer;
      await store.keepSession({
        id: body.id,
        gid: body.gid,
        group: body.group,
        shop: req.get('shopify-shop-domain') ?? '',
        defaults: { email: customer?.email, first_name: customer?.billing_address?.given_name, last_name: customer?.billing_address?.family_name, phone: customer?.phone_number },
        // The cart's key for the pay page: the checkout token in cancel_url (the app's own parser).
        cartToken: checkoutTokenOf(body.payment_method?.data?.cancel_url),
      });
      res.status(201).json({ redirect_url: `${appUrl}/pay/${encodeURIComponent(body.id)}` });
    });
  },
};
