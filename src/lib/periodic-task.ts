import { isDatabaseUnavailable } from './database-unavailable';
import type { Logger } from './logger';

/** The longest a task waits between tries while the database is unreachable. */
const MAX_OUTAGE_BACKOFF_MS = 30_000;

/**
 * Runs `task` every `intervalMs`, never overlapping itself; `stop()` waits for a run in progress.
 * A task that reports more work waiting (`runAgainAtOnce` on its result) runs again at once.
 * While the database is unreachable it says so once, tries again at doubling intervals (up to 32 intervals
 * and at most 30 s, or its own interval when that is longer), and says so again when the database answers.
 */
export class PeriodicTask<T = unknown> {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;
  private running = false;
  private outageFailures = 0;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly task: () => Promise<T>,
    private readonly logger: Logger,
    private readonly runAgainAtOnce: (result: T) => boolean = () => false,
  ) {}

  start(initialDelayMs = this.intervalMs): void {
    if (this.running) return;
    this.running = true;
    this.schedule(initialDelayMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      let again = false;
      this.current = this.task()
        .then((result) => {
          if (this.outageFailures > 0) this.logger.info({ task: this.name }, 'periodic task resumed: the database answers again');
          this.outageFailures = 0;
          again = this.runAgainAtOnce(result);
        })
        .catch((error: unknown) => {
          if (!isDatabaseUnavailable(error)) {
            this.logger.error({ err: error, task: this.name }, 'periodic task failed');
            return;
          }
          if (this.outageFailures === 0) this.logger.warn({ task: this.name, error: (error as Error).message }, 'periodic task paused: the database is unreachable; retrying with backoff');
          this.outageFailures++;
        })
        .finally(() => {
          this.current = undefined;
          this.schedule(again ? 0 : this.nextDelayMs());
        });
    }, delayMs);
    this.timer.unref?.();
  }

  private nextDelayMs(): number {
    if (this.outageFailures === 0) return this.intervalMs;
    const longest = Math.max(this.intervalMs, Math.min(MAX_OUTAGE_BACKOFF_MS, this.intervalMs * 32));
    return Math.min(this.intervalMs * 2 ** this.outageFailures, longest);
  }
}
