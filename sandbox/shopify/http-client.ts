// Outgoing HTTP(S) to the app. node:http(s) rather than fetch because session requests must present a
// client certificate, and because stop() has to be able to abort whatever is still in flight.
import http from 'node:http';
import https from 'node:https';

export interface ClientTls {
  cert: string;
  key: string;
  ca?: string;
}

export interface OutgoingRequest {
  url: string;
  method?: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Client certificate to present (HTTPS only). */
  clientTls?: ClientTls;
  /** Trust anchors for the server certificate when no client certificate is sent. */
  ca?: string;
}

export interface OutgoingResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** Parsed JSON when the answer is JSON, otherwise the text. */
  body: unknown;
  error?: string;
}

export class HttpClient {
  private readonly inFlight = new Set<http.ClientRequest>();

  send(request: OutgoingRequest): Promise<OutgoingResponse> {
    const url = new URL(request.url);
    const isHttps = url.protocol === 'https:';
    const options: https.RequestOptions = {
      method: request.method ?? 'POST',
      headers: { ...request.headers, 'Content-Length': String(Buffer.byteLength(request.body)) },
      // A fresh connection per request: nothing stays open after stop(), and every session request
      // goes through a full TLS handshake with the client certificate, as Shopify's do.
      agent: false,
    };
    if (isHttps) {
      if (request.clientTls) {
        options.cert = request.clientTls.cert;
        options.key = request.clientTls.key;
      }
      const ca = request.clientTls?.ca ?? request.ca;
      if (ca) options.ca = ca;
    }
    return new Promise((resolve) => {
      let settled = false;
      const finish = (response: OutgoingResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(req);
        resolve(response);
      };
      const failed = (error: string): OutgoingResponse => ({ status: 0, headers: {}, text: '', body: null, error });
      const req = (isHttps ? https : http).request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err) => finish(failed(err.message)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          finish({ status: res.statusCode ?? 0, headers, text, body: parseBody(text) });
        });
      });
      const timer = setTimeout(() => {
        req.destroy();
        finish(failed(`timed out after ${request.timeoutMs} ms`));
      }, request.timeoutMs);
      this.inFlight.add(req);
      req.on('error', (err) => finish(failed(err.message)));
      req.end(request.body);
    });
  }

  /** Aborts everything in flight; the pending promises settle with an error. */
  abortAll(): void {
    for (const req of this.inFlight) req.destroy(new Error('simulator stopped'));
    this.inFlight.clear();
  }
}

function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
