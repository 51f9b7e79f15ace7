import type { Logger } from './logger';

/** Runs `task` every `intervalMs`, never overlapping itself; `stop()` waits for a run in progress. */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;
  private running = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly task: () => Promise<unknown>,
    private readonly logger: Logger,
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
      this.current = this.task()
        .catch((error: unknown) => this.logger.error({ err: error, task: this.name }, 'periodic task failed'))
        .finally(() => {
          this.current = undefined;
          this.schedule(this.intervalMs);
        });
    }, delayMs);
    this.timer.unref?.();
  }
}
