/**
 * When to try an outbox job again. Exponential backoff with jitter, capped per step, for at least
 * `maxAgeMs` after the job was created; then the job needs a person ("needs attention").
 *
 * The default is modelled on production payments apps (Shopify does not publish its numbers):
 * 5 s, 10 s, 20 s, … capped at 4 h, for 26 h, so Shopify outages of a whole day are ridden out.
 */
export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  maxAgeMs: number;
  /** 0.2 spreads each delay over ±20 %, so jobs that failed together do not retry together. */
  jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 5_000,
  maxDelayMs: 4 * 60 * 60 * 1000,
  maxAgeMs: 26 * 60 * 60 * 1000,
  jitter: 0.2,
};

export type RetryDecision = { retryAt: Date } | { exhausted: true };

/**
 * `attempts` is how many times the job has run, including the one that just failed.
 * A server-given delay (Retry-After) is honoured when it is longer than ours.
 */
export function nextRetry(
  policy: RetryPolicy,
  attempts: number,
  createdAt: Date,
  now: Date,
  serverDelayMs?: number,
  random: () => number = Math.random,
): RetryDecision {
  const deadline = createdAt.getTime() + policy.maxAgeMs;
  if (now.getTime() >= deadline) return { exhausted: true };
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  const jittered = exponential * (1 + policy.jitter * (2 * random() - 1));
  const delay = Math.max(jittered, serverDelayMs ?? 0);
  // The last try lands on the deadline rather than past it.
  return { retryAt: new Date(Math.min(now.getTime() + delay, deadline)) };
}
