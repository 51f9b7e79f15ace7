import autocannon from 'autocannon';
import type { ScenarioRequest } from '../scenarios/scenario';
import { summarizeLatencies, type LatencySummary } from './stats';

export interface LoadOptions {
  /**
   * The requests: built anew for each one (`next`, for `durationSeconds`), or a prepared list sent
   * once each (`list`; the run lasts as long as they take). All go to one origin.
   */
  requests: { next: () => ScenarioRequest } | { list: ScenarioRequest[] };
  connections: number;
  durationSeconds: number;
  /** The status that counts as answered (201, 303); any other is counted in `unexpected`. */
  expectedStatus: number;
}

export interface LoadResult {
  /** Answers with the expected status per second over the run. */
  rps: number;
  /** Latency of the answers with the expected status, ms. */
  latency: LatencySummary;
  requests: number;
  /** Requests sent, including those still unanswered when the run ended. */
  sent: number;
  /** Answers with another status. */
  unexpected: number;
  /** The statuses seen, e.g. { 303: 1200, 503: 3 }. */
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  durationSeconds: number;
  /** autocannon's own percentiles (all answers), to cross-check ours. */
  autocannon: { p50: number; p99: number; rpsAverage: number };
}

/**
 * One autocannon run at a fixed number of connections (= concurrency; no pipelining). Every request
 * is new: built by `next` (a payment session: new Shopify session id, group, request id) or taken
 * from a prepared list (a pay page: a session made for it).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let ok = 0;
  const source = options.requests;
  const list = 'list' in source ? source.list : undefined;
  if (list && list.length === 0) throw new Error('no prepared requests to send');
  let taken = 0;
  const next = (): ScenarioRequest => (list ? list[Math.min(taken++, list.length - 1)] : (source as { next: () => ScenarioRequest }).next());
  const first = next();
  const origin = new URL(first.url).origin;
  let pending: ScenarioRequest | undefined = first;
  const toAutocannon = (r: ScenarioRequest) => {
    const url = new URL(r.url);
    if (url.origin !== origin) throw new Error(`a run sends to one origin (${origin}), not to ${url.origin}`);
    return { method: r.method, path: `${url.pathname}${url.search}`, headers: r.headers, body: r.body };
  };

  let finish!: (error: Error | null, result: autocannon.Result) => void;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = (error, result) => (error ? reject(error) : resolve(result));
  });
  const started = performance.now();
  let lastAnswer = started;
  const connections = list ? Math.min(options.connections, list.length) : options.connections;
  const instance = autocannon(
    {
      url: origin,
      connections,
      pipelining: 1,
      ...(list ? { amount: list.length } : { duration: options.durationSeconds }),
      timeout: 30,
      // Each request replaces autocannon's template whole: method, path, headers and body.
      requests: [
        {
          setupRequest: (request) => {
            const r = pending ?? next();
            pending = undefined;
            return { ...request, ...toAutocannon(r) };
          },
        },
      ],
    },
    (error, result) => finish(error, result),
  );
  // At run time the event carries the client first: (client, statusCode, bytes, responseTimeMs).
  (instance as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    if (statusCode === options.expectedStatus) {
      ok++;
      latencies.push(responseTime);
      lastAnswer = performance.now();
    }
  });
  const result = await done;
  // autocannon rounds an `amount` run up to its next one-second tick: time a prepared run ourselves.
  const seconds = list ? Math.max(0.001, (lastAnswer - started) / 1000) : result.duration;
  const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    rps: ok / seconds,
    latency: summarizeLatencies(latencies),
    requests: result.requests.total,
    sent: result.requests.sent,
    unexpected: answered - ok,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    durationSeconds: seconds,
    autocannon: { p50: result.latency.p50, p99: result.latency.p99, rpsAverage: result.requests.average },
  };
}
