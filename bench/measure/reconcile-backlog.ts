import path from 'node:path';
import { AMOUNT, log, MB, type BenchContext } from '../context';
import { startCpuMeter } from '../lib/cpu';
import { freePort, memoryOf, stopServer, type ServerProcess } from '../lib/processes';
import type { BacklogResult } from '../lib/report';
import { round } from '../lib/stats';
import { appCpuSource, appEndpoint, awaitCartJoin, launchApp, type AppLaunch, type AppStore } from '../targets';

/**
 * `--only reconcile-backlog` (issue 9.13): how long the app's reconciler takes to resolve a backlog of
 * paid sessions whose Flex webhooks were lost, and how hard it pushes Flex while doing it.
 *
 * 1. Before the outage: the app runs with RECONCILE_AFTER_SECONDS=R; `sessions` payment sessions
 *    are received and their pay pages opened (the Flex checkouts made), as fast as the app takes them.
 *    The buyers have not paid yet.
 * 2. The outage: the app is stopped. Every buyer pays on Flex; Flex's webhooks are dropped (the
 *    sandbox can lose deliveries: `faults.dropWebhooks`). The bench waits until every session's
 *    first check (checkout made + R) is due.
 * 3. The app starts again (time 0), Flex answering after `flexLatencyMs` and limited to `rateLimit`
 *    calls per second per account and mode (the sandbox's token bucket; Flex documents only a 429 with
 *    a retry time). Only the reconciler can resolve the sessions: the bench waits until Shopify has
 *    every one resolved, or `timeoutSeconds`, and reports what it saw, with the Flex calls per second.
 *
 * Why not R=1 with the app up all along: the reconciler would look at each session while the bench
 * was still making the others, so the backlog would never exist at once; and a session it found still
 * unpaid would be pushed back by its back-off. R is therefore just longer than step 1 (by default the
 * longest step 1 may take; --backlog-due-after), and the app is down while the buyers pay, as after a
 * real outage. An app that ignored RECONCILE_AFTER_SECONDS would look later: the report shows when the
 * first resolve came.
 */
