import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/** The listener for Shopify's session requests, over mutual TLS. */
export interface MutualTlsConfig {
  /** PEM text of the CA that signs Shopify's client certificates. */
  ca: string;
  cert: string;
  key: string;
  port: number;
}

/** How Shopify's session requests are authenticated (README "Authenticating Shopify's session requests"). */
export type SessionRouteAuth =
  | ({ kind: 'mtls' } & MutualTlsConfig)
  | { kind: 'proxy'; secret: string; host: string; port: number }
  | { kind: 'none' };

/** Which listener a request came in on; the session routes answer on theirs only. */
export type Listener = 'public' | 'sessions' | 'metrics';
const LISTENER = Symbol('listener');

export function listenerOf(req: http.IncomingMessage): Listener | undefined {
  return (req as http.IncomingMessage & { [LISTENER]?: Listener })[LISTENER];
}

export interface RunningServers {
  /** Plain HTTP: the buyer-facing pages, webhooks, health; session routes too in sandbox mode. */
  httpUrl: string;
  /** Where Shopify's session requests are served: the mTLS or the proxy listener (undefined in sandbox mode). */
  sessionsUrl: string | undefined;
  /** Where `GET /metrics` is served (its own listener; undefined when none was asked for). */
  metricsUrl: string | undefined;
  close(): Promise<void>;
}

/** How long a shutdown waits for requests in flight before cutting their connections. */
const DRAIN_TIMEOUT_MS = 10_000;

export interface ListenOptions {
  port: number;
  host: string;
  sessionAuth: SessionRouteAuth;
  /** The metrics listener: its own app, on its own (private) address. */
  metrics?: { app: Express; port: number; host: string };
}

export async function listen(app: Express, options: ListenOptions): Promise<RunningServers> {
  let inFlight = 0;
  const drained: Array<() => void> = [];
  const handler = (listener: Listener, serve: Express = app) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    (req as http.IncomingMessage & { [LISTENER]?: Listener })[LISTENER] = listener;
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) drained.splice(0).forEach((resolve) => resolve());
    });
    serve(req, res);
  };
  const servers: Array<http.Server | https.Server> = [];
  const start = async (server: http.Server | https.Server, port: number, host: string) => {
    // Shopify and Flex keep connections open; a longer keep-alive than a proxy's avoids resets.
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    servers.push(server);
    return (server.address() as AddressInfo).port;
  };

  const publicPort = await start(http.createServer(handler('public')), options.port, options.host);
  let sessionsUrl: string | undefined;
  let metricsUrl: string | undefined;
  const auth = options.sessionAuth;
  try {
    if (options.metrics) {
      const { host, port } = options.metrics;
      metricsUrl = `http://${hostInUrl(displayHost(host))}:${await start(http.createServer(handler('metrics', options.metrics.app)), port, host)}`;
    }
    if (auth.kind === 'mtls') {
      const secure = https.createServer({ key: auth.key, cert: auth.cert, ca: auth.ca, requestCert: true, rejectUnauthorized: false }, handler('sessions'));
      sessionsUrl = `https://${displayHost(options.host)}:${await start(secure, auth.port, options.host)}`;
    } else if (auth.kind === 'proxy') {
      sessionsUrl = `http://${hostInUrl(auth.host)}:${await start(http.createServer(handler('sessions')), auth.port, auth.host)}`;
    }
  } catch (error) {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    throw error;
  }
  return {
    httpUrl: `http://${displayHost(options.host)}:${publicPort}`,
    sessionsUrl,
    metricsUrl,
    /**
     * Graceful: stop accepting connections, let requests in flight finish (they may still need the
     * database, which closes after this), then cut whatever is left.
     */
    async close() {
      const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      servers.forEach((server) => server.closeIdleConnections());
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => drained.push(resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, DRAIN_TIMEOUT_MS).unref()),
        ]);
      }
      servers.forEach((server) => server.closeAllConnections());
      await Promise.all(closed);
    },
  };
}

function displayHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}

function hostInUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
