import type { FlexSandbox } from '../sandbox/flex';
import type { ShopifySimulator } from '../sandbox/shopify';
import { BENCH_API_SECRET, PROXY_AUTH_HEADER } from './lib/payment-request';

/**
 * The buyers, and what the benchmark reads back from the sandboxes about them; run inside the sandbox
 * host (sandbox-host.ts), since a buyer needs both sandboxes at once: Shopify sends the payment
 * session (to the server's private session listener, with the header the TLS-terminating proxy adds),
 * the buyer opens the server's pay page `/pay/{id}` (303 to Flex), pays on Flex, and Flex's webhook
 * tells the server.
 */

/** Where one server under load is reached. */
export interface AppEndpoint {
  /** The public URL (APP_URL): pay pages, webhooks. */
  appUrl: string;
  /** Where Shopify's session requests go: the app's private proxy listener (the floor's one URL). */
  sessionsUrl: string;
  /** X-Payments-Proxy-Auth, as the proxy sets it once it has verified Shopify's client certificate. */
  proxySecret?: string;
}

/**
 * Where the sessions come from.
 * - `cart` (what every measurement uses): the buyer's checkout on the Shopify simulator with the
 *   shop's bench cart (`setCart`, bench/lib/bench-catalog.ts), captured the way Shopify does it before
 *   the session request arrives: the `checkouts/create` webhook (HMAC-signed, delivered and answered
 *   first), then the session request, whose `cancel_url` carries that checkout's token
 *   (`shopify.runCheckout` with those two steps). The pay page finds the snapshot at once.
 * - `bare`: a bare session request (no checkout behind it): the app finds no snapshot for the token in
 *   its `cancel_url`, waits `tuning.cartWaitMs` (3 s) for one and falls back to the catch-all line.
 */
export type SessionSource = { kind: 'bare' } | { kind: 'cart' };

/** One line of the bench cart: a variant of the shop's catalog in the simulator. */
export interface BenchCartLine {
  variantId: string;
  quantity: number;
}

export interface WebhookRunInput {
  endpoint: AppEndpoint;
  shop: string;
  amount: string;
  /** Sessions started (created at the app, pay page opened, then paid on Flex) per second. */
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
  /** The run's Flex checkouts by what they were made of (`metadata.cart`). */
  checkoutsByCart: Record<string, number>;
  errors: string[];
}

export interface CreateSessionsInput {
  endpoint: AppEndpoint;
  shop: string;
  amount: string;
  count: number;
  concurrency: number;
  source: SessionSource;
}

export interface PaymentFlowInput {
  endpoint: AppEndpoint;
  shop: string;
  amount: string;
  /** Flex account of the server under load: its calls are counted. */
  accountId: string;
  /** Buyers at once, each paying one payment after the other (a closed loop). */
  buyers: number;
  /** No buyer starts a new payment after this long; the payments under way finish. */
  durationMs: number;
  resolveTimeoutMs: number;
}

export interface PaymentFlowResult {
  /** Payments started, and those Shopify saw resolved. */
  started: number;
  completed: number;
  /** From the first session request to the last resolve (ms). */
  elapsedMs: number;
  /** Per completed payment, ms: the whole payment, the session request's answer, the pay page's answer, paid on Flex → resolved at Shopify. */
  paymentMs: number[];
  sessionMs: number[];
  payPageMs: number[];
  paidToResolvedMs: number[];
  /** Calls the server made during the run, by route: Flex API (its account) and Shopify (its shop). */
  flexCalls: Record<string, number>;
  shopifyCalls: Record<string, number>;
  /** Flex webhook deliveries to the server, and those that needed another attempt. */
  webhookDeliveries: number;
  /** The run's Flex checkouts by what they were made of (`metadata.cart`): `cart` when the buyer's cart was joined. */
  checkoutsByCart: Record<string, number>;
  retriedDeliveries: number;
  errors: string[];
}

export interface BacklogCreateInput {
  endpoint: AppEndpoint;
  shop: string;
  amount: string;
  count: number;
  concurrency: number;
  /** Stop making sessions after this long (the first ones would come due while the app is up). */
  deadlineMs: number;
}

