import { payAndReturn, payOnFlexPage, startCheckout } from '../support/buyer';
import { eventually, useHarness } from '../support/harness';
import { parseMetrics, sampleValue, type MetricSample } from '../support/metrics';

/**
 * GET /metrics on the app's own metrics listener (Prometheus text format): what a payment and a
 * refund leave there, with bounded labels that carry no id or buyer data; never on the public
 * listener; a bearer token when one is configured.
 */
describe('metrics', () => {
  const { h, shop } = useHarness();

  const scrape = async (headers: Record<string, string> = {}) => {
    const res = await fetch(`${h.app.servers.metricsUrl}/metrics`, { headers });
    return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
  };
  const value = (samples: MetricSample[], name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, labels);

  it('counts a payment and a refund: HTTP routes, Flex and Shopify calls, webhooks, outcomes, outbox runs', async () => {
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '42.00' });
    const { appAnswer } = await payAndReturn(redirectUrl, 'hsa_fsa');
    expect(appAnswer.status).toBe(303);
    expect((await h.shopify.waitForPaymentSession(session.id)).status).toBe('resolved');
    const refund = await h.shopify.sendRefundSession(shop.domain, { paymentId: session.id, amount: '42.00' });
    expect(refund.status).toBe(201);
    expect((await h.shopify.waitForFollowUpSession(refund.session.id, { timeoutMs: 15_000 })).status).toBe('resolved');
    // Flex's signed webhook for the paid checkout, and one nobody signed.
    await eventually(async () => (await h.prisma.flexWebhookDelivery.count()) > 0, 10_000, 'a Flex webhook delivered');
    const unsigned = await fetch(`${h.appUrl}/webhooks/flex?shop=${shop.domain}&mode=live`, { method: 'POST', body: '{"event_type":"checkout.session.completed"}' });
    expect(unsigned.status).toBe(401);
    // Both reports' jobs recorded as done (the worker counts a run once it has recorded it).
    // The refund's Flex job too: Flex's refund.updated webhook can settle the refund, and so queue its
    // report, before that job has recorded its own run.
    const runs = async (kind: string) => value(parseMetrics((await scrape()).text), 'flex_app_outbox_job_runs_total', { kind, result: 'succeeded' }) ?? 0;
    await eventually(async () => (await runs('shopify.payments-mutation')) >= 2 && (await runs('flex.refund')) >= 1, 10_000, 'both reports and the refund’s job recorded');

    // A scrape once the outbox has caught up: a job just written (the refund's webhooks) may be due
    // for a moment before the worker takes it, and the gauge says so (0.077 s on a busy machine).
    const scraped = await eventually(async () => {
      const answer = await scrape();
      return value(parseMetrics(answer.text), 'flex_app_outbox_oldest_due_job_age_seconds') === 0 && answer;
    }, 10_000, 'a scrape with no job overdue');
    expect(scraped.status).toBe(200);
    expect(scraped.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parseMetrics(scraped.text);

    // HTTP: by Express route pattern and status, with a latency histogram.
    const http = 'flex_app_http_request_duration_seconds';
    expect(value(samples, `${http}_count`, { method: 'POST', route: '/payments/sessions', status: '201' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, `${http}_count`, { method: 'GET', route: '/pay/:paymentSessionId', status: '303' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, `${http}_count`, { method: 'GET', route: '/payments/return/:paymentSessionId', status: '303' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, `${http}_count`, { method: 'POST', route: '/payments/refunds', status: '201' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, `${http}_count`, { method: 'POST', route: '/webhooks/flex', status: '401' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, `${http}_bucket`, { method: 'POST', route: '/payments/sessions', status: '201', le: '+Inf' })).toBeGreaterThanOrEqual(1);
    expect(samples.filter((s) => s.name === `${http}_count`).every((s) => !/[0-9a-f]{8}-[0-9a-f]{4}-/.test(s.labels.route!))).toBe(true);

    // Calls out, by operation and outcome.
    const flex = 'flex_app_flex_request_duration_seconds';
    expect(value(samples, `${flex}_count`, { operation: 'create_checkout_session', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, `${flex}_count`, { operation: 'get_checkout_session', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, `${flex}_count`, { operation: 'refund', outcome: 'ok' })).toBe(1);
    expect(value(samples, `${flex}_sum`, { operation: 'refund', outcome: 'ok' })).toBeGreaterThan(0);
    const shopify = 'flex_app_shopify_request_duration_seconds';
    expect(value(samples, `${shopify}_count`, { operation: 'PaymentSessionResolve', outcome: 'ok' })).toBe(1);
    expect(value(samples, `${shopify}_count`, { operation: 'RefundSessionResolve', outcome: 'ok' })).toBe(1);

    // Webhooks by source and verification; outcomes as Shopify took them; the outbox's runs.
    expect(value(samples, 'flex_app_webhook_deliveries_total', { source: 'flex', verification: 'valid' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'flex_app_webhook_deliveries_total', { source: 'flex', verification: 'invalid' })).toBe(1);
    expect(value(samples, 'flex_app_session_outcomes_total', { kind: 'payment', outcome: 'resolved' })).toBe(1);
    expect(value(samples, 'flex_app_session_outcomes_total', { kind: 'refund', outcome: 'resolved' })).toBe(1);
    expect(value(samples, 'flex_app_outbox_job_runs_total', { kind: 'shopify.payments-mutation', result: 'succeeded' })).toBeGreaterThanOrEqual(2);
    expect(value(samples, 'flex_app_outbox_job_runs_total', { kind: 'flex.refund', result: 'succeeded' })).toBe(1);

    // Read from the database at scrape time; the process's own metrics.
    expect(value(samples, 'flex_app_scrape_source_up', { source: 'database' })).toBe(1);
    expect(value(samples, 'flex_app_outbox_oldest_due_job_age_seconds')).toBe(0);
    expect(value(samples, 'flex_app_outbox_jobs_needing_attention')).toBe(0);
    expect(value(samples, 'flex_app_payment_sessions_open', { status: 'pending' })).toBe(0);
    expect(value(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('reads the outbox from the database when scraped: jobs by kind and state, the oldest due job’s age', async () => {
    await h.components.worker.stop();
    try {
      // Paid on Flex; Flex's webhook decides (the buyer's return would run the job inline).
      const { session, redirectUrl } = await startCheckout(h, shop, { amount: '15.00' });
      expect((await payOnFlexPage(redirectUrl, 'hsa_fsa')).status).toBe(303);
      await eventually(async () => (await h.prisma.job.count({ where: { status: 'QUEUED', kind: 'shopify.payments-mutation' } })) >= 1, 10_000, 'a queued report');
      h.clock.advance(120_000);
      const samples = parseMetrics((await scrape()).text);
      expect(value(samples, 'flex_app_outbox_jobs', { kind: 'shopify.payments-mutation', state: 'queued' })).toBeGreaterThanOrEqual(1);
      expect(value(samples, 'flex_app_outbox_oldest_due_job_age_seconds')).toBeGreaterThanOrEqual(120);
      h.components.worker.start();
      expect((await h.shopify.waitForPaymentSession(session.id)).status).toBe('resolved');
      await eventually(async () => value(parseMetrics((await scrape()).text), 'flex_app_outbox_oldest_due_job_age_seconds') === 0, 10_000, 'the outbox drained');
    } finally {
      h.components.worker.start();
    }
  });

  it('reads the cart, catalog and Admin API work: carts by source and reason, variants in Flex, Admin calls', async () => {
    // A product in the shop: the products/create webhook has it mirrored in Flex.
    h.shopify.createProduct(shop.domain, { title: 'Metrics Thermometer', variants: [{ price: '11.00', barcode: '00036000291452' }] });
    await eventually(async () => (value(parseMetrics((await scrape()).text), 'flex_app_catalog_variants', { state: 'synced' }) ?? 0) >= 1, 30_000, 'a synced variant');
    // A payment with no cart captured goes to Flex as the catch-all line, and is counted with its reason.
    const { redirectUrl } = await startCheckout(h, shop, { amount: '9.00' });
    expect(redirectUrl).toContain('/pay/');
    const samples = parseMetrics((await scrape()).text);
    expect(value(samples, 'flex_app_payment_carts_last_day', { source: 'catch_all', reason: 'no_checkout_token' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'flex_app_orders_flagged')).toBe(0);
    expect(value(samples, 'flex_app_scrape_source_up', { source: 'database_commerce' })).toBe(1);
    // The Admin API calls of the sync (catalog pages, metafields, the pixel) are counted by operation.
    expect(samples.some((s) => s.name === 'flex_app_shopify_request_duration_seconds_count' && s.labels.operation !== 'PaymentSessionResolve' && s.value > 0)).toBe(true);
  });

  it('carries no ids, shop domains or buyer data in any label', async () => {
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '21.00' });
    await payAndReturn(redirectUrl, 'hsa_fsa');
    expect((await h.shopify.waitForPaymentSession(session.id)).status).toBe('resolved');
    const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: session.id } });
    const { text } = await scrape();

    const secretsAndIds = [shop.domain, shop.accessToken, shop.liveKey, shop.testKey, shop.flexAccountId, session.id, session.gid, payment.id, payment.flexCheckoutSessionId!, 'buyer@example.com', '5555555555', 'Alice'];
    // Sample values are left out of the search: a histogram's sum is a float whose digits can by chance
    // contain any run of digits (a CI run once had 0.0…5555555555… in a duration sum).
    const namesLabelsAndHelp = text.split('\n').map((line) => (line.startsWith('#') ? line : line.replace(/ (?:[-+]?[0-9.eE+-]+|NaN|[+-]Inf)(?: \d+)?$/, ''))).join('\n');
    expect(namesLabelsAndHelp).toContain('flex_app_http_request_duration_seconds_sum');
    expect(namesLabelsAndHelp).not.toMatch(/ \d+\.\d+$/m);
    for (const needle of secretsAndIds) expect(namesLabelsAndHelp).not.toContain(needle);
    // Every label value is a word from a closed set: no uuid, no long number, no email, no path with an id.
    for (const sample of parseMetrics(text)) {
      for (const labelValue of Object.values(sample.labels)) {
        expect(labelValue).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}|\d{6,}|@|myshopify/);
      }
    }
  });

  it('is not served on the public listener; with METRICS_TOKEN it needs the bearer token', async () => {
    expect((await fetch(`${h.app.servers.httpUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${h.appUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${h.app.servers.metricsUrl}/`)).status).toBe(404);

    const token = 'metrics-token-'.padEnd(40, 'x');
    h.setEnv({ METRICS_TOKEN: token });
    await h.restartApp();
    try {
      expect((await scrape()).status).toBe(401);
      expect((await scrape({ Authorization: 'Bearer wrong' })).status).toBe(401);
      const scraped = await scrape({ Authorization: `Bearer ${token}` });
      expect(scraped.status).toBe(200);
      expect(scraped.text).toContain('flex_app_http_request_duration_seconds');
    } finally {
      h.setEnv({ METRICS_TOKEN: '' });
      await h.restartApp();
    }
  });
});
