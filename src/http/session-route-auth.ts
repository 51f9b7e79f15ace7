import { createHash, timingSafeEqual } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { NextFunction, Request, Response } from 'express';
import { sendProblem } from './problem';
import { listenerOf, type SessionRouteAuth } from './servers';

/** The header a TLS-terminating proxy sets, after verifying Shopify's client certificate. */
export const PROXY_AUTH_HEADER = 'x-payments-proxy-auth';

/**
 * Shopify's session requests can move money (a refund, a void), so they are answered only when they
 * prove they come from Shopify (reference §2: mutual TLS with Shopify's client certificate):
 *
 * - mtls: on the app's own HTTPS listener, with a client certificate that chains to the configured
 *   CA. The TLS server asks for a certificate but lets the handshake finish, so a refusal is a 401.
 * - proxy: on the private listener only (never the public one), with the shared secret the proxy sets
 *   in `X-Payments-Proxy-Auth` once it has verified Shopify's certificate. The proxy must drop that
 *   header from what clients send; the secret is compared in constant time.
 * - none: sandbox mode only (the simulator has no certificate); config refuses it otherwise.
 */
export function requireShopifySessionAuth(auth: SessionRouteAuth) {
  const expected = auth.kind === 'proxy' ? digest(auth.secret) : undefined;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (auth.kind === 'none') return next();
    if (listenerOf(req) !== 'sessions') {
      sendProblem(res, 401, 'client_certificate_required', 'session requests are accepted only on the listener that authenticates Shopify');
      return;
    }
    if (auth.kind === 'mtls') {
      const socket = req.socket as TLSSocket;
      if (socket.encrypted && socket.authorized) return next();
      sendProblem(res, 401, 'client_certificate_required', `client certificate refused: ${String(socket.authorizationError ?? 'none presented')}`);
      return;
    }
    const given = req.get(PROXY_AUTH_HEADER);
    if (given !== undefined && timingSafeEqual(digest(given), expected!)) return next();
    sendProblem(res, 401, 'client_certificate_required', 'the request does not carry the proxy’s proof that Shopify’s client certificate was verified');
  };
}

/** Equal-length digests, so the constant-time compare does not leak the secret's length. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
