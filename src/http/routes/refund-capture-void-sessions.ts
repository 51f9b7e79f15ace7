import { Router } from 'express';
import { boundedJson } from '../json-body';
import type { ReceiveOperationResult } from '../../payments/operation/store-operation';
import type { SessionRouteAuth } from '../servers';
import { requireShopifySessionAuth } from '../session-route-auth';
import { sendProblem } from '../problem';
import { logFields } from '../request-log';

interface ReceiveUseCase {
  execute(headers: Record<string, string | string[] | undefined>, body: unknown): Promise<ReceiveOperationResult>;
}

/**
 * POST /payments/refunds, /payments/captures, /payments/voids: refund, capture and void sessions.
 * Each request is stored (or recognised as a repeat) and answered 201 {} at once; the outcome
 * reaches Shopify later through the resolve/reject mutations.
 */
export function refundCaptureVoidRoutes(deps: { receiveRefund: ReceiveUseCase; receiveCapture: ReceiveUseCase; receiveVoid: ReceiveUseCase; sessionAuth: SessionRouteAuth }): Router {
  const router = Router();
  const routes: Array<[string, string, ReceiveUseCase]> = [
    ['/payments/refunds', 'refundSessionId', deps.receiveRefund],
    ['/payments/captures', 'captureSessionId', deps.receiveCapture],
    ['/payments/voids', 'voidSessionId', deps.receiveVoid],
  ];
  for (const [path, idField, useCase] of routes) {
    router.post(path, requireShopifySessionAuth(deps.sessionAuth), ...boundedJson('64kb'), async (req, res) => {
      const log = logFields(res);
      log.shop = req.get('shopify-shop-domain');
      log.shopifySessionId = typeof req.body?.id === 'string' ? req.body.id : undefined;
      const result = await useCase.execute(req.headers, req.body);
      if (result.paymentSessionId) log.paymentSessionId = result.paymentSessionId;
      if (result.sessionId) log[idField] = result.sessionId;
      if (!result.ok) {
        log.outcome = result.problem.code;
        sendProblem(res, result.problem.status, result.problem.code, result.problem.message, result.problem.details);
        return;
      }
      log.outcome = result.replayed ? 'replayed' : 'created';
      res.status(201).json({});
    });
  }
  return router;
}