export interface BacklogProgress {
  total: number;
  resolved: number;
  rejected: number;
  /** paymentSessionResolve calls for the backlog's sessions beyond the first of each (should be 0). */
  extraResolves: number;
  /** Epoch ms of the first and last resolve recorded by the simulator. */
  firstResolveAt: number | null;
  lastResolveAt: number | null;
  /** The newest resolve so far (epoch ms), all resolved or not. */
  latestResolveAt: number | null;
  /** Epoch ms at which 50 %, 90 % and all of the backlog was resolved (null until then). */
  halfAt: number | null;
  ninetyAt: number | null;
}

export interface FlexRateSummary {
  /** Every /v1 call of the account since `fromMs`, and those refused with 429. */
  calls: number;
  refused: number;
  byRoute: Record<string, number>;
  /** Most calls in any one-second window (all / accepted only), and in which second after `fromMs` it began. */
  peakPerSecond: number;
  peakAcceptedPerSecond: number;
  peakAtSecond: number | null;
  /** Calls per second, whole seconds after `fromMs` (accepted, refused). */
  perSecond: Array<[number, number]>;
}

export type Buyers = ReturnType<typeof buyers>;

export function buyers({ flex, shopify }: { flex: FlexSandbox; shopify: ShopifySimulator }) {
  // ---- Shopify's side of a payment's end ----

  /**
   * Waits for the server's answer to Shopify about a payment session (resolve or reject), as the
   * simulator records the mutations. It reads each new mutation once, and looks sessions up by gid in
   * a map: the simulator's own `waitForPaymentSession` scans every session it holds on every change,
   * which slows down as a long run piles up tens of thousands of them.
   */
  class OutcomeWatcher {
    private scanned = shopify.mutations.length;
    private readonly waiting = new Map<string, { settle(outcome: 'resolved' | 'rejected' | Error): void }>();
    private timer: NodeJS.Timeout | undefined;

    wait(gid: string, timeoutMs: number): Promise<'resolved' | 'rejected'> {
      this.scan();
      return new Promise((resolve, reject) => {
        const timeout = setTimeout(() => entry.settle(new Error(`no answer to Shopify for ${gid} within ${timeoutMs} ms`)), timeoutMs);
        const entry = {
          settle: (outcome: 'resolved' | 'rejected' | Error) => {
            clearTimeout(timeout);
            this.waiting.delete(gid);
            if (this.waiting.size === 0 && this.timer) {
              clearInterval(this.timer);
              this.timer = undefined;
            }
            if (outcome instanceof Error) reject(outcome);
            else resolve(outcome);
          },
        };
        this.waiting.set(gid, entry);
        this.timer ??= setInterval(() => this.scan(), 2);
      });
    }

    private scan(): void {
      const all = shopify.mutations;
      for (; this.scanned < all.length; this.scanned++) {
        const m = all[this.scanned];
        if (m.failed || (m.name !== 'paymentSessionResolve' && m.name !== 'paymentSessionReject')) continue;
        this.waiting.get(String(m.args?.id ?? ''))?.settle(m.name === 'paymentSessionResolve' ? 'resolved' : 'rejected');
      }
    }
  }

  const outcomes = new OutcomeWatcher();

  // ---- the buyer's steps ----

  /** Each shop's bench cart (its own variant ids), set once its catalog is made. */
  const carts = new Map<string, BenchCartLine[]>();
  function setCart(shop: string, lines: BenchCartLine[]): void {
    carts.set(shop, lines);
  }

  /** Session requests with the shop's cart when it has one (every shop of the benchmark does), else bare. */
  const sourceFor = (shop: string): SessionSource => (carts.has(shop) ? { kind: 'cart' } : { kind: 'bare' });

  /**
   * The simulator sends session requests, and the checkouts/create webhooks (the only topic the
   * benchmark subscribes: the cart; no orders/* or products/* webhooks), to this server from now on.
   */
  function useServer(endpoint: AppEndpoint): void {
    shopify.configureApp({
      url: endpoint.appUrl,
      paymentsUrl: endpoint.sessionsUrl,
      apiKey: 'bench-api-key',
      apiSecret: BENCH_API_SECRET,
      webhookTopics: ['checkouts/create'],
    });
  }

  /** Shopify sends a payment session; the answer must be 201 with the pay page's URL. */
  async function sendSession(endpoint: AppEndpoint, shop: string, amount: string, source: SessionSource): Promise<{ id: string; gid: string; payUrl: string }> {
    const headers = endpoint.proxySecret ? { [PROXY_AUTH_HEADER]: endpoint.proxySecret } : undefined;
    let sent;
    if (source.kind === 'cart') {
      const lines = carts.get(shop);
      if (!lines) throw new Error(`no bench cart for ${shop} (setCart first)`);
      // As Shopify: checkouts/create delivered (and answered) before the session request; the
      // session's amount is the checkout's total and its cancel_url carries the checkout's token.
      const run = await shopify.runCheckout(shop, {
        lines,
        steps: [{ webhook: 'checkouts/create' }, { paymentSession: true }],
        session: { headers, timeoutMs: 60_000 },
      });
      const delivery = run.webhooks[0]?.deliveries[0];
      if (!delivery || delivery.status !== 200) throw new Error(`checkouts/create ${run.webhooks[0]?.outcome ?? 'not sent'}${delivery ? `, answered ${delivery.status}${delivery.error ? ` (${delivery.error})` : ''}` : ''}`);
      if (!run.session) throw new Error('runCheckout sent no session request');
      sent = run.session;
    } else {
      sent = await shopify.sendPaymentSession(shop, { amount, headers, timeoutMs: 60_000 });
    }
    const redirect = (sent.body as { redirect_url?: string } | null)?.redirect_url;
    if (sent.status !== 201 || !redirect) throw new Error(`payment session answered ${sent.status}${sent.error ? ` (${sent.error})` : ''}: ${JSON.stringify(sent.body).slice(0, 200)}`);
    return { id: sent.session.id, gid: sent.session.gid, payUrl: redirect };
  }

  /** The buyer opens the pay page: 303 to Flex's hosted checkout; returns the Flex checkout session id. */
  async function openPayPage(payUrl: string): Promise<string> {
    const response = await fetch(payUrl, { redirect: 'manual', signal: AbortSignal.timeout(60_000) });
    await response.arrayBuffer();
    const location = response.headers.get('location');
    if (response.status !== 303 || !location) throw new Error(`pay page answered ${response.status}${location ? '' : ' without a Location'}`);
    // Flex's hosted page is {publicUrl}/pay/c/{checkout session id}.
    const checkoutId = new URL(location).pathname.split('/').pop();
    if (!checkoutId?.startsWith('fcs_')) throw new Error(`pay page sent the buyer to ${location}, not to a Flex checkout`);
    return checkoutId;
  }

  /** Runs `work(i)` for i in [0, count) with `concurrency` at once; stops starting new ones once `until()` is false. */
  async function pool(count: number, concurrency: number, work: (i: number) => Promise<void>, until: () => boolean = () => true): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < count && until()) await work(next++);
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, lane));
  }

  const errorText = (error: unknown) => (error as Error).message ?? String(error);

  /** Sessions for the pay page scenario, made before a run and not measured: their pay page URLs. */
  async function createSessions(input: CreateSessionsInput): Promise<{ payUrls: string[]; errors: string[] }> {
    useServer(input.endpoint);
    const payUrls: string[] = [];
    const errors: string[] = [];
    await pool(input.count, input.concurrency, async () => {
      try {
        payUrls.push((await sendSession(input.endpoint, input.shop, input.amount, input.source)).payUrl);
      } catch (error) {
        errors.push(errorText(error));
      }
    });
    return { payUrls, errors: [...new Set(errors)].slice(0, 10) };
  }

  /**
   * Starts `rate` checkouts a second for `durationMs`: Shopify sends the payment session to the app,
   * the buyer opens the pay page, pays on Flex at once with an HSA/FSA card and never comes back, so
   * only Flex's `checkout.session.completed` webhook can resolve the session. Then waits for every
   * resolve.
   */
  async function webhookRun(input: WebhookRunInput): Promise<WebhookRunResult> {
    useServer(input.endpoint);
    flex.clearRecords();
    const firstMutation = shopify.mutations.length;
    const errors: string[] = [];
    const sessions: Array<{ id: string; gid: string; checkoutId?: string }> = [];
    let created = 0;
    let paid = 0;

    const startOne = async () => {
      const session = await sendSession(input.endpoint, input.shop, input.amount, sourceFor(input.shop));
      const record: { id: string; gid: string; checkoutId?: string } = { id: session.id, gid: session.gid };
      sessions.push(record);
      created++;
      record.checkoutId = await openPayPage(session.payUrl);
      flex.pay(record.checkoutId, 'hsa_fsa');
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
      inFlight.push(startOne().catch((error: unknown) => void errors.push(errorText(error))));
    }
    await Promise.all(inFlight);

    // Wait for Shopify to see every paid session resolved.
    const deadline = Date.now() + input.resolveTimeoutMs;
    const pending = () => {
      const resolved = resolveTimes(input.shop, firstMutation);
      return sessions.filter((s) => s.checkoutId && !resolved.has(s.gid)).length;
    };
    while (pending() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const unresolved = pending();
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
    const resolvedAt = resolveTimes(input.shop, firstMutation);

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
      checkoutsByCart: checkoutsByCart(sessions.flatMap((s) => (s.checkoutId ? [s.checkoutId] : []))),
      errors: [...new Set(errors)].slice(0, 10),
    };
  }

  /** gid → when the simulator first recorded a successful paymentSessionResolve for it (epoch ms). */
  function resolveTimes(shop: string, fromMutation: number): Map<string, number> {
    const resolvedAt = new Map<string, number>();
    for (const mutation of shopify.mutations.slice(fromMutation)) {
      if (mutation.name !== 'paymentSessionResolve' || mutation.failed || (mutation.shop !== null && mutation.shop !== shop)) continue;
      const gid = String(mutation.args?.id ?? '');
      if (gid && !resolvedAt.has(gid)) resolvedAt.set(gid, Date.parse(mutation.at));
    }
    return resolvedAt;
  }

  /**
   * The complete payment, over and over: `buyers` buyers at once, each one payment after the other.
   * A payment is Shopify's session request, the buyer's pay page (the Flex checkout is made there), the
   * buyer paying on Flex with an HSA/FSA card, and Flex's webhook, after which the server resolves the
   * session at Shopify; the buyer never comes back to the success URL. It is complete when the
   * simulator records the resolve. Also counts the server's Flex and Shopify calls.
   */
  async function paymentFlowRun(input: PaymentFlowInput): Promise<PaymentFlowResult> {
    useServer(input.endpoint);
    flex.clearRecords();
    const firstMutation = shopify.mutations.length;
    const result: PaymentFlowResult = {
      started: 0,
      completed: 0,
      elapsedMs: 0,
      paymentMs: [],
      sessionMs: [],
      payPageMs: [],
      paidToResolvedMs: [],
      flexCalls: {},
      shopifyCalls: {},
      webhookDeliveries: 0,
      checkoutsByCart: {},
      retriedDeliveries: 0,
      errors: [],
    };
    const checkoutIds: string[] = [];
    const t0 = performance.now();
    const stopAt = t0 + input.durationMs;
    let lastDone = t0;
    const buyer = async () => {
      while (performance.now() < stopAt) {
        result.started++;
        const start = performance.now();
        try {
          const session = await sendSession(input.endpoint, input.shop, input.amount, sourceFor(input.shop));
          const answered = performance.now();
          const checkoutId = await openPayPage(session.payUrl);
          const redirected = performance.now();
          checkoutIds.push(checkoutId);
          const outcome = outcomes.wait(session.gid, input.resolveTimeoutMs);
          flex.pay(checkoutId, 'hsa_fsa');
          if ((await outcome) !== 'resolved') throw new Error('the server rejected the payment session');
          const done = performance.now();
          result.completed++;
          result.paymentMs.push(done - start);
          result.sessionMs.push(answered - start);
          result.payPageMs.push(redirected - answered);
          result.paidToResolvedMs.push(done - redirected);
          lastDone = Math.max(lastDone, done);
        } catch (error) {
          result.errors.push(errorText(error));
          // A server that fails fast must not turn the buyer into a busy loop.
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    await Promise.all(Array.from({ length: input.buyers }, buyer));
    result.elapsedMs = lastDone - t0;
    result.flexCalls = flexCallsOf(input.accountId);
    for (const m of shopify.mutations.slice(firstMutation)) {
      if (m.shop !== input.shop) continue;
      const key = m.name ?? '(unparsed)';
      result.shopifyCalls[key] = (result.shopifyCalls[key] ?? 0) + 1;
    }
    for (const d of flex.deliveries) {
      if (!d.url.startsWith(input.endpoint.appUrl)) continue;
      result.webhookDeliveries++;
      if (d.attempts.length > 1) result.retriedDeliveries++;
    }
    result.checkoutsByCart = checkoutsByCart(checkoutIds);
    result.errors = [...new Set(result.errors)].slice(0, 10);
    return result;
  }

  /**
   * What these Flex checkout sessions were made of (`metadata.cart`: `cart`, the buyer's lines;
   * `catch_all`, the one catch-all line; `none`, no such metadata): what the pay pages really sent Flex.
   */
  function checkoutsByCart(checkoutIds: string[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const id of checkoutIds) {
      const key = (flex.checkoutSession(id) as { metadata?: Record<string, string> }).metadata?.cart ?? 'none';
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  /**
   * One payment with the shop's cart up to the pay page (not paid): what Flex's checkout was made of
   * (`cart` once the server's catalog is synced and the join works), and how long the pay page took.
   */
  async function probeCart(input: { endpoint: AppEndpoint; shop: string; amount: string }): Promise<{ cart: string; payPageMs: number; amountTotal: number | null }> {
    useServer(input.endpoint);
    const session = await sendSession(input.endpoint, input.shop, input.amount, sourceFor(input.shop));
    const start = performance.now();
    const checkoutId = await openPayPage(session.payUrl);
    const payPageMs = performance.now() - start;
    const checkout = flex.checkoutSession(checkoutId) as { metadata?: Record<string, string>; amount_total?: number };
    return { cart: checkout.metadata?.cart ?? 'none', payPageMs, amountTotal: checkout.amount_total ?? null };
  }

  /** Flex API calls made with this account's keys since the last clearRecords, by route. */
  function flexCallsOf(accountId: string): Record<string, number> {
    const byRoute: Record<string, number> = {};
    for (const r of flex.requests) {
      if (r.accountId !== accountId) continue;
      const key = `${r.method} ${r.route ?? r.path}${r.rateLimited ? ' (429)' : ''}`;
      byRoute[key] = (byRoute[key] ?? 0) + 1;
    }
    return byRoute;
  }

  // ---- the reconciler's backlog (opt-in: --only reconcile-backlog) ----

  const backlog: { shop: string; gids: string[]; checkoutIds: string[]; firstMutation: number } = { shop: '', gids: [], checkoutIds: [], firstMutation: 0 };

  /**
   * Before the outage: `count` payment sessions received by the app and their pay pages opened (the
   * Flex checkouts made), as fast as the app takes them. The buyers pay later, while the app is down.
   */
  async function backlogCreate(input: BacklogCreateInput): Promise<{ created: number; firstCheckoutAt: number; lastCheckoutAt: number; errors: string[] }> {
    useServer(input.endpoint);
    backlog.shop = input.shop;
    backlog.gids = [];
    backlog.checkoutIds = [];
    backlog.firstMutation = shopify.mutations.length;
    const errors: string[] = [];
    const deadline = Date.now() + input.deadlineMs;
    let firstCheckoutAt = 0;
    let lastCheckoutAt = 0;
    await pool(
      input.count,
      input.concurrency,
      async () => {
        try {
          const session = await sendSession(input.endpoint, input.shop, input.amount, sourceFor(input.shop));
          const before = Date.now();
          const checkoutId = await openPayPage(session.payUrl);
          if (!firstCheckoutAt) firstCheckoutAt = before;
          lastCheckoutAt = Date.now();
          backlog.gids.push(session.gid);
          backlog.checkoutIds.push(checkoutId);
        } catch (error) {
          errors.push(errorText(error));
        }
      },
      () => Date.now() < deadline,
    );
    return { created: backlog.gids.length, firstCheckoutAt, lastCheckoutAt, errors: [...new Set(errors)].slice(0, 10) };
  }

  /** During the outage: every buyer pays on Flex, and Flex's webhooks are lost (dropped, never retried). */
  function backlogPay(): { paid: number; errors: string[] } {
    flex.faults.dropWebhooks({ times: Infinity });
    const errors: string[] = [];
    let paid = 0;
    for (const id of backlog.checkoutIds) {
      try {
        flex.pay(id, 'hsa_fsa');
        paid++;
      } catch (error) {
        errors.push(errorText(error));
      }
    }
    return { paid, errors: [...new Set(errors)].slice(0, 10) };
  }

  function backlogProgress(): BacklogProgress {
    const wanted = new Set(backlog.gids);
    const times: number[] = [];
    const seen = new Set<string>();
    let extraResolves = 0;
    for (const m of shopify.mutations.slice(backlog.firstMutation)) {
      if (m.name !== 'paymentSessionResolve' || m.failed || m.shop !== backlog.shop) continue;
      const gid = String(m.args?.id ?? '');
      if (!wanted.has(gid)) continue;
      if (seen.has(gid)) {
        extraResolves++;
        continue;
      }
      seen.add(gid);
      times.push(Date.parse(m.at));
    }
    const rejected = new Set(
      shopify.mutations
        .slice(backlog.firstMutation)
        .filter((m) => m.name === 'paymentSessionReject' && !m.failed && m.shop === backlog.shop && wanted.has(String(m.args?.id ?? '')))
        .map((m) => String(m.args?.id)),
    ).size;
    times.sort((a, b) => a - b);
    const total = backlog.gids.length;
    const at = (share: number) => (times.length >= Math.ceil(total * share) && total > 0 ? times[Math.ceil(total * share) - 1] : null);
    return {
      total,
      resolved: times.length,
      rejected,
      extraResolves,
      firstResolveAt: times[0] ?? null,
      lastResolveAt: times.length === total && total > 0 ? times[times.length - 1] : null,
      latestResolveAt: times[times.length - 1] ?? null,
      halfAt: at(0.5),
      ninetyAt: at(0.9),
    };
  }

  /** The account's Flex calls since `fromMs`, per second: how fast the server asked, and how often Flex said 429. */
  function flexRate(accountId: string, fromMs: number): FlexRateSummary {
    const calls = flex.requests.filter((r) => r.accountId === accountId && Date.parse(r.at) >= fromMs);
    const byRoute: Record<string, number> = {};
    const perSecond: Array<[number, number]> = [];
    for (const r of calls) {
      const key = `${r.method} ${r.route ?? r.path}${r.rateLimited ? ' (429)' : ''}`;
      byRoute[key] = (byRoute[key] ?? 0) + 1;
      const second = Math.floor((Date.parse(r.at) - fromMs) / 1000);
      while (perSecond.length <= second) perSecond.push([0, 0]);
      perSecond[second][r.rateLimited ? 1 : 0]++;
    }
    // Busiest one-second window anywhere (not only on whole seconds).
    const peak = (times: number[]) => {
      let best = 0;
      let bestAt: number | null = null;
      for (let lo = 0, hi = 0; hi < times.length; hi++) {
        while (times[hi] - times[lo] >= 1000) lo++;
        if (hi - lo + 1 > best) {
          best = hi - lo + 1;
          bestAt = times[lo];
        }
      }
      return { best, bestAt };
    };
    const all = peak(calls.map((r) => Date.parse(r.at)).sort((a, b) => a - b));
    const accepted = peak(calls.filter((r) => !r.rateLimited).map((r) => Date.parse(r.at)).sort((a, b) => a - b));
    return {
      calls: calls.length,
      refused: calls.filter((r) => r.rateLimited).length,
      byRoute,
      peakPerSecond: all.best,
      peakAcceptedPerSecond: accepted.best,
      peakAtSecond: all.bestAt === null ? null : Math.floor((all.bestAt - fromMs) / 1000),
      perSecond,
    };
  }

  return { setCart, probeCart, createSessions, webhookRun, paymentFlowRun, backlogCreate, backlogPay, backlogProgress, flexRate, flexCallsOf };
}
