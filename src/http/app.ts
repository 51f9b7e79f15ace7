import express, { type ErrorRequestHandler, type Router } from 'express';
import { isDatabaseUnavailable, isTransientDatabaseConflict } from '../lib/database-unavailable';
import type { Logger } from '../lib/logger';
import type { AppMetrics } from '../lib/metrics';
import { sendProblem } from './problem';
import { requestLog } from './request-log';
import { requestMetrics } from './request-metrics';

/** What a client waiting on a database outage is told to wait before trying again. */
const RETRY_AFTER_OUTAGE_SECONDS = 5;

/**
 * The Express application: thin adapters only. Each router parses its input, calls one use case
 * and renders what comes back.
 */
export function createHttpApp(deps: { logger: Logger; routers: Router[]; metrics?: AppMetrics }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(requestLog(deps.logger));
  if (deps.metrics) app.use(requestMetrics(deps.metrics));
  for (const router of deps.routers) app.use(router);

  app.use((_req, res) => sendProblem(res, 404, 'not_found', 'No such route'));

  const onError: ErrorRequestHandler = (error, req, res, _next) => {
    const status = (error as { status?: number }).status;
    const type = (error as { type?: string }).type;
    if (type === 'entity.parse.failed') return sendProblem(res, 400, 'invalid_json', 'The request body is not valid JSON');
    if (type === 'entity.too.large') return sendProblem(res, 413, 'body_too_large', 'The request body is too large');
    if (status && status >= 400 && status < 500) return sendProblem(res, status, 'bad_request', (error as Error).message);
    // The database is unreachable: the client (Shopify, Flex, the buyer's browser) tries again later,
    // which is safe, every request being idempotent. The request's log line says 503; no stack trace.
    if (isDatabaseUnavailable(error)) {
      if (res.headersSent) return;
      res.set('Retry-After', String(RETRY_AFTER_OUTAGE_SECONDS));
      return sendProblem(res, 503, 'service_unavailable', 'The service is briefly unavailable; retry shortly');
    }
    // A deadlock's victim or a transaction that expired on a busy machine rolled back: the same
    // request again will do. Logged, since many of them would say something is wrong.
    if (isTransientDatabaseConflict(error)) {
      deps.logger.warn({ err: error, path: req.path }, 'transaction rolled back by a transient conflict; asked the client to retry');
      if (res.headersSent) return;
      res.set('Retry-After', '1');
      return sendProblem(res, 503, 'service_unavailable', 'The service is briefly unavailable; retry shortly');
    }
    deps.logger.error({ err: error, path: req.path }, 'unhandled error');
    if (res.headersSent) return;
    sendProblem(res, 500, 'internal_error', 'Something went wrong on our side; retry shortly');
  };
  app.use(onError);
  return app;
}