export async function measureReconcileBacklog(ctx: BenchContext, app: AppLaunch, store: AppStore): Promise<BacklogResult> {
  const { host, warnings } = ctx;
  const settings = ctx.options.backlog!;
  const R = settings.dueAfterSeconds ?? (app.name === 'embedded' ? 300 : 150);
  const env = { RECONCILE_AFTER_SECONDS: String(R) };
  const endpoint = appEndpoint(app);
  const errors: string[] = [];

  // ---- 1. before the outage ----
  await host.setFlexRateLimit(null);
  await host.setFlexLatency(0);
  const { server: setup } = await launchApp(app, store.dataDir, store.databaseUrl, { env });
  ctx.cleanup.add(`${app.name} (backlog set-up)`, () => stopServer(setup));
  // The catalog synced, so that each session's pay page joins its cart at once (no cart wait).
  await awaitCartJoin(ctx, { info: app.info, endpoint, shop: app.shop });
  await host.clearRecords();
  const setupStart = Date.now();
  log(`reconcile-backlog: making ${settings.sessions} sessions on ${app.info.label} (RECONCILE_AFTER_SECONDS=${R}; at most ${R - 15} s)…`);
  const made = await host.backlogCreate({ endpoint, shop: app.shop, amount: AMOUNT, count: settings.sessions, concurrency: 16, deadlineMs: (R - 15) * 1000 });
  const setupSeconds = (Date.now() - setupStart) / 1000;
  errors.push(...made.errors);
  // ---- 2. the outage ----
  await stopServer(setup);
  const outageStart = Date.now();
  const earlyReads = Object.entries(await host.flexCalls(app.account.accountId)).filter(([route]) => route.startsWith('GET /v1/checkout/sessions/:id')).reduce((a, [, n]) => a + n, 0);
  if (earlyReads > 0) warnings.push(`The reconciler read ${earlyReads} checkout(s) before the outage (while still unpaid): those come due later than the rest. Raise --backlog-due-after.`);
  if (made.created < settings.sessions) warnings.push(`Only ${made.created} of ${settings.sessions} sessions were made in ${Math.round(setupSeconds)} s (the first would have come due while the app was up). Raise --backlog-due-after.`);
  log(`reconcile-backlog: ${made.created} sessions made in ${setupSeconds.toFixed(0)} s; app stopped; buyers pay, webhooks lost`);
  const paid = await host.backlogPay();
  errors.push(...paid.errors);
  const dueAt = made.lastCheckoutAt + R * 1000 + 1000;
  log(`reconcile-backlog: waiting ${Math.max(0, Math.round((dueAt - Date.now()) / 1000))} s until every session is due`);
  while (Date.now() < dueAt) await new Promise((r) => setTimeout(r, Math.min(5000, dueAt - Date.now())));

  // ---- 3. the app comes back and drains the backlog ----
  await host.setFlexLatency(settings.flexLatencyMs);
  await host.setFlexRateLimit(settings.rateLimit);
  await host.clearRecords();
  const t0 = Date.now();
  const outageSeconds = (t0 - outageStart) / 1000;
  const servers: ServerProcess[] = [];
  let startupSeconds = 0;
  for (let i = 0; i < Math.max(1, settings.instances); i++) {
    const ports = i === 0 ? undefined : { port: await freePort(), sessionsPort: await freePort() };
    const logFile = i === 0 ? undefined : path.join(ctx.tmpRoot, `app-${app.name}-${i + 1}.log`);
    const { server: started } = await launchApp(app, store.dataDir, store.databaseUrl, { env, ports, logFile });
    servers.push(started);
    ctx.cleanup.add(`${app.name} (backlog ${i + 1})`, () => stopServer(started));
    if (i === 0) startupSeconds = (Date.now() - t0) / 1000;
  }
  const cpu = await startCpuMeter(appCpuSource(ctx, store, servers.map((s) => s.pid)));
  let peakRss = 0;
  const rssTimer = setInterval(() => {
    const rss = servers.reduce((a, s) => Math.max(a, memoryOf(s.pid)?.rssBytes ?? 0), 0);
    peakRss = Math.max(peakRss, rss);
  }, 250);
  const progress: Array<[number, number]> = [];
  const deadline = t0 + settings.timeoutSeconds * 1000;
  let state = await host.backlogProgress();
  let lastLog = 0;
  for (;;) {
    state = await host.backlogProgress();
    const now = Date.now();
    if (progress.length === 0 || progress[progress.length - 1][1] !== state.resolved || now - lastLog > 10_000) progress.push([round((now - t0) / 1000, 1), state.resolved]);
    if (now - lastLog > 10_000) {
      lastLog = now;
      log(`reconcile-backlog: ${Math.round((now - t0) / 1000)} s after the start, ${state.resolved} of ${made.created} resolved`);
    }
    if (state.resolved + state.rejected >= made.created || now > deadline) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  clearInterval(rssTimer);
  const used = await cpu.stop();
  const flex = await host.flexRate(app.account.accountId, t0);
  for (const s of servers) await stopServer(s);

  const seconds = (at: number | null) => (at === null ? null : round((at - t0) / 1000, 1));
  const drainPerSecond = state.firstResolveAt !== null && state.latestResolveAt !== null && state.resolved > 1 ? (state.resolved - 1) / Math.max(0.001, (state.latestResolveAt - state.firstResolveAt) / 1000) : null;
  const first = seconds(state.firstResolveAt);
  const reads = Object.entries(flex.byRoute).filter(([route]) => route === 'GET /v1/checkout/sessions/:id').reduce((a, [, n]) => a + n, 0);
  return {
    target: app.name,
    instances: servers.length,
    sessions: settings.sessions,
    created: made.created,
    paid: paid.paid,
    setupSeconds: round(setupSeconds, 1),
    outageSeconds: round(outageSeconds, 1),
    reconcileAfterSeconds: R,
    flexLatencyMs: settings.flexLatencyMs,
    rateLimit: settings.rateLimit,
    timeoutSeconds: settings.timeoutSeconds,
    startupSeconds: round(startupSeconds, 2),
    firstResolveSeconds: first,
    halfSeconds: seconds(state.halfAt),
    ninetySeconds: seconds(state.ninetyAt),
    allSeconds: seconds(state.lastResolveAt),
    resolved: state.resolved,
    rejected: state.rejected,
    extraResolves: state.extraResolves,
    drainPerSecond: drainPerSecond === null ? null : round(drainPerSecond, 2),
    projectedAllSeconds: state.lastResolveAt === null && drainPerSecond && first !== null ? round(first + made.created / drainPerSecond, 0) : null,
    progress,
    flex: {
      calls: flex.calls,
      refused: flex.refused,
      byRoute: flex.byRoute,
      peakPerSecond: flex.peakPerSecond,
      peakAcceptedPerSecond: flex.peakAcceptedPerSecond,
      readsPerSession: round(reads / Math.max(1, made.created), 3),
      perSecond: flex.perSecond,
    },
    cpuMsPerSession: { process: round(used.processMs / Math.max(1, state.resolved), 2), database: store.db ? round(used.databaseMs / Math.max(1, state.resolved), 2) : null },
    peakRssMB: round(peakRss / MB, 1),
    errors: [...new Set(errors)].slice(0, 10),
  };
}
