import { Router } from 'express';

/** /healthz: the process lives. /readyz: it can do its work (database answers, worker runs). */
export function healthRoutes(deps: { databaseReady: () => Promise<boolean>; workerHealthy: () => boolean }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const database = await deps.databaseReady();
    const worker = deps.workerHealthy();
    res.status(database && worker ? 200 : 503).json({ status: database && worker ? 'ready' : 'not_ready', checks: { database, worker } });
  });
  return router;
}
