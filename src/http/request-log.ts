import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../lib/logger';

/** Fields a route adds to its request's log line (res.locals.log). */
export interface RequestLogFields {
  shop?: string;
  paymentSessionId?: string;
  shopifySessionId?: string;
  outcome?: string;
  [key: string]: unknown;
}

export function logFields(res: Response): RequestLogFields {
  res.locals.log ??= {};
  return res.locals.log as RequestLogFields;
}

/**
 * One structured line per request. Only the path is logged (query strings can carry OAuth codes
 * and HMACs), never bodies or headers other than Shopify's request id.
 */
export function requestLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    res.on('finish', () => {
      const shopifyRequestId = req.get('shopify-request-id');
      const fields = logFields(res);
      const line = {
        req: { method: req.method, path: req.path },
        res: { status: res.statusCode },
        ms: Math.round((performance.now() - started) * 10) / 10,
        ...(shopifyRequestId ? { shopifyRequestId } : {}),
        ...fields,
      };
      if (res.statusCode >= 500) logger.error(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  };
}
