import { Router, type Response } from 'express';
import type { HandleBuyerReturn } from '../../payments/payment/buyer-return';
import type { PayStep, PayStepOutcome } from '../../payments/payment/pay-step';
import { cannotPayPage, flexUnavailablePage, notFoundPage, processingPage, waitingForFlexPage } from '../views/buyer-pages';
import { logFields } from '../request-log';

/**
 * The buyer's pages: the pay page Shopify sends them to (the Flex checkout is made there), and where
 * Flex sends them back (the success and cancel URLs of each checkout).
 */
export function buyerRoutes(deps: { payStep: PayStep; buyerReturn: HandleBuyerReturn }): Router {
  const router = Router();

  router.get('/pay/:paymentSessionId', async (req, res) => {
    logFields(res).paymentSessionId = req.params.paymentSessionId;
    const outcome = await deps.payStep.execute(req.params.paymentSessionId);
    respond(res, outcome, `/pay/${encodeURIComponent(req.params.paymentSessionId)}`);
  });

  router.get('/payments/return/:paymentSessionId', async (req, res) => {
    logFields(res).paymentSessionId = req.params.paymentSessionId;
    const outcome = await deps.buyerReturn.returned(req.params.paymentSessionId);
    respond(res, outcome, req.originalUrl);
  });

  router.get('/payments/cancel/:paymentSessionId', async (req, res) => {
    logFields(res).paymentSessionId = req.params.paymentSessionId;
    const outcome = await deps.buyerReturn.canceled(req.params.paymentSessionId);
    respond(res, outcome, `/payments/return/${encodeURIComponent(req.params.paymentSessionId)}`);
  });

  return router;
}

function respond(res: Response, outcome: PayStepOutcome, refreshUrl: string): void {
  res.set('Cache-Control', 'no-store');
  logFields(res).outcome = outcome.type;
  switch (outcome.type) {
    case 'redirect':
      res.redirect(303, outcome.url);
      return;
    case 'processing':
    case 'busy':
      res.status(200).type('html').send(processingPage(refreshUrl));
      return;
    case 'waiting_for_flex':
      res.status(200).type('html').send(waitingForFlexPage({ refreshUrl, payUrl: outcome.payment.flexRedirectUrl, checkoutUrl: outcome.payment.cancelUrl }));
      return;
    case 'flex_unavailable':
      res.status(503).type('html').send(flexUnavailablePage({ retryUrl: refreshUrl, checkoutUrl: outcome.payment.cancelUrl }));
      return;
    case 'cannot_pay':
      res.status(200).type('html').send(cannotPayPage({ reason: outcome.reason, checkoutUrl: outcome.payment.cancelUrl }));
      return;
    case 'not_found':
      res.status(404).type('html').send(notFoundPage());
      return;
  }
}
