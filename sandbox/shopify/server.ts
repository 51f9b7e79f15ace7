// The simulator's HTTP surface: the Payments Apps GraphQL API, OAuth, the checkout and admin pages a
// human (or the browser test) clicks through, and the /__sandbox control API.
import express, { type NextFunction, type Request, type Response } from 'express';
import { graphqlHandler } from './graphql-api';
import { oauthRouter } from './oauth';
import {
  adminPage,
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
      indexPage({ shops: sim.shops(), app: sim.app, payments: sim.paymentSessions(), mutations: sim.mutations }),
    );
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
    });
  });
  control.post('/app', (req, res) => {
    const app = sim.configureApp(req.body ?? {});
    res.json({ ...app, apiSecret: undefined });
  });
  control.post('/shops', (req, res) => {
    res.status(201).json(sim.createShop(String(req.body?.domain ?? '')));
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
