import type { TLSSocket } from 'node:tls';
import type { NextFunction, Request, Response } from 'express';
import { sendProblem } from './problem';

/**
 * Shopify sends session requests over mutual TLS. With mTLS configured, session routes only answer
 * on the TLS listener and only to a client certificate that chains to the configured CA; the TLS
 * server asks for a certificate but lets the handshake finish, so a refusal is a clear 401.
 */
export function requireClientCertificate(enabled: boolean) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!enabled) return next();
    const socket = req.socket as TLSSocket;
    if (socket.encrypted && socket.authorized) return next();
    const reason = socket.encrypted
      ? `client certificate refused: ${String(socket.authorizationError ?? 'none presented')}`
      : 'session requests are accepted only over mutual TLS';
    sendProblem(res, 401, 'client_certificate_required', reason);
  };
}
