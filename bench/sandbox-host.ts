import { FlexSandbox } from '../sandbox/flex';
import { ShopifySimulator } from '../sandbox/shopify';
import { BENCH_CART, BENCH_PRODUCTS, BENCH_SHOP_SCOPES, type BenchVariant } from './lib/bench-catalog';
import { buyers, type AppEndpoint, type BacklogCreateInput, type CreateSessionsInput, type PaymentFlowInput, type WebhookRunInput } from './buyers';
import { BENCH_API_VERSION } from './lib/payment-request';

/**
 * The benchmark's other side of the wire, in a process of its own so that neither the load
 * generator nor the app shares an event loop with it: the Flex sandbox and the Shopify simulator,
 * driven by the runner over IPC (`process.send`), and the buyers (buyers.ts). See suite.ts.
 */

export type HostRequest =
  | { id: number; method: 'urls' }
  | { id: number; method: 'createAccount'; name: string }
  | { id: number; method: 'createShop'; domain: string }
  | { id: number; method: 'createCatalog'; domain: string }
  | { id: number; method: 'probeCart'; input: { endpoint: AppEndpoint; shop: string; amount: string } }
  | { id: number; method: 'setFlexLatency'; latencyMs: number }
  | { id: number; method: 'setFlexRateLimit'; rateLimit: { requestsPerSecond: number; burst?: number } | null }
  | { id: number; method: 'createSessions'; input: CreateSessionsInput }
  | { id: number; method: 'webhookRun'; input: WebhookRunInput }
  | { id: number; method: 'paymentFlowRun'; input: PaymentFlowInput }
  | { id: number; method: 'backlogCreate'; input: BacklogCreateInput }
  | { id: number; method: 'backlogPay' }
  | { id: number; method: 'backlogProgress' }
  | { id: number; method: 'flexRate'; accountId: string; fromMs: number }
  | { id: number; method: 'flexCalls'; accountId: string }
  | { id: number; method: 'clearRecords' }
  | { id: number; method: 'memory' }
  | { id: number; method: 'stop' };

const flex = new FlexSandbox({ port: 0, host: '127.0.0.1', recordLimit: Number(process.env.BENCH_FLEX_RECORD_LIMIT ?? 20_000) });
const shopify = new ShopifySimulator({ port: 0, host: '127.0.0.1', apiVersion: BENCH_API_VERSION });
const play = buyers({ flex, shopify });

/** The bench catalog in a shop of the simulator (no products/* webhook: nobody is subscribed), and its cart for the buyers. */
function createCatalog(domain: string): BenchVariant[] {
  const variants = BENCH_PRODUCTS.map((p) => {
    const variant = shopify.createProduct(domain, { title: p.title, variants: [{ price: p.price, barcode: p.barcode }] }).product.variants[0]!;
    return { variantId: String(variant.id).split('/').pop()!, title: p.title, unitAmountMinor: Math.round(Number(p.price) * 100) };
  });
  play.setCart(domain, BENCH_CART.map((line) => ({ variantId: variants[line.product]!.variantId, quantity: line.quantity })));
  return variants;
}

async function handle(request: HostRequest): Promise<unknown> {
  switch (request.method) {
    case 'urls':
      return { flexUrl: flex.url, shopifyUrl: shopify.url };
    case 'createAccount':
      return flex.createAccount({ name: request.name });
    case 'createShop':
      return shopify.createShop(request.domain, { scopes: BENCH_SHOP_SCOPES });
    case 'createCatalog':
      return createCatalog(request.domain);
    case 'probeCart':
      return play.probeCart(request.input);
    case 'setFlexLatency':
      return flex.faults.set({ latencyMs: request.latencyMs });
    case 'setFlexRateLimit':
      return flex.faults.set({ rateLimit: request.rateLimit });
    case 'createSessions':
      return play.createSessions(request.input);
    case 'webhookRun':
      return play.webhookRun(request.input);
    case 'paymentFlowRun':
      return play.paymentFlowRun(request.input);
    case 'backlogCreate':
      return play.backlogCreate(request.input);
    case 'backlogPay':
      return play.backlogPay();
    case 'backlogProgress':
      return play.backlogProgress();
    case 'flexRate':
      return play.flexRate(request.accountId, request.fromMs);
    case 'flexCalls':
      return play.flexCallsOf(request.accountId);
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
