import autocannon from 'autocannon';
import type { ScenarioRequest } from '../scenarios/scenario';
import { summarizeLatencies, type LatencySummary } from './stats';

export interface LoadOptions {
  url: string;
  /** Builds each request anew (a request scenario's `nextRequest`). */
  nextRequest: () => ScenarioRequest;
  connections: number;
  durationSeconds: number;
}

export interface LoadResult {
  /** 2xx answers per second over the run. */
  rps: number;
  /** Latency of 2xx answers, ms. */
  latency: LatencySummary;
  requests: number;
  /** Requests sent, including those still unanswered when the run ended. */
  sent: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationSeconds: number;
  /** autocannon's own percentiles (all answers), to cross-check ours. */
  autocannon: { p50: number; p99: number; rpsAverage: number };
}

/**
 * One autocannon run at a fixed number of connections (= concurrency; no pipelining). Every request
 * is built fresh by `nextRequest` (for a payment session: new Shopify session id, group, request id).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let ok = 0;
  let finish!: (error: Error | null, result: autocannon.Result) => void;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = (error, result) => (error ? reject(error) : resolve(result));
  });
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    duration: options.durationSeconds,
    timeout: 30,
    // Each request replaces autocannon's template whole: method, path, headers and body.
    requests: [{ setupRequest: (request) => ({ ...request, ...options.nextRequest() }) }],
  }, (error, result) => finish(error, result));
  // At run time the event carries the client first: (client, statusCode, bytes, responseTimeMs).
  (instance as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (statusCode >= 200 && statusCode < 300) {
      ok++;
      latencies.push(responseTime);
    }
  });
  const result = await done;
  return {
    rps: ok / result.duration,
    latency: summarizeLatencies(latencies),
    requests: result.requests.total,
    sent: result.requests.sent,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationSeconds: result.duration,
    autocannon: { p50: result.latency.p50, p99: result.latency.p99, rpsAverage: result.requests.average },
  };
}
