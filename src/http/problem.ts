import type { Response } from 'express';

/** Errors are JSON: a stable code a program can branch on, and a message a person can act on. */
export function sendProblem(res: Response, status: number, code: string, message: string, details?: string[]): void {
  res.status(status).json({ error: { code, message, ...(details ? { details } : {}) } });
}
