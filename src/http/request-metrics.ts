import type { NextFunction, Request, Response } from 'express';
import { secondsSince, type AppMetrics } from '../lib/metrics';

/**
 * Counts every answered request with its latency, by method, status and the Express route pattern
 * that answered it (`/pay/:paymentSessionId`, never the path with its ids); a request no route
 * answered counts as "unmatched".
 */
export function requestMetrics(metrics: AppMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    res.on('finish', () => metrics.observeHttpRequest(req.method, routeOf(req), res.statusCode, secondsSince(started)));
    next();
  };
}

function routeOf(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string') return 'unmatched';
  return `${req.baseUrl}${path}`;
}
