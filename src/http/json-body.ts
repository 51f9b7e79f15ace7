import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { parseBoundedJson } from '../lib/json-body';
import { sendProblem } from './problem';

/**
 * The JSON body parser of the routes that take JSON from outside: whatever the Content-Type, at most
 * `limit` bytes (413 beyond), bounded nesting and no NUL characters (400), checked on the raw text
 * before anything is parsed or stored.
 */
export function boundedJson(limit: string): RequestHandler[] {
  return [
    express.raw({ type: () => true, limit }),
    (req: Request, res: Response, next: NextFunction) => {
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      const parsed = parseBoundedJson(raw);
      if (!parsed.ok) {
        sendProblem(res, 400, parsed.problem.code, parsed.problem.message);
        return;
      }
      req.body = parsed.value;
      next();
    },
  ];
}
