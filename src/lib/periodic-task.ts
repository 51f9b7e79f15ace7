import type { Logger } from './logger';

/**
 * Runs `task` every `intervalMs`, never overlapping itself; `stop()` waits for a run in progress.
 * A task that reports more work waiting (`runAgainAtOnce` on its result) runs again at once.
 */
export class PeriodicTask<T = unknown> {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;
  private running = false;

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
          again = this.runAgainAtOnce(result);
        })
        .catch((error: unknown) => this.logger.error({ err: error, task: this.name }, 'periodic task failed'))
        .finally(() => {
          this.current = undefined;
          this.schedule(again ? 0 : this.intervalMs);
        });
    }, delayMs);
    this.timer.unref?.();
  }
}
