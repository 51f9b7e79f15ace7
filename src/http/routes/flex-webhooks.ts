import express, { Router } from 'express';
import type { HandleFlexWebhook } from '../../flex/webhooks/handle-flex-webhook';
import { logFields } from '../request-log';

/**
 * POST /webhooks/flex?shop=…&mode=live|test. The query only says which endpoint (and so which
 * signing secret) the delivery claims to be for; nothing is trusted until the signature over the raw
 * body checks out with that secret.
 */
export function flexWebhookRoutes(deps: { handleFlexWebhook: HandleFlexWebhook }): Router {
  const router = Router();
  router.post('/webhooks/flex', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const shop = typeof req.query.shop === 'string' ? req.query.shop : undefined;
    const mode = typeof req.query.mode === 'string' ? req.query.mode : undefined;
    logFields(res).shop = shop;
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const result = await deps.handleFlexWebhook.execute({ shopDomain: shop, mode, rawBody, headers: req.headers });
    logFields(res).outcome = String(result.body.outcome ?? (result.body.error as { code?: string } | undefined)?.code ?? '');
    res.status(result.status).json(result.body);
  });
  return router;
}
