import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { AppEndpoint, BacklogCreateInput, BacklogProgress, CreateSessionsInput, FlexRateSummary, PaymentFlowInput, PaymentFlowResult, WebhookRunInput, WebhookRunResult } from '../buyers';
import type { BenchVariant } from './bench-catalog';
import type { HostRequest } from '../sandbox-host';

type Params<M extends HostRequest['method']> = Omit<Extract<HostRequest, { method: M }>, 'id' | 'method'>;

/** The runner's handle on bench/sandbox-host.js (Flex sandbox + Shopify simulator in a child process). */
export class SandboxHost {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: { id?: number; result?: unknown; error?: string }) => {
      if (message.id === undefined) return;
      const waiter = this.waiting.get(message.id);
      if (!waiter) return;
      this.waiting.delete(message.id);
      if (message.error !== undefined) waiter.reject(new Error(`sandbox host: ${message.error}`));
      else waiter.resolve(message.result);
    });
    child.on('exit', (code) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`sandbox host exited (${code})`));
      this.waiting.clear();
    });
  }

  /** `recordLimit`: how many recent Flex requests and deliveries the sandbox keeps (long measurements). */
  static async start(options: { recordLimit?: number } = {}): Promise<SandboxHost> {
    const child = fork(path.join(__dirname, '..', 'sandbox-host.js'), [], {
      // Many sessions accumulate in the sandboxes' memory over a full run.
      execArgv: ['--max-old-space-size=4096'],
      env: options.recordLimit ? { BENCH_FLEX_RECORD_LIMIT: String(options.recordLimit) } : {},
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`sandbox host exited (${code}) while starting`)));
    });
    return new SandboxHost(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  private call<M extends HostRequest['method']>(method: M, params: Params<M>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, method, ...params });
    });
  }

  async urls(): Promise<{ flexUrl: string; shopifyUrl: string }> {
    return (await this.call('urls', {})) as { flexUrl: string; shopifyUrl: string };
  }

  async createAccount(name: string): Promise<{ accountId: string; liveKey: string; testKey: string }> {
    return (await this.call('createAccount', { name })) as { accountId: string; liveKey: string; testKey: string };
  }

  async createShop(domain: string): Promise<{ domain: string; accessToken: string }> {
    return (await this.call('createShop', { domain })) as { domain: string; accessToken: string };
  }

  /** The bench catalog (bench-catalog.ts) in the shop, and its buyers' cart: the shop's variants. */
  async createCatalog(domain: string): Promise<BenchVariant[]> {
    return (await this.call('createCatalog', { domain })) as BenchVariant[];
  }

  /** One payment with the shop's cart up to the pay page (not paid): what Flex's checkout was made of. */
  async probeCart(input: { endpoint: AppEndpoint; shop: string; amount: string }): Promise<{ cart: string; payPageMs: number; amountTotal: number | null }> {
    return (await this.call('probeCart', { input })) as { cart: string; payPageMs: number; amountTotal: number | null };
  }

  async setFlexLatency(latencyMs: number): Promise<void> {
    await this.call('setFlexLatency', { latencyMs });
  }

  /** A token bucket per Flex account and mode (null: none), as sandbox/flex models Flex's rate limit. */
  async setFlexRateLimit(rateLimit: { requestsPerSecond: number; burst?: number } | null): Promise<void> {
    await this.call('setFlexRateLimit', { rateLimit });
  }

  async createSessions(input: CreateSessionsInput): Promise<{ payUrls: string[]; errors: string[] }> {
    return (await this.call('createSessions', { input })) as { payUrls: string[]; errors: string[] };
  }

  async paymentFlowRun(input: PaymentFlowInput): Promise<PaymentFlowResult> {
    return (await this.call('paymentFlowRun', { input })) as PaymentFlowResult;
  }

  async backlogCreate(input: BacklogCreateInput): Promise<{ created: number; firstCheckoutAt: number; lastCheckoutAt: number; errors: string[] }> {
    return (await this.call('backlogCreate', { input })) as { created: number; firstCheckoutAt: number; lastCheckoutAt: number; errors: string[] };
  }

  async backlogPay(): Promise<{ paid: number; errors: string[] }> {
    return (await this.call('backlogPay', {})) as { paid: number; errors: string[] };
  }

  async backlogProgress(): Promise<BacklogProgress> {
    return (await this.call('backlogProgress', {})) as BacklogProgress;
  }

  async flexRate(accountId: string, fromMs: number): Promise<FlexRateSummary> {
    return (await this.call('flexRate', { accountId, fromMs })) as FlexRateSummary;
  }

  async flexCalls(accountId: string): Promise<Record<string, number>> {
    return (await this.call('flexCalls', { accountId })) as Record<string, number>;
  }

  async clearRecords(): Promise<void> {
    await this.call('clearRecords', {});
  }

  async memory(): Promise<{ rss: number; heapUsed: number }> {
    return (await this.call('memory', {})) as { rss: number; heapUsed: number };
  }

  async webhookRun(input: WebhookRunInput): Promise<WebhookRunResult> {
    return (await this.call('webhookRun', { input })) as WebhookRunResult;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    await this.call('stop', {}).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
