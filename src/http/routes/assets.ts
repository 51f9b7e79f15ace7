import { Router } from 'express';
import { STYLESHEET_PATH, stylesheetText } from '../views/layout';

/** The pages' stylesheet (CSP allows styles from the app's own origin only). */
export function assetRoutes(): Router {
  const router = Router();
  router.get(STYLESHEET_PATH, (_req, res) => {
    res.set({ 'Cache-Control': 'public, max-age=3600', 'X-Content-Type-Options': 'nosniff' });
    res.type('css').send(stylesheetText());
  });
  return router;
}
