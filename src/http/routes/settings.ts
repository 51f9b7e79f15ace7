import express, { Router, type Response } from 'express';
import { currentMerchant, endMerchantSession, requireMerchant, requireSameOriginForm, type MerchantRoutesDeps } from '../merchant-auth';
import { signedOutPage } from '../views/merchant-pages';
import { settingsPage } from '../views/settings-page';
import { logFields } from '../request-log';
import { orderReportSections, type OrderReportsDeps } from './order-reports';

/** Short confirmations after a form post (only these keys; nothing from the URL is echoed). */
const NOTICES: Record<string, string> = {
  installed: 'The app is installed. Connect your Flex account to start taking HSA/FSA payments.',
  connected: 'Flex is connected: your keys were checked with Flex and saved.',
  disconnected: 'Flex keys removed. Shopify is told Flex is no longer ready when no key is left.',
  ready_sent: 'Shopify is being told that Flex is ready.',
  retried: 'The update was put back in the queue; the app is sending it to Shopify again.',
  nothing_to_retry: 'That update no longer needs a retry.',
};

/**
 * The merchant's settings page. Every route runs behind the session check (one shop per cookie);
 * every POST also behind the same-origin and CSRF-token checks. The shop always comes from the
 * session, never from the request.
 */
export function settingsRoutes(deps: { merchant: MerchantRoutesDeps; orderReports?: OrderReportsDeps }): Router {
  const { merchant } = deps;
  const router = Router();
  const session = requireMerchant(merchant);
  const form = [session, express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }), requireSameOriginForm(merchant)];

  const render = async (res: Response, status: number, extra: { notice?: string; errors?: string[] } = {}, query: Record<string, unknown> = {}) => {
    const current = currentMerchant(res);
    const view = await merchant.settingsView.execute(current.shop);
    if (!view) {
      endMerchantSession(res, merchant);
      res.status(401).type('html').send(signedOutPage());
      return;
    }
    res.status(status).type('html').send(
      settingsPage({
        view,
        csrfToken: merchant.sessions.csrfToken(current),
        returnUrl: merchant.returnToShopifyUrl(current.shop),
        sections: deps.orderReports ? await orderReportSections(deps.orderReports, current.shop, query.reconciliation) : [],
        ...extra,
      }),
    );
  };

  router.get('/settings', session, async (req, res) => {
    const key = typeof req.query.notice === 'string' ? req.query.notice : undefined;
    await render(res, 200, { notice: key ? NOTICES[key] : undefined }, req.query);
  });

  router.post('/settings/connect', ...form, async (req, res) => {
    const { shop } = currentMerchant(res);
    const body = req.body as Record<string, unknown>;
    const result = await merchant.flexAccount.connect(shop, { live: stringField(body.live_key), test: stringField(body.test_key) });
    if (!result.ok) {
      logFields(res).outcome = 'keys_refused';
      await render(res, 422, { errors: result.problems });
      return;
    }
    logFields(res).outcome = 'connected';
    res.redirect(303, '/settings?notice=connected');
  });

  router.post('/settings/disconnect', ...form, async (req, res) => {
    const { shop } = currentMerchant(res);
    const mode = stringField((req.body as Record<string, unknown>).mode);
    const which = mode === 'live' ? 'LIVE' : mode === 'test' ? 'TEST' : mode === 'all' ? 'ALL' : undefined;
    if (!which) {
      await render(res, 400, { errors: ['Choose which key to remove.'] });
      return;
    }
    const result = await merchant.flexAccount.disconnect(shop, which);
    if (!result.ok) {
      await render(res, 409, { errors: [result.problem] });
      return;
    }
    logFields(res).outcome = 'disconnected';
    res.redirect(303, '/settings?notice=disconnected');
  });

  router.post('/settings/ready', ...form, async (_req, res) => {
    const { shop } = currentMerchant(res);
    const stored = await merchant.install.shopId(shop);
    if (stored) await merchant.configuration.sync(stored);
    res.redirect(303, '/settings?notice=ready_sent');
  });

  router.post('/settings/jobs/:jobId/retry', ...form, async (req, res) => {
    const { shop } = currentMerchant(res);
    const outcome = await merchant.retryJob.execute(shop, String(req.params.jobId));
    logFields(res).outcome = outcome;
    if (outcome === 'not_found') {
      await render(res, 404, { errors: ['No such update for this store.'] });
      return;
    }
    res.redirect(303, `/settings?notice=${outcome === 'requeued' ? 'retried' : 'nothing_to_retry'}`);
  });

  router.get('/settings/data-requests/:id', session, async (req, res) => {
    const { shop } = currentMerchant(res);
    const found = await merchant.dataRequests.find(shop, String(req.params.id));
    if (!found) {
      res.status(404).type('text').send('No such data request for this store.');
      return;
    }
    res.set('Content-Disposition', `attachment; filename="customer-data-request-${found.id}.json"`);
    res.status(200).type('json').send(JSON.stringify(found.report, null, 2));
  });

  router.post('/settings/sign-out', ...form, (_req, res) => {
    endMerchantSession(res, merchant);
    res.status(200).type('html').send(signedOutPage('You are signed out.'));
  });

  return router;
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
