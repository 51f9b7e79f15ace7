import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROXY_AUTH_HEADER } from '../../src/http/session-route-auth';

/**
 * Stands in for the TLS-terminating proxy of the app's proxy mode: in production it verifies
 * Shopify's client certificate, then forwards to the app's private session listener with the shared
 * secret in X-Payments-Proxy-Auth, dropping any such header a client sent. Here it forwards what the
 * Shopify simulator sends (the simulator is Shopify, so it "verified" the certificate).
 */
export class SessionProxy {
  private server: http.Server | undefined;

  constructor(
    private readonly target: () => string,
    private readonly secret: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const headers = { ...req.headers };
      delete headers[PROXY_AUTH_HEADER];
      headers[PROXY_AUTH_HEADER] = this.secret;
      const upstream = http.request(new URL(req.url ?? '/', this.target()), { method: req.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
