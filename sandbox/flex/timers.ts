/**
 * Every timer the sandbox starts (webhook retries, refund settling, injected latency) goes
 * through here, so `stop()` can clear them all and jest exits without open handles.
 */
export class Timers {
  private readonly handles = new Set<NodeJS.Timeout>();
  private stopped = false;

  after(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const handle = setTimeout(() => {
      this.handles.delete(handle);
      fn();
    }, Math.max(0, ms));
    this.handles.add(handle);
  }

  /** Never resolves once the sandbox has stopped; the waiting request dies with its socket. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const handle of this.handles) clearTimeout(handle);
    this.handles.clear();
  }

  resume(): void {
    this.stopped = false;
  }
}
