import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A network link the test controls, between the app and a service: it forwards everything, and can
 * hold back the answer to the next request that matches, as a slow network would (the service did
 * the work; its answer is late).
 */
export class SlowLink {
  target = '';
  private server: http.Server | undefined;
  private readonly delays: Array<{ method: string; path: RegExp; ms: number }> = [];

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Holds back the answer to the next `method` request whose path matches, by `ms`. */
  delayNextAnswer(method: string, path: RegExp, ms: number): void {
    this.delays.push({ method, path, ms });
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const index = this.delays.findIndex((d) => d.method === req.method && d.path.test((req.url ?? '').split('?')[0]!));
      const delay = index >= 0 ? this.delays.splice(index, 1)[0]!.ms : 0;
      const upstream = http.request(new URL(req.url ?? '/', this.target), { method: req.method, headers: req.headers }, (answer) => {
        setTimeout(() => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        }, delay);
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
