import express, { Router } from 'express';
import type { FlexMode } from '@prisma/client';
import type { EligibilityFilter } from '../../db/repositories/catalog-variants';
import { ELIGIBILITY_FILTERS } from '../../merchant/catalog-view';
import { currentMerchant, requireMerchant, requireSameOriginForm, type MerchantRoutesDeps } from '../merchant-auth';
import { logFields } from '../request-log';
import { catalogSection } from '../views/catalog-card';
import { escapeHtml as e } from '../views/html';
import { layout } from '../views/layout';

/**
 * The catalog beyond the settings page's first page (`GET /settings/catalog?mode=&page=&eligibility=`)
 * and "Sync products again" (`POST /settings/catalog/sync`), behind the same session, origin and
 * CSRF checks as every settings route. The shop is the session's; the query only pages and filters.
 */
export function catalogSettingsRoutes(deps: { merchant: MerchantRoutesDeps }): Router {
  const { merchant } = deps;
  const router = Router();
  const session = requireMerchant(merchant);
  const form = [session, express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 5 }), requireSameOriginForm(merchant)];

  router.get('/settings/catalog', session, async (req, res) => {
    const current = currentMerchant(res);
    const mode: FlexMode | undefined = req.query.mode === 'live' ? 'LIVE' : req.query.mode === 'test' ? 'TEST' : undefined;
    const page = typeof req.query.page === 'string' && /^\d{1,6}$/.test(req.query.page) ? Number(req.query.page) : 1;
    const filter = ELIGIBILITY_FILTERS.find((f) => f === req.query.eligibility) ?? null;
    const view = await merchant.catalog.view(current.shop, { mode, page, filter: filter as EligibilityFilter | null });
    if (!view) {
      res.status(404).type('html').send(layout('Not found', '<main class="page"><p>This store has not installed the app.</p></main>'));
      return;
    }
    const csrf = `<input type="hidden" name="_csrf" value="${e(merchant.sessions.csrfToken(current))}">`;
    const syncForm = `<form class="inline" method="post" action="/settings/catalog/sync">${csrf}<button class="button" type="submit">Sync products again</button></form>`;
    res.status(200).type('html').send(
      layout(
        'Products in Flex',
        `<main class="page"><div class="page-title"><h1>Products in Flex</h1><a class="button" href="/settings">Back to settings</a></div>
${catalogSection(view, { syncForm, standalone: true })}</main>`,
        { topbar: `<div class="shop"><span>${e(current.shop)}</span></div>` },
      ),
    );
  });

  router.post('/settings/catalog/sync', ...form, async (_req, res) => {
    const { shop } = currentMerchant(res);
    const modes = await merchant.catalog.syncAgain(shop);
    logFields(res).outcome = modes.length > 0 ? 'catalog_sync_started' : 'no_flex_connection';
    res.redirect(303, '/settings/catalog');
  });

  return router;
}
