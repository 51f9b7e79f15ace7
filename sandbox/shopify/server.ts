// The simulator's HTTP surface: the Payments Apps GraphQL API, OAuth, the checkout and admin pages a
// human (or the browser test) clicks through, and the /__sandbox control API.
import express, { type NextFunction, type Request, type Response } from 'express';
import { adminGraphqlHandler } from './admin-api';
import { graphqlHandler } from './graphql-api';
import { oauthRouter } from './oauth';
import { ORDER_GID } from './orders';
import {
  adminPage,
  cartCheckoutPage,
  checkoutPage,
  errorPage,
  indexPage,
  mutationsPage,
  sendFailedPage,
  shopListPage,
  type CheckoutOutcome,
} from './pages';
import type { FollowUpKind } from './payments-state';
import type { ShopRecord } from './shops';
import type { ShopifySimulator, SimulatorInternals } from './simulator';

export function createServerApp(sim: ShopifySimulator, internals: SimulatorInternals): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.post(
    '/payments_apps/api/:version/graphql.json',
    express.text({ type: () => true, limit: '1mb' }),
    graphqlHandler({
      shops: internals.shops,
      state: internals.state,
      faults: sim.faults,
      mutations: sim.mutations,
      supportedVersions: () => sim.supportedVersions,
      publicUrl: () => sim.url,
      now: () => sim.now(),
      heldResponses: internals.heldResponses,
      onRecord: () => internals.notify(),
    }),
  );

  app.post(
    '/admin/api/:version/graphql.json',
    express.text({ type: () => true, limit: '1mb' }),
    adminGraphqlHandler({
      shops: internals.shops,
      catalog: internals.catalog,
      orders: internals.orders,
      metafields: internals.metafields,
      webPixels: internals.webPixels,
      pixelConfig: internals.pixelConfig,
      buckets: internals.buckets,
      faults: sim.faults,
      calls: sim.adminCalls,
      supportedVersions: () => sim.supportedVersions,
      assumptions: sim.assumptions,
      enforceAccessScopes: internals.options.enforceAccessScopes ?? true,
      publicUrl: () => sim.url,
      now: () => sim.now(),
      heldResponses: internals.heldResponses,
      onRecord: () => internals.notify(),
      onOrderUpdated: (order) => internals.commerce.orderUpdated(order),
      transactionPaymentId: (order, transaction) => internals.commerce.transactionPaymentId(order, transaction),
    }),
  );

  app.use(
    oauthRouter({
      shops: internals.shops,
      app: () => sim.app,
      now: () => sim.now(),
      codeLifetimeSeconds: internals.options.authorizationCodeLifetimeSeconds ?? 600,
      skipConsentWhenInstalled: internals.options.skipConsentWhenInstalled ?? true,
    }),
  );

  // ---- checkout (buyer side) ----

  app.get('/', (_req, res) => {
    res.type('html').send(
      indexPage({
        shops: sim.shops(),
        app: sim.app,
        payments: sim.paymentSessions(),
        mutations: sim.mutations,
        catalogs: Object.fromEntries(sim.shops().map((s) => [s.domain, sim.products(s.domain)])),
        pixels: Object.fromEntries(sim.shops().map((s) => [s.domain, Boolean(sim.webPixel(s.domain))])),
      }),
    );
  });

  // A buyer's cart from the shop's catalog: the same sequence as runCheckout (pixel, webhooks,
  // session request), then on to the app's redirect_url.
  app.post('/cart-checkout', express.urlencoded({ extended: false }), async (req, res) => {
    const form = req.body as Record<string, string | undefined>;
    const shop = String(form.shop ?? '');
    const lines = Object.entries(form)
      .filter(([key, value]) => key.startsWith('qty_') && Number(value) > 0)
      .map(([key, value]) => ({ variantId: key.slice(4), quantity: Math.floor(Number(value)) }));
    if (lines.length === 0) {
      res.status(400).type('html').send(errorPage('Empty cart', 'Choose a quantity for at least one product.'));
      return;
    }
    const run = await sim.runCheckout(shop, {
      lines,
      discount: form.discount_code && Number(form.discount_amount) > 0 ? { code: form.discount_code, amount: form.discount_amount! } : null,
      shipping: Number(form.shipping) > 0 ? { title: 'Standard', price: form.shipping! } : null,
      tax: Number(form.tax_rate) > 0 ? { rate: Number(form.tax_rate) / 100 } : null,
      session: { kind: form.kind === 'authorization' ? 'authorization' : 'sale', test: form.test === '1' || form.test === 'on' },
    });
    const sent = run.session!;
    const redirectUrl = (sent.body as { redirect_url?: unknown } | null)?.redirect_url;
    if (sent.status >= 200 && sent.status < 300 && typeof redirectUrl === 'string') {
      res.redirect(303, redirectUrl);
      return;
    }
    res.status(502).type('html').send(sendFailedPage('Payment session', sent.status, sent.body, sent.error));
  });

  app.post('/shops/:domain/demo-catalog', (req, res) => {
    const domain = String(req.params.domain);
    if (sim.products(domain).length === 0) sim.seedDemoCatalog(domain);
    res.redirect(303, '/');
  });

  app.post('/checkout', express.urlencoded({ extended: false }), async (req, res) => {
    const form = req.body as Record<string, string | undefined>;
    const sent = await sim.sendPaymentSession(String(form.shop), {
      amount: form.amount || '0.00',
      currency: form.currency || 'USD',
      kind: form.kind === 'authorization' ? 'authorization' : 'sale',
      test: form.test === '1' || form.test === 'on',
    });
    const redirectUrl = (sent.body as { redirect_url?: unknown } | null)?.redirect_url;
    if (sent.status >= 200 && sent.status < 300 && typeof redirectUrl === 'string') {
      res.redirect(303, redirectUrl);
      return;
    }
    res.status(502).type('html').send(sendFailedPage('Payment session', sent.status, sent.body, sent.error));
  });

  app.post('/shops', express.urlencoded({ extended: false }), (req, res) => {
    const shop = sim.addShop(String((req.body as Record<string, unknown>).domain ?? ''));
    res.redirect(303, `/admin?shop=${encodeURIComponent(shop.domain)}`);
  });

  app.get('/mutations', (_req, res) => {
    res.type('html').send(mutationsPage(sim.mutations));
  });

  const checkoutRoute = (outcome: CheckoutOutcome) => (req: Request, res: Response) => {
    const group = String(req.params.group);
    const sessionId = typeof req.query.payment_session === 'string' ? req.query.payment_session : undefined;
    const session = sessionId
      ? sim.paymentSession(sessionId)
      : sim.paymentSessions().filter((p) => p.group === group).at(-1);
    const errorCode = typeof req.query.payment_error === 'string' ? req.query.payment_error : undefined;
    const resolvedOutcome = outcome === 'checkout' && errorCode ? 'error' : outcome;
    res.type('html').send(checkoutPage(resolvedOutcome, { group, session, errorCode }));
  };
  // The buyer's checkout pages of cart checkouts (the cancel_url forms): back at checkout.
  const cartCheckoutRoute = (req: Request, res: Response, next: NextFunction) => {
    // `/{shop_id}/checkouts/{token}`: only numeric shop ids (leaves /__sandbox/checkouts/… alone).
    if (req.params.shopId !== undefined && !/^\d+$/.test(String(req.params.shopId))) return next();
    const checkout = sim.checkout(String(req.params.token));
    if (!checkout) {
      res.status(404).type('html').send(errorPage('Checkout not found', 'This checkout does not exist.'));
      return;
    }
    res.type('html').send(cartCheckoutPage(checkout, checkout.orderId ? sim.order(checkout.orderId) : undefined));
  };
  app.get('/checkouts/cn/:token', cartCheckoutRoute);
  app.get('/checkouts/cn/:token/thank-you', cartCheckoutRoute);
  app.get('/checkouts/cn/:token/:locale', cartCheckoutRoute);
  app.get('/:shopId/checkouts/:token', cartCheckoutRoute);
  app.get('/:shopId/checkouts/:token/thank-you', cartCheckoutRoute);
  app.get('/checkouts/:group/thank-you', checkoutRoute('thank-you'));
  app.get('/checkouts/:group/processing', checkoutRoute('processing'));
  app.get('/checkouts/:group/cancel', checkoutRoute('cancel'));
  app.get('/checkouts/:group', checkoutRoute('checkout'));

  // ---- admin (merchant side) ----

  // The app's links to https://{shop}/… arrive here without the shop's hostname; fall back to the
  // only shop there is when the query does not say.
  const shopFromQuery = (req: Request): ShopRecord | undefined => {
    const requested = typeof req.query.shop === 'string' ? req.query.shop : undefined;
    if (requested) return sim.shop(requested);
    const all = sim.shops();
    return all.length === 1 ? all[0] : undefined;
  };

  const renderAdmin = (req: Request, res: Response) => {
    const shop = shopFromQuery(req);
    if (!shop) {
      res.type('html').send(shopListPage(sim.shops()));
      return;
    }
    res.type('html').send(
      adminPage({
        shop,
        app: sim.app,
        payments: sim.paymentSessions({ shop: shop.domain }),
        followUps: internals.state.listFollowUps(undefined, shop.domain),
        webhooks: sim.webhookDeliveries.filter((w) => w.shop === shop.domain),
        orders: sim.orders({ shop: shop.domain }),
        metafieldsOf: (order) =>
          internals.metafields.visibleToMerchant(shop.domain, ORDER_GID + order.id).map(({ definition, metafield }) => ({ name: definition.name, value: metafield.value })),
      }),
    );
  };
  app.get('/admin', renderAdmin);
  app.get('/services/payments_partners/gateways/:apiKey/settings', renderAdmin);

  // The install URL is signed with a timestamp the app checks, so it is made at click time.
  app.get('/admin/apps/open', (req, res) => {
    const shop = shopFromQuery(req);
    if (!shop) {
      res.status(404).type('html').send(errorPage('Shop not found', 'Add the shop first.'));
      return;
    }
    res.redirect(302, sim.installUrl(shop.domain));
  });

  app.post('/admin/apps/uninstall', async (req, res) => {
    const shop = shopFromQuery(req);
    if (shop) await sim.uninstallApp(shop.domain);
    res.redirect(303, `/admin${shop ? `?shop=${encodeURIComponent(shop.domain)}` : ''}`);
  });

  app.post('/admin/payments/:kind', express.urlencoded({ extended: false }), async (req, res) => {
    const shop = shopFromQuery(req);
    const kind = String(req.params.kind);
    if (!shop || !['refund', 'capture', 'void'].includes(kind)) {
      res.status(404).type('html').send(errorPage('Not found', 'Unknown shop or action.'));
      return;
    }
    const paymentId = String((req.body as Record<string, unknown>).payment_id ?? '');
    const sent = await sim.sendFollowUpSession(kind as FollowUpKind, shop.domain, { paymentId });
    if (sent.status >= 200 && sent.status < 300) {
      res.redirect(303, `/admin?shop=${encodeURIComponent(shop.domain)}`);
      return;
    }
    res.status(502).type('html').send(sendFailedPage(`${kind} session`, sent.status, sent.body, sent.error));
  });

  // The merchant refunds lines of an order, and edits its note and tags.
  app.post('/admin/orders/:id/refund', express.urlencoded({ extended: false }), async (req, res) => {
    const shop = shopFromQuery(req);
    const form = req.body as Record<string, string | undefined>;
    if (!shop) {
      res.status(404).type('html').send(errorPage('Not found', 'Unknown shop.'));
      return;
    }
    const lines = Object.entries(form)
      .filter(([key, value]) => key.startsWith('qty_') && Number(value) > 0)
      .map(([key, value]) => ({ lineItemId: Number(key.slice(4)), quantity: Math.floor(Number(value)) }));
    const result = await sim.refundOrderLines(shop.domain, String(req.params.id), { lines, shipping: form.shipping === 'on' || form.shipping === '1' });
    if (result.session.status >= 200 && result.session.status < 300) {
      res.redirect(303, `/admin?shop=${encodeURIComponent(shop.domain)}`);
      return;
    }
    res.status(502).type('html').send(sendFailedPage('refund session', result.session.status, result.session.body, result.session.error));
  });

  app.post('/admin/orders/:id/edit', express.urlencoded({ extended: false }), (req, res) => {
    const shop = shopFromQuery(req);
    const form = req.body as Record<string, string | undefined>;
    if (!shop) {
      res.status(404).type('html').send(errorPage('Not found', 'Unknown shop.'));
      return;
    }
    const id = String(req.params.id);
    sim.setOrderNote(shop.domain, id, form.note?.trim() ? form.note : null);
    sim.setOrderTags(shop.domain, id, (form.tags ?? '').split(',').map((t) => t.trim()).filter(Boolean));
    res.redirect(303, `/admin?shop=${encodeURIComponent(shop.domain)}`);
  });

  // ---- control API (npm start, browser test, benchmarks) ----

  const control = express.Router();
  control.use(express.json());
  control.get('/state', (_req, res) => {
    res.json({
      url: sim.url,
      apiVersion: sim.apiVersion,
      supportedVersions: sim.supportedVersions,
      app: sim.app ? { ...sim.app, apiSecret: undefined, clientTls: sim.app.clientTls ? '(set)' : undefined } : null,
      shops: sim.shops(),
      paymentSessions: sim.paymentSessions(),
      refundSessions: sim.refundSessions(),
      captureSessions: sim.captureSessions(),
      voidSessions: sim.voidSessions(),
      faults: sim.faults.pending(),
      webhookFaults: sim.faults.webhooks.pending(),
      assumptions: sim.assumptions,
      catalogs: Object.fromEntries(sim.shops().map((s) => [s.domain, { products: sim.products(s.domain).length }])),
      webPixels: sim.shops().map((s) => sim.webPixel(s.domain)).filter(Boolean),
      checkouts: sim.checkouts().length,
      orders: sim.orders().map((o) => ({ id: o.id, shop: o.shop, name: o.name, paymentSessionId: o.paymentSessionId, totalCents: o.totalCents })),
    });
  });
  control.post('/app', (req, res) => {
    const app = sim.configureApp(req.body ?? {});
    res.json({ ...app, apiSecret: undefined });
  });
  control.post('/shops', (req, res) => {
    res.status(201).json(sim.createShop(String(req.body?.domain ?? ''), { scopes: req.body?.scopes }));
  });
  control.post('/shops/:domain/scopes', (req, res) => {
    res.json(sim.grantScopes(String(req.params.domain), req.body?.scopes ?? ''));
  });
  control.get('/shops/:domain/products', (req, res) => {
    res.json(sim.products(String(req.params.domain)));
  });
  control.post('/shops/:domain/products', async (req, res) => {
    const change = sim.createProduct(String(req.params.domain), req.body ?? {});
    res.status(201).json({ product: change.product, webhook: await change.webhook });
  });
  control.post('/shops/:domain/products/:id', async (req, res) => {
    const change = sim.updateProduct(String(req.params.domain), String(req.params.id), req.body ?? {});
    res.json({ product: change.product, webhook: await change.webhook });
  });
  control.delete('/shops/:domain/products/:id', async (req, res) => {
    const change = sim.deleteProduct(String(req.params.domain), String(req.params.id));
    res.json({ product: change.product, webhook: await change.webhook });
  });
  control.post('/shops/:domain/catalog/seed', (req, res) => {
    res.json(sim.seedCatalog(String(req.params.domain), req.body ?? {}));
  });
  control.post('/shops/:domain/catalog/demo', (req, res) => {
    res.json(sim.seedDemoCatalog(String(req.params.domain)));
  });
  control.get('/shops/:domain/web-pixel', (req, res) => {
    res.json(sim.webPixel(String(req.params.domain)));
  });
  control.post('/shops/:domain/admin-throttle', (req, res) => {
    sim.setAdminThrottle(String(req.params.domain), req.body ?? {});
    res.json(sim.adminThrottleStatus(String(req.params.domain)));
  });
  control.post('/checkouts', async (req, res) => {
    const { shop, ...input } = req.body ?? {};
    res.json(await sim.runCheckout(String(shop), input));
  });
  control.get('/checkouts', (req, res) => {
    res.json(sim.checkouts({ shop: typeof req.query.shop === 'string' ? req.query.shop : undefined }));
  });
  control.get('/checkouts/:token', (req, res) => {
    const checkout = sim.checkout(String(req.params.token));
    if (!checkout) res.status(404).json({ error: 'not_found' });
    else res.json(checkout);
  });
  control.get('/orders', (req, res) => {
    res.json(sim.orders({ shop: typeof req.query.shop === 'string' ? req.query.shop : undefined }));
  });
  control.get('/orders/:id', (req, res) => {
    const order = sim.order(String(req.params.id));
    if (!order) res.status(404).json({ error: 'not_found' });
    else res.json(order);
  });
  control.post('/orders/:id/refund', async (req, res) => {
    const { shop, ...input } = req.body ?? {};
    res.json(await sim.refundOrderLines(String(shop), String(req.params.id), input));
  });
  control.post('/orders/:id/note', (req, res) => {
    res.json(sim.setOrderNote(String(req.body?.shop), String(req.params.id), req.body?.note ?? null));
  });
  control.post('/orders/:id/tags', (req, res) => {
    res.json(sim.setOrderTags(String(req.body?.shop), String(req.params.id), req.body?.tags ?? []));
  });
  control.get('/assumptions', (_req, res) => {
    res.json(sim.assumptions);
  });
  control.post('/assumptions', (req, res) => {
    res.json(sim.setAssumptions(req.body ?? {}));
  });
  control.get('/admin-calls', (_req, res) => {
    res.json(sim.adminCalls);
  });
  control.get('/webhook-events', (_req, res) => {
    res.json(sim.webhookEvents);
  });
  control.get('/pixel-requests', (_req, res) => {
    res.json(sim.pixelRequests);
  });
  control.post('/faults/webhooks', (req, res) => {
    sim.faults.webhooks.add(req.body);
    res.status(201).json(sim.faults.webhooks.pending());
  });
  control.post('/shops/:domain/uninstall', async (req, res) => {
    res.json(await sim.uninstallApp(String(req.params.domain)));
  });
  control.get('/shops/:domain/install-url', (req, res) => {
    res.json({ url: sim.installUrl(String(req.params.domain)) });
  });
  control.get('/shops/:domain/configuration', (req, res) => {
    res.json(sim.paymentsAppConfiguration(String(req.params.domain)));
  });
  control.post('/payment-sessions', async (req, res) => {
    const { shop, ...input } = req.body ?? {};
    res.json(await sim.sendPaymentSession(String(shop), input));
  });
  for (const kind of ['refund', 'capture', 'void'] as const) {
    control.post(`/${kind}-sessions`, async (req, res) => {
      const { shop, ...input } = req.body ?? {};
      res.json(await sim.sendFollowUpSession(kind, String(shop), input));
    });
  }
  control.get('/sessions/:id', (req, res) => {
    const id = String(req.params.id);
    const session = sim.paymentSession(id) ?? internals.state.findFollowUp(id);
    if (!session) res.status(404).json({ error: 'not_found' });
    else res.json(session);
  });
  control.post('/webhooks', async (req, res) => {
    const { shop, topic, payload, ...options } = req.body ?? {};
    res.json(await sim.sendWebhook(String(shop), String(topic), payload, options));
  });
  control.get('/webhooks', (_req, res) => {
    res.json(sim.webhookDeliveries);
  });
  control.get('/mutations', (_req, res) => {
    res.json(sim.mutations);
  });
  control.post('/faults', (req, res) => {
    sim.faults.failNext(req.body);
    res.status(201).json(sim.faults.pending());
  });
  control.post('/faults/reset', (_req, res) => {
    sim.faults.reset();
    res.json([]);
  });
  control.post('/tokens/revoke', (req, res) => {
    res.json({ revoked: sim.revokeToken(String(req.body?.token ?? '')) });
  });
  control.post('/clock/advance', (req, res) => {
    sim.advanceClock(Number(req.body?.seconds ?? 0));
    res.json({ now: sim.now().toISOString() });
  });
  app.use('/__sandbox', control);

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const message = err instanceof Error ? err.message : String(err);
    const status = (err as { status?: number }).status ?? 400;
    if (req.path.startsWith('/__sandbox')) res.status(status).json({ error: message });
    else res.status(status).type('html').send(errorPage('Something went wrong', message));
  });

  return app;
}
