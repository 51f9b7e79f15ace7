import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A load balancer in front of several app instances (the app's public URL in the several-instances
 * test): each request goes to the next instance in turn; one that refuses the connection (killed) is
 * skipped, as a balancer's health check would.
 */
export class RoundRobin {
  private server: http.Server | undefined;
  private next = 0;

  constructor(private readonly targets: () => string[]) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.forward(req, Buffer.concat(chunks), res, this.targets().length));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', resolve);
    });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private forward(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, triesLeft: number): void {
    const targets = this.targets();
    const target = targets[this.next++ % targets.length]!;
    const upstream = http.request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED' && triesLeft > 1 && !res.headersSent) return this.forward(req, body, res, triesLeft - 1);
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    upstream.end(body);
  }
}
