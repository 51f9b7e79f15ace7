import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { MutualTlsConfig } from '../config';

export interface RunningServers {
  /** Plain HTTP: the buyer-facing pages, webhooks, health; session routes too unless mTLS is on. */
  httpUrl: string;
  /** HTTPS with client certificates, for Shopify's session requests (when configured). */
  mtlsUrl: string | undefined;
  close(): Promise<void>;
}

export async function listen(app: Express, options: { port: number; host: string; mtls: MutualTlsConfig | undefined }): Promise<RunningServers> {
  const plain = http.createServer(app);
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
    async close() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}

function displayHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}
