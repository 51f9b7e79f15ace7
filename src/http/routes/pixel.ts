import cors from 'cors';
import { Router, type Request } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { RecordPixelPost } from '../../cart/record-pixel-post';
import { normalizeShopDomain } from '../../lib/shop-domain';
import { boundedJson } from '../json-body';
import { sendProblem } from '../problem';
import { logFields } from '../request-log';

export interface PixelRouteLimits {
  /** Posts per minute from one client address (default 300: a checkout posts about six). */
  perClientPerMinute?: number;
  /** Posts per minute naming one shop (default 6000). */
  perShopPerMinute?: number;
}

/**
 * POST /pixel/checkout: the cart pixel's posts (cart/record-pixel-post.ts). The pixel runs in
 * Shopify's sandboxed worker, whose origin is not the app's (and may be "null"), and posts
 * `text/plain` without credentials so that browsers send it without a preflight; the answer allows
 * any origin and never credentials. Bounded before anything is parsed: at most 64 KiB (what a
 * keepalive request may carry), rate-limited per client address (behind the proxy that sets
 * X-Forwarded-For, README "Operating it") and per shop named. A post for an unknown shop gets the
 * same 204 as a stored one.
 */
export function pixelRoutes(deps: { recordPixelPost: RecordPixelPost; limits?: PixelRouteLimits }): Router {
  const router = Router();
  const allowAnyOrigin = cors({ origin: '*', methods: ['POST'], credentials: false, maxAge: 86_400 });
  const limited = (limit: number, key: (req: Request) => string, what: string) =>
    rateLimit({
      windowMs: 60_000,
      limit,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      keyGenerator: key,
      // The app sits behind a proxy that sets X-Forwarded-For ('trust proxy' in http/app.ts).
      validate: { trustProxy: false, xForwardedForHeader: false },
      handler: (_req, res) => sendProblem(res, 429, 'rate_limited', `Too many cart posts ${what}; try again in a minute`),
    });

  router.options('/pixel/checkout', allowAnyOrigin);
  router.post(
    '/pixel/checkout',
    allowAnyOrigin,
    limited(deps.limits?.perClientPerMinute ?? 300, (req) => ipKeyGenerator(req.ip ?? 'unknown'), 'from this address'),
    ...boundedJson('64kb'),
    limited(deps.limits?.perShopPerMinute ?? 6_000, (req) => normalizeShopDomain((req.body as { shop?: unknown } | null)?.shop) ?? 'not-a-shop', 'for this shop'),
    async (req, res) => {
      const outcome = await deps.recordPixelPost.execute(req.body);
      logFields(res).outcome = outcome.type;
      if (outcome.type !== 'invalid') logFields(res).shop = outcome.shopDomain;
      if (outcome.type === 'invalid') {
        sendProblem(res, 400, 'invalid_pixel_post', outcome.message);
        return;
      }
      res.status(204).end();
    },
  );
  return router;
}
