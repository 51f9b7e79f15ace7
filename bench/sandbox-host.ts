import { FlexSandbox } from '../sandbox/flex';
import { ShopifySimulator } from '../sandbox/shopify';
import { BENCH_API_VERSION } from './lib/payment-request';

/**
 * The benchmark's other side of the wire, in a process of its own so that neither the load
 * generator nor the app shares an event loop with it: the Flex sandbox and the Shopify simulator,
 * driven by the runner over IPC (`process.send`). See suite.ts.
 */

export interface WebhookRunInput {
  appUrl: string;
  shop: string;
  amount: string;
  /** Sessions started (created at the app, then paid on Flex) per second. */
  rate: number;
  durationMs: number;
  resolveTimeoutMs: number;
}

export interface WebhookRunResult {
  started: number;
  created: number;
  paid: number;
  resolved: number;
  /** Flex starts sending checkout.session.completed → Shopify records paymentSessionResolve (ms). */
  webhookToResolveMs: number[];
  /** How long the app took to answer that webhook (ms). */
  webhookAckMs: number[];
  /** Sessions whose webhook needed more than one attempt. */
  retriedDeliveries: number;
  errors: string[];
}

export type HostRequest =
  | { id: number; method: 'urls' }
  | { id: number; method: 'createAccount'; name: string }
  | { id: number; method: 'createShop'; domain: string }
  | { id: number; method: 'setFlexLatency'; latencyMs: number }
  | { id: number; method: 'webhookRun'; input: WebhookRunInput }
  | { id: number; method: 'flexCalls'; accountId: string }
  | { id: number; method: 'clearRecords' }
  | { id: number; method: 'memory' }
  | { id: number; method: 'stop' };

const flex = new FlexSandbox({ port: 0, host: '127.0.0.1', recordLimit: 20_000 });
const shopify = new ShopifySimulator({ port: 0, host: '127.0.0.1', apiVersion: BENCH_API_VERSION });

async function handle(request: HostRequest): Promise<unknown> {
  switch (request.method) {
    case 'urls':
      return { flexUrl: flex.url, shopifyUrl: shopify.url };
    case 'createAccount':
      return flex.createAccount({ name: request.name });
    case 'createShop':
      return shopify.createShop(request.domain);
    case 'setFlexLatency':
      return flex.faults.set({ latencyMs: request.latencyMs });
    case 'webhookRun':
      return webhookRun(request.input);
    case 'flexCalls': {
      // Flex API calls made with this account's keys since the last clearRecords, by route.
      const byRoute: Record<string, number> = {};
      for (const r of flex.requests) {
        if (r.accountId !== request.accountId) continue;
        const key = `${r.method} ${r.route ?? r.path}`;
        byRoute[key] = (byRoute[key] ?? 0) + 1;
      }
      return byRoute;
    }
    case 'clearRecords':
      flex.clearRecords();
      return {};
    case 'memory':
      return { rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed };
    case 'stop':
      await shopify.stop();
      await flex.stop();
      setImmediate(() => process.exit(0));
      return { stopped: true };
  }
}

/**
 * Starts `rate` checkouts a second for `durationMs`: Shopify sends the payment session to the app,
 * the buyer pays on Flex at once with an HSA/FSA card and never comes back, so only Flex's
 * `checkout.session.completed` webhook can resolve the session. Then waits for every resolve.
 */
