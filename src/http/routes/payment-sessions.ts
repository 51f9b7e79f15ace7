import { Router } from 'express';
import { boundedJson } from '../json-body';
import type { ReceivePaymentSession } from '../../payments/payment/receive-payment-session';
import type { SessionRouteAuth } from '../servers';
import { requireShopifySessionAuth } from '../session-route-auth';
import { sendProblem } from '../problem';
import { logFields } from '../request-log';

/** POST /payments/sessions: Shopify starts a payment. */
export function paymentSessionRoutes(deps: { receivePaymentSession: ReceivePaymentSession; sessionAuth: SessionRouteAuth }): Router {
  const router = Router();
  router.post('/payments/sessions', requireShopifySessionAuth(deps.sessionAuth), ...boundedJson('64kb'), async (req, res) => {
    const log = logFields(res);
    log.shop = req.get('shopify-shop-domain');
    log.shopifySessionId = typeof req.body?.id === 'string' ? req.body.id : undefined;
    const result = await deps.receivePaymentSession.execute(req.headers, req.body);
    if (result.paymentSessionId) log.paymentSessionId = result.paymentSessionId;
    if (!result.ok) {
      log.outcome = result.problem.code;
      sendProblem(res, result.problem.status, result.problem.code, result.problem.message, result.problem.details);
      return;
    }
    log.outcome = result.replayed ? 'replayed' : 'created';
    res.status(201).json({ redirect_url: result.redirectUrl });
  });
  return router;
}
