import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type ErrorRequestHandler } from 'express';
import type { Logger } from '../lib/logger';
import type { AppMetrics } from '../lib/metrics';
import { sendProblem } from './problem';

/**
 * The metrics listener's app: `GET /metrics` in Prometheus' text format, nothing else. It is never
 * mounted on the public listener (README "Metrics"). With a token configured, a scrape must carry
 * `Authorization: Bearer <token>` (compared in constant time).
 */
export function createMetricsApp(deps: { metrics: AppMetrics; token: string | undefined; logger: Logger }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (req, res) => {
    if (deps.token !== undefined && !bearerMatches(req.get('authorization'), deps.token)) {
      res.set('WWW-Authenticate', 'Bearer realm="metrics"');
      return sendProblem(res, 401, 'unauthorized', 'Metrics need Authorization: Bearer <METRICS_TOKEN>');
    }
    const { contentType, body } = await deps.metrics.render();
    res.set({ 'Content-Type': contentType, 'Cache-Control': 'no-store' }).send(body);
  });
  app.use((_req, res) => sendProblem(res, 404, 'not_found', 'No such route'));
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    deps.logger.error({ err: error }, 'metrics scrape failed');
    if (!res.headersSent) sendProblem(res, 500, 'internal_error', 'Could not render the metrics');
  };
  app.use(onError);
  return app;
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  // Digests of equal length, so the comparison takes the same time whatever was sent.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(match[1]!.trim()), digest(token));
}