async function webhookRun(input: WebhookRunInput): Promise<WebhookRunResult> {
  shopify.configureApp({ url: input.appUrl, paymentsUrl: undefined, apiKey: 'bench-api-key', apiSecret: 'bench-api-secret' });
  flex.clearRecords();
  const firstMutation = shopify.mutations.length;
  const errors: string[] = [];
  const sessions: Array<{ id: string; gid: string; checkoutId?: string }> = [];
  let created = 0;
  let paid = 0;

  const startOne = async () => {
    const sent = await shopify.sendPaymentSession(input.shop, { amount: input.amount });
    const record = { id: sent.session.id, gid: sent.session.gid } as { id: string; gid: string; checkoutId?: string };
    sessions.push(record);
    const redirect = (sent.body as { redirect_url?: string } | null)?.redirect_url;
    if (sent.status !== 201 || !redirect) {
      errors.push(`payment session answered ${sent.status}${sent.error ? ` (${sent.error})` : ''}`);
      return;
    }
    created++;
    record.checkoutId = new URL(redirect).pathname.split('/').pop();
    flex.pay(record.checkoutId!, 'hsa_fsa');
    paid++;
  };

  const total = Math.max(1, Math.round((input.rate * input.durationMs) / 1000));
  const interval = 1000 / input.rate;
  const t0 = performance.now();
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(startOne().catch((error: unknown) => void errors.push((error as Error).message)));
  }
  await Promise.all(inFlight);

  // Wait for Shopify to see every paid session resolved.
  const deadline = Date.now() + input.resolveTimeoutMs;
  const pending = () => sessions.filter((s) => s.checkoutId && shopify.paymentSession(s.gid, input.shop)?.status !== 'resolved');
  while (pending().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const unresolved = pending().length;
  if (unresolved > 0) errors.push(`${unresolved} paid sessions not resolved within ${input.resolveTimeoutMs} ms`);

  // checkout session id → when Flex started sending checkout.session.completed (first attempt).
  const eventCheckout = new Map<string, string>();
  for (const event of flex.events({ type: 'checkout.session.completed' })) {
    const checkout = (event.payload as { object?: { checkout_session?: { checkout_session_id?: string } } }).object?.checkout_session;
    if (checkout?.checkout_session_id) eventCheckout.set(event.eventId, checkout.checkout_session_id);
  }
  const sentAt = new Map<string, { startMs: number; ackMs: number; attempts: number }>();
  for (const delivery of flex.deliveries) {
    if (delivery.eventType !== 'checkout.session.completed' || delivery.attempts.length === 0) continue;
    const checkoutId = eventCheckout.get(delivery.eventId);
    if (!checkoutId || sentAt.has(checkoutId)) continue;
    const first = delivery.attempts[0];
    // `at` is stamped when the attempt ends; it started durationMs earlier.
    sentAt.set(checkoutId, { startMs: Date.parse(first.at) - first.durationMs, ackMs: first.durationMs, attempts: delivery.attempts.length });
  }
  const resolvedAt = new Map<string, number>();
  for (const mutation of shopify.mutations.slice(firstMutation)) {
    if (mutation.name !== 'paymentSessionResolve' || mutation.failed) continue;
    const gid = String(mutation.args?.id ?? '');
    if (gid && !resolvedAt.has(gid)) resolvedAt.set(gid, Date.parse(mutation.at));
  }

  const webhookToResolveMs: number[] = [];
  const webhookAckMs: number[] = [];
  let retriedDeliveries = 0;
  for (const s of sessions) {
    if (!s.checkoutId) continue;
    const sent = sentAt.get(s.checkoutId);
    const resolved = resolvedAt.get(s.gid);
    if (!sent || resolved === undefined) continue;
    webhookToResolveMs.push(resolved - sent.startMs);
    webhookAckMs.push(sent.ackMs);
    if (sent.attempts > 1) retriedDeliveries++;
  }
  return {
    started: total,
    created,
    paid,
    resolved: resolvedAt.size,
    webhookToResolveMs,
    webhookAckMs,
    retriedDeliveries,
    errors: [...new Set(errors)].slice(0, 10),
  };
}

async function main(): Promise<void> {
  await flex.start();
  await shopify.start();
  process.on('message', (message: HostRequest) => {
    handle(message).then(
      (result) => process.send?.({ id: message.id, result }),
      (error: unknown) => process.send?.({ id: message.id, error: (error as Error).stack ?? String(error) }),
    );
  });
  // The runner going away (crash, Ctrl-C) takes the sandboxes with it.
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true });
}

main().catch((error: unknown) => {
  process.stderr.write(`sandbox host failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
