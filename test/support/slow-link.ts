import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A network link the test controls, between the app and a service: it forwards everything, and can
 * hold back the answer to the next request that matches until the test lets it go, as a slow network
 * would (the service did the work; its answer is late).
 */
export class SlowLink {
  target = '';
  private server: http.Server | undefined;
  private readonly holds: Array<{ method: string; path: RegExp; released: Promise<void> }> = [];

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Holds back the answer to the next `method` request whose path matches until the test calls the function returned. */
  holdNextAnswer(method: string, path: RegExp): () => void {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.push({ method, path, released });
    return release;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const index = this.holds.findIndex((d) => d.method === req.method && d.path.test((req.url ?? '').split('?')[0]!));
      const released = index >= 0 ? this.holds.splice(index, 1)[0]!.released : undefined;
      const upstream = http.request(new URL(req.url ?? '/', this.target), { method: req.method, headers: req.headers }, (answer) => {
        const forward = () => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        };
        if (released) void released.then(forward);
        else forward();
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
