import autocannon from 'autocannon';
import { paymentSessionBody, paymentSessionHeaders } from './payment-request';
import { summarizeLatencies, type LatencySummary } from './stats';

export interface LoadOptions {
  url: string;
  shop: string;
  amount: string;
  shopifyUrl: string;
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
 * One autocannon run of POST /payments/sessions at a fixed number of connections (= concurrency;
 * no pipelining). Every request is built fresh: new Shopify session id, group, request id.
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
    requests: [
      {
        method: 'POST',
        path: '/payments/sessions',
        setupRequest: (request) => ({
          ...request,
          method: 'POST',
          path: '/payments/sessions',
          headers: paymentSessionHeaders(options.shop),
          body: JSON.stringify(paymentSessionBody({ shop: options.shop, amount: options.amount, shopifyUrl: options.shopifyUrl })),
        }),
      },
    ],
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
