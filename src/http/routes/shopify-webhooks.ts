import express, { Router } from 'express';
import type { HandleShopifyWebhook } from '../../merchant/shopify-webhooks/handle-shopify-webhook';
import { logFields } from '../request-log';

/**
 * POST /webhooks/shopify/{topic} (app/uninstalled, customers/data_request, customers/redact,
 * shop/redact): the raw body goes to the use case, which checks its HMAC before anything is parsed.
 */
export function shopifyWebhookRoutes(deps: { handleShopifyWebhook: HandleShopifyWebhook }): Router {
  const router = Router();
  router.post('/webhooks/shopify/*topic', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const segments = (req.params as { topic?: string | string[] }).topic;
    const pathTopic = Array.isArray(segments) ? segments.join('/') : String(segments ?? '');
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const result = await deps.handleShopifyWebhook.execute({ pathTopic, rawBody, request: req });
    const log = logFields(res);
    log.shop = req.get('x-shopify-shop-domain');
    log.topic = pathTopic;
    log.outcome = String(result.body.outcome ?? (result.body.error as { code?: string } | undefined)?.code ?? '');
    res.status(result.status).json(result.body);
  });
  return router;
}
