import { Router, type Response } from 'express';
import type { BuyerReturnOutcome, HandleBuyerReturn } from '../../payments/payment/buyer-return';
import { notFoundPage, processingPage, waitingForFlexPage } from '../views/buyer-pages';
import { logFields } from '../request-log';

/** Where Flex sends the buyer back: the success URL and the cancel URL of each checkout. */
export function buyerReturnRoutes(deps: { buyerReturn: HandleBuyerReturn }): Router {
  const router = Router();

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

function respond(res: Response, outcome: BuyerReturnOutcome, refreshUrl: string): void {
  res.set('Cache-Control', 'no-store');
  switch (outcome.type) {
    case 'redirect':
      logFields(res).outcome = 'redirect';
      res.redirect(303, outcome.url);
      return;
    case 'processing':
      logFields(res).outcome = 'processing';
      res.status(200).type('html').send(processingPage(refreshUrl));
      return;
    case 'waiting_for_flex':
      logFields(res).outcome = 'waiting_for_flex';
      res.status(200).type('html').send(waitingForFlexPage({ refreshUrl, payUrl: outcome.payment.flexRedirectUrl, checkoutUrl: outcome.payment.cancelUrl }));
      return;
    case 'not_found':
      res.status(404).type('html').send(notFoundPage());
      return;
  }
}
