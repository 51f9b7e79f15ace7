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

export interface RunningServers {
  /** Plain HTTP: the buyer-facing pages, webhooks, health; session routes too unless mTLS is on. */
  httpUrl: string;
  /** HTTPS with client certificates, for Shopify's session requests (when configured). */
  mtlsUrl: string | undefined;
  close(): Promise<void>;
}

/** How long a shutdown waits for requests in flight before cutting their connections. */
const DRAIN_TIMEOUT_MS = 10_000;

export async function listen(app: Express, options: { port: number; host: string; mtls: MutualTlsConfig | undefined }): Promise<RunningServers> {
  let inFlight = 0;
  const drained: Array<() => void> = [];
  const track = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) drained.splice(0).forEach((resolve) => resolve());
    });
  };
  const plain = http.createServer(app);
  plain.on('request', track);
  // Shopify and Flex keep connections open; a longer keep-alive than a proxy's avoids resets.
  plain.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    plain.once('error', reject);
    plain.listen(options.port, options.host, () => resolve());
  });
  const servers: Array<http.Server | https.Server> = [plain];
  let mtlsUrl: string | undefined;
  if (options.mtls) {
    const secure = https.createServer(
      { key: options.mtls.key, cert: options.mtls.cert, ca: options.mtls.ca, requestCert: true, rejectUnauthorized: false },
      app,
    );
    secure.keepAliveTimeout = 65_000;
    secure.on('request', track);
    await new Promise<void>((resolve, reject) => {
      secure.once('error', reject);
      secure.listen(options.mtls!.port, options.host, () => resolve());
    });
    servers.push(secure);
    mtlsUrl = `https://${displayHost(options.host)}:${(secure.address() as AddressInfo).port}`;
  }
  return {
    httpUrl: `http://${displayHost(options.host)}:${(plain.address() as AddressInfo).port}`,
    mtlsUrl,
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
