import { DEFAULT_RETRY_POLICY, nextRetry } from '../../src/outbox/retry-policy';

const HOUR = 60 * 60 * 1000;

describe('outbox retry policy', () => {
  it('backs off exponentially from 5 s and caps each wait at 4 h', () => {
    const created = new Date('2026-01-01T00:00:00Z');
    const delays = [1, 2, 3, 4, 13, 20].map((attempts) => {
      const decision = nextRetry(DEFAULT_RETRY_POLICY, attempts, created, created, undefined, () => 0.5);
      return 'retryAt' in decision ? decision.retryAt.getTime() - created.getTime() : -1;
    });
    expect(delays).toEqual([5_000, 10_000, 20_000, 40_000, 4 * HOUR, 4 * HOUR]);
  });

  it('keeps retrying for at least 24 hours, then gives up', () => {
    const created = new Date('2026-01-01T00:00:00Z');
    let now = created;
    let attempts = 0;
    const tries: Date[] = [];
    for (;;) {
      attempts++;
      const decision = nextRetry(DEFAULT_RETRY_POLICY, attempts, created, now);
      if ('exhausted' in decision) break;
      tries.push(decision.retryAt);
      now = decision.retryAt;
    }
    const lastTry = tries[tries.length - 1]!.getTime() - created.getTime();
    expect(lastTry).toBeGreaterThanOrEqual(24 * HOUR);
    expect(attempts).toBeLessThan(40);
  });

  it('honours a longer Retry-After from the server', () => {
    const now = new Date();
    const decision = nextRetry(DEFAULT_RETRY_POLICY, 1, now, now, 60_000, () => 0.5);
    expect('retryAt' in decision && decision.retryAt.getTime() - now.getTime()).toBe(60_000);
  });

  it('spreads retries with jitter', () => {
    const now = new Date();
    const low = nextRetry(DEFAULT_RETRY_POLICY, 1, now, now, undefined, () => 0);
    const high = nextRetry(DEFAULT_RETRY_POLICY, 1, now, now, undefined, () => 1);
    expect('retryAt' in low && low.retryAt.getTime() - now.getTime()).toBe(4_000);
    expect('retryAt' in high && high.retryAt.getTime() - now.getTime()).toBe(6_000);
  });
});
