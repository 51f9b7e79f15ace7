/**
 * The sandbox's notion of "now": real time plus whatever tests have skipped ahead with
 * `advanceClock`. Everything with a lifetime (checkout sessions, authorizations, idempotency keys)
 * reads this clock, so a test can make a day pass in a millisecond.
 */
export class Clock {
  private offsetMs = 0;

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  /** Epoch seconds, the unit of `created_at`/`expires_at` on checkout sessions. */
  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  iso(ms: number = this.nowMs()): string {
    return new Date(ms).toISOString();
  }

  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`advanceClock needs a non-negative number of seconds, got ${seconds}`);
    }
    this.offsetMs += seconds * 1000;
  }
}
