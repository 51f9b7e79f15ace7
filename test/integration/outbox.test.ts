import { composeApp } from '../../src/app/composition-root';
import { startApp, type RunningApp } from '../../src/app/start-app';
import { z } from 'zod';
import { createLogger } from '../../src/lib/logger';
import { defineJobType, enqueueJob } from '../../src/outbox/job-type';
import { OutboxWorker } from '../../src/outbox/outbox-worker';
import { DEFAULT_RETRY_POLICY } from '../../src/outbox/retry-policy';
import { HandleBuyerReturn } from '../../src/payments/payment/buyer-return';
import { eventually, freePort, useHarness } from '../support/harness';
import { payAndReturn, payOnFlexPage, startCheckout, visit } from '../support/buyer';

/**
 * Shopify mutations go through the durable outbox: retried through Shopify's failures, surviving
 * restarts and crashes, never sent twice at once by several instances, and parked for a person
 * when they cannot succeed.
 */
describe('the outbox of Shopify mutations', () => {
  const { h, shop } = useHarness();

  const callsFor = (gid: string, name = 'paymentSessionResolve') => h.shopify.mutations.filter((m) => m.name === name && (m.variables as any).id === gid);
  const paymentOf = (shopifyId: string) => h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId } });
  const resolveJobOf = async (shopifyId: string) => {
    const payment = await paymentOf(shopifyId);
    return h.prisma.job.findFirstOrThrow({ where: { subjectId: payment.id, dedupeKey: { startsWith: 'shopify:paymentSessionResolve' } } });
  };

  it('retries through Shopify 5xx answers while the buyer waits, then sends the buyer on', async () => {
    h.shopify.faults.failNext({ mutation: 'paymentSessionResolve', status: 500, times: 1 });
    h.shopify.faults.failNext({ mutation: 'paymentSessionResolve', status: 503, times: 1 });
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '10.00' });
    const { appAnswer } = await payAndReturn(redirectUrl, 'hsa_fsa');
    expect(appAnswer.status).toBe(303);
    expect(appAnswer.location).toContain('/thank-you');
    expect(callsFor(session.gid).map((m) => m.httpStatus)).toEqual([500, 503, 200]);
    const job = await resolveJobOf(session.id);
    expect(job).toMatchObject({ status: 'SUCCEEDED', attempts: 3 });
  });

  it('keeps retrying in the background when Shopify stays down, and the buyer’s page catches up', async () => {
    h.shopify.faults.failNext({ mutation: 'paymentSessionResolve', status: 502, times: 5 });
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '11.00' });
    const { successUrl, appAnswer } = await payAndReturn(redirectUrl, 'hsa_fsa');
    // The buyer sees "confirming" rather than an error, and the page refreshes itself.
    expect(appAnswer.status).toBe(200);
    expect(appAnswer.body).toContain('Confirming your payment');
    expect(appAnswer.body).toContain('http-equiv="refresh"');
    await eventually(async () => (await paymentOf(session.id)).shopifyState === 'RESOLVED', 10_000, 'background delivery');
    expect(callsFor(session.gid).filter((m) => m.httpStatus === 200)).toHaveLength(1);
    const refreshed = await visit(successUrl);
    expect(refreshed.status).toBe(303);
    expect(refreshed.location).toContain('/thank-you');
  });

  it('honours 429 with Retry-After and Shopify’s throttling errors', async () => {
    h.shopify.faults.failNext({ mutation: 'paymentSessionResolve', status: 429, retryAfterSeconds: 1, times: 1 });
    h.shopify.faults.failNext({ mutation: 'paymentSessionResolve', status: 'throttled', times: 1 });
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '12.00' });
    await payOnFlexPage(redirectUrl, 'hsa_fsa');
    await eventually(async () => (await paymentOf(session.id)).shopifyState === 'RESOLVED', 15_000, 'delivery after throttling');
    const calls = callsFor(session.gid);
    expect(calls.map((m) => m.httpStatus)).toEqual([429, 200, 200]);
    // The retry after the 429 waited at least the second Shopify asked for.
    expect(Date.parse(calls[1]!.at) - Date.parse(calls[0]!.at)).toBeGreaterThanOrEqual(950);
  });

  it('treats a timeout as a failure to retry', async () => {
    await h.withTimeouts({ shopifyMs: 1_000 }, async () => {
      h.shopify.faults.failNext({ mutation: 'paymentSessionResolve', status: 'timeout', times: 1 });
      const { session, redirectUrl } = await startCheckout(h, shop, { amount: '13.00' });
      await payOnFlexPage(redirectUrl, 'hsa_fsa');
      await eventually(async () => (await paymentOf(session.id)).shopifyState === 'RESOLVED', 15_000, 'delivery after a timeout');
      const job = await resolveJobOf(session.id);
      expect(job.attempts).toBeGreaterThanOrEqual(2);
    });
  });

  it('picks up pending work after a restart', async () => {
    h.shopify.faults.failNext({ mutation: 'paymentSessionResolve', status: 503, times: 1000 });
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '14.00' });
    await payOnFlexPage(redirectUrl, 'hsa_fsa');
    await eventually(async () => (await resolveJobOf(session.id).catch(() => null))?.status === 'QUEUED', 15_000, 'a queued job');
    await h.app.stop();
    // Shopify recovers while the app is down.
    h.shopify.faults.reset();
    await h.startApp();
    await eventually(async () => (await paymentOf(session.id)).shopifyState === 'RESOLVED', 10_000, 'delivery after restart');
    // The handler records Shopify's acknowledgement, then the worker the job's success.
    await eventually(async () => (await resolveJobOf(session.id)).status === 'SUCCEEDED', 10_000, 'the job recorded as done');
  });

  it('reclaims a job a crashed worker left running once its lease has run out', async () => {
    h.shopify.faults.failNext({ mutation: 'paymentSessionResolve', status: 503, times: 1000 });
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '15.00' });
    await payOnFlexPage(redirectUrl, 'hsa_fsa');
    const job = await eventually(async () => resolveJobOf(session.id).catch(() => undefined), 15_000, 'the job');
    await h.whileStopped(async (db) => {
      // What a worker that died mid-send leaves behind: RUNNING, leased to it, lease now expired.
      await db.prisma.job.update({ where: { id: job.id }, data: { status: 'RUNNING', lockToken: 'dead-worker', lockedUntil: new Date(Date.now() - 1000) } });
      h.shopify.faults.reset();
    });
    await eventually(async () => (await paymentOf(session.id)).shopifyState === 'RESOLVED', 10_000, 'delivery after the crash');
    expect(callsFor(session.gid).filter((m) => m.httpStatus === 200)).toHaveLength(1);
  });

  it('parks a job as needing attention after 26 hours of failures, and an operator can requeue it', async () => {
    h.shopify.faults.failNext({ mutation: 'paymentSessionResolve', status: 500, times: 1000 });
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '16.00' });
    await payOnFlexPage(redirectUrl, 'hsa_fsa');
    const job = await eventually(async () => {
      const j = await resolveJobOf(session.id).catch(() => undefined);
      return j && j.attempts >= 2 ? j : undefined;
    }, 15_000, 'failing attempts');
    h.clock.advance(27 * 60 * 60 * 1000);
    const parked = await eventually(async () => {
      const j = await h.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
      return j.status === 'NEEDS_ATTENTION' ? j : undefined;
    }, 10_000, 'needs attention').finally(() => h.clock.advance(-27 * 60 * 60 * 1000));
    expect(parked.lastError).toMatch(/gave up after \d+ attempts/);
    // The job is parked first; the timeline's event is written after, by the handler's onGaveUp.
    await eventually(async () => (await h.timelineOf((await paymentOf(session.id)).id)).some((e) => e.type === 'shopify_mutation_needs_attention'), 10_000, 'needs attention on the timeline');
    const payment = await paymentOf(session.id);
    expect(payment.status).toBe('RESOLVED');
    expect(payment.shopifyState).toBeNull();

    h.shopify.faults.reset();
    expect(await h.components.repos.jobs.requeue(job.id, h.clock.now())).toBe(true);
    h.components.worker.wake();
    await eventually(async () => (await paymentOf(session.id)).shopifyState === 'RESOLVED', 10_000, 'delivery after requeue');
  });

  it('counts "already in that state" as done, and parks a conflicting decision at once', async () => {
    // Another decision reached Shopify first (say, an earlier reject): ours conflicts.
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '17.00' });
    const reject = await fetch(`${h.shopify.url}/payments_apps/api/2026-10/graphql.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': shop.accessToken },
      body: JSON.stringify({
        query: 'mutation($id: ID!, $reason: PaymentSessionRejectionReasonInput!) { paymentSessionReject(id: $id, reason: $reason) { userErrors { message } } }',
        variables: { id: session.gid, reason: { code: 'PROCESSING_ERROR', merchantMessage: 'test' } },
      }),
    });
    expect(reject.status).toBe(200);
    await payOnFlexPage(redirectUrl, 'hsa_fsa');
    const job = await eventually(async () => {
      const j = await resolveJobOf(session.id).catch(() => undefined);
      return j?.status === 'NEEDS_ATTENTION' ? j : undefined;
    }, 10_000, 'conflict parked');
    expect(job.attempts).toBe(1);
    expect(job.lastError).toMatch(/Shopify refused paymentSessionResolve/);
  });

  it('sends the buyer on when the outbox delivers the decision between the return page’s reads', async () => {
    // CI caught this once in a few hundred payments: the return page read the payment just before the
    // worker recorded Shopify's answer, then found the job done, and showed "confirming" to a buyer
    // whose payment Shopify already had. Here the worker delivers exactly in that gap, every time.
    await h.components.worker.stop();
    try {
      const { session, redirectUrl } = await startCheckout(h, shop, { amount: '13.00' });
      await payOnFlexPage(redirectUrl, 'hsa_fsa');
      await eventually(async () => (await paymentOf(session.id)).status === 'RESOLVED', 10_000, 'the webhook’s decision');
      const { repos, worker, flex, clock, logger, config, payments } = h.components;
      let deliveredInGap = false;
      const deliveredInTheGap = {
        ...repos,
        jobs: Object.assign(Object.create(repos.jobs), {
          async findByDedupeKey(dedupeKey: string) {
            const job = await repos.jobs.findByDedupeKey(dedupeKey);
            if (job) expect(await worker.runNow(job.id)).toBe('succeeded');
            deliveredInGap = true;
            return repos.jobs.findByDedupeKey(dedupeKey);
          },
        }),
      };
      const buyerReturn = new HandleBuyerReturn({ repos: deliveredInTheGap, flex, outcomes: payments.outcomes, worker, clock, logger, apiVersion: config.shopify.apiVersion });
      const next = await buyerReturn.returned((await paymentOf(session.id)).id);
      expect(deliveredInGap).toBe(true);
      expect(next).toMatchObject({ type: 'redirect', url: expect.stringContaining('/thank-you') });
      expect(callsFor(session.gid)).toHaveLength(1);
    } finally {
      h.components.worker.start();
    }
  });

  it('runs a decision made while another job’s Shopify call is out without waiting for that call', async () => {
    // The first payment's resolve is held by Shopify until the test drops it; the app's own timeout
    // (2 min here) does not end it first, however long the second payment takes on a busy machine.
    await h.withTimeouts({ shopifyMs: 120_000 }, async () => {
      h.shopify.faults.failNext({ mutation: 'paymentSessionResolve', status: 'timeout', times: 1 });
      const first = await startCheckout(h, shop, { amount: '16.00' });
      await payOnFlexPage(first.redirectUrl, 'hsa_fsa');
      await eventually(async () => callsFor(first.session.gid).length === 1, 10_000, 'the first resolve held by Shopify');

      const second = await startCheckout(h, shop, { amount: '17.00' });
      await payOnFlexPage(second.redirectUrl, 'hsa_fsa');
      await eventually(async () => (await paymentOf(second.session.id)).shopifyState === 'RESOLVED', 20_000, 'the second resolve');
      // Resolved while the first job's call was still out: the worker claimed it in a free slot.
      expect(await resolveJobOf(first.session.id)).toMatchObject({ status: 'RUNNING', attempts: 1 });
      expect(callsFor(second.session.gid).map((m) => m.httpStatus)).toEqual([200]);

      // The held call ends without an answer (its connection dropped) and the retry resolves the first payment.
      expect(h.shopify.dropHeldRequests()).toBe(1);
      await eventually(async () => (await paymentOf(first.session.id)).shopifyState === 'RESOLVED', 30_000, 'the first resolve, retried');
      expect(await resolveJobOf(first.session.id)).toMatchObject({ attempts: 2 });
    });
  }, 120_000);

  it('says it is unhealthy while one of its jobs runs past its lease, and healthy again once it ends', async () => {
    // A job of a kind only this worker runs, whose handler waits until the test lets it go.
    const blocking = defineJobType(`test.blocking-${Date.now()}`, z.object({}));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const worker = new OutboxWorker({
      jobs: h.components.repos.jobs,
      handlers: [{ type: blocking, handle: async () => (await released, { status: 'succeeded' }) }],
      clock: h.clock,
      logger: createLogger({ level: 'silent' }),
      retryPolicy: DEFAULT_RETRY_POLICY,
      pollIntervalMs: 20,
      // Long enough that the first health check below comes well inside the lease on a busy machine.
      leaseMs: 3_000,
    });
    const job = await enqueueJob(h.components.repos.jobs, blocking, {}, { dedupeKey: `test:blocking:${Date.now()}`, runAt: h.clock.now() });
    worker.start();
    try {
      await eventually(async () => (await h.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status === 'RUNNING', 10_000, 'the job running');
      expect(worker.isHealthy()).toBe(true);
      await eventually(async () => !worker.isHealthy(), 10_000, 'unhealthy once the job has run past its lease');
      release();
      await eventually(async () => (await h.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status === 'SUCCEEDED', 10_000, 'the job done');
      await eventually(async () => worker.isHealthy(), 10_000, 'healthy again');
    } finally {
      release();
      await worker.stop();
    }
  });

  it('sends a decision with the shop’s offline token its claim read, without reading the token again', async () => {
    // The claim reads the token with the job (db/repositories/jobs.ts): Shopify's session storage
    // reads it through Prisma's query API, the last such call on the payment path until the claim read it (bench/README-queries.md, "Fourth round").
    // Every read of the stored token goes through these two (the session storage is reached only through them).
    const { tokens } = h.components;
    const { forShop, offline } = tokens;
    const tokenReads: string[] = [];
    tokens.forShop = (domain: string) => {
      tokenReads.push(domain);
      return forShop.call(tokens, domain);
    };
    tokens.offline = (domain: string) => {
      tokenReads.push(domain);
      return offline.call(tokens, domain);
    };
    try {
      const { session, redirectUrl } = await startCheckout(h, shop, { amount: '14.00' });
      await payOnFlexPage(redirectUrl, 'hsa_fsa');
      await eventually(async () => (await paymentOf(session.id)).shopifyState === 'RESOLVED', 10_000, 'delivery');
      // The simulator refuses a mutation without the shop's token: it went with the token read in the claim.
      expect(callsFor(session.gid).map((m) => m.httpStatus)).toEqual([200]);
      expect(tokenReads).toEqual([]);
    } finally {
      tokens.forShop = forShop;
      tokens.offline = offline;
    }
  });

  it('lets several instances share the database without running a job twice', async () => {
    const logger = createLogger({ level: 'silent' });
    const others: RunningApp[] = [];
    const extraWorkers: Array<{ stop(): Promise<void> }> = [];
    await h.components.worker.stop();
    try {
      const sessions = [];
      for (let i = 0; i < 12; i++) {
        const { session, redirectUrl } = await startCheckout(h, shop, { amount: `${20 + i}.00` });
        await payOnFlexPage(redirectUrl, 'hsa_fsa');
        sessions.push(session);
      }
      await eventually(async () => (await h.prisma.job.count({ where: { status: 'QUEUED', kind: 'shopify.payments-mutation' } })) >= 12, 10_000, 'queued jobs');

      if (process.env.TEST_DATABASE === 'postgres') {
        // Separate instances with their own connection pools, as separate processes would have.
        for (let i = 0; i < 2; i++) {
          others.push(await startApp({ config: { ...h.config, port: await freePort(), sessionAuth: { kind: 'none' } }, logger, tuning: { workerPollIntervalMs: 10, clock: h.clock } }));
        }
      } else {
        // The embedded database belongs to one process; its workers still compete through the table.
        for (let i = 0; i < 2; i++) {
          const extra = composeApp(h.config, h.components.database, logger, { workerPollIntervalMs: 10, clock: h.clock });
          extra.worker.start();
          extraWorkers.push(extra.worker);
        }
      }
      h.components.worker.start();
      for (const session of sessions) {
        await eventually(async () => (await paymentOf(session.id)).shopifyState === 'RESOLVED', 15_000, `resolve of ${session.id}`);
      }
      for (const session of sessions) expect(callsFor(session.gid)).toHaveLength(1);
    } finally {
      for (const other of others) await other.stop();
      for (const worker of extraWorkers) await worker.stop();
      h.components.worker.start();
    }
  });
});

/**
 * A decision's job is written already claimed by the worker that runs it, while that worker has a slot
 * free, and run once the decision commits: no wake-up, no claim, no poll (its lease still covers a
 * crash). Polls here are a minute apart, so a job that waited for one would not run in these tests.
 */
describe('jobs written claimed by their decision', () => {
  const { h, shop } = useHarness({ tuning: { workerPollIntervalMs: 60_000 } });
  const MUTATIONS = 'shopify.payments-mutation';
  const paymentOf = (shopifyId: string) => h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId } });
  const resolveJobOf = async (shopifyId: string) => {
    const payment = await paymentOf(shopifyId);
    return h.prisma.job.findFirstOrThrow({ where: { subjectId: payment.id, dedupeKey: { startsWith: 'shopify:paymentSessionResolve' } } });
  };
  const woken: Array<string[] | undefined> = [];
  beforeAll(() => h.components.transactor.onJobsEnqueued((kinds) => woken.push(kinds ? [...kinds] : undefined)));
  const wokenFor = (kind: string) => woken.filter((kinds) => !kinds || kinds.includes(kind)).length;

  it('runs the job that carries a Flex webhook’s decision when the decision commits, without waking the worker to claim it', async () => {
    const wakeUps = wokenFor(MUTATIONS);
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '12.00' });
    await payOnFlexPage(redirectUrl, 'hsa_fsa');
    await eventually(async () => (await paymentOf(session.id)).shopifyState === 'RESOLVED', 10_000, 'resolve');
    expect(await resolveJobOf(session.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1, lockToken: null });
    expect(wokenFor(MUTATIONS)).toBe(wakeUps);
  });

  it('gives back the slot of a decision rolled back: later decisions are still written claimed', async () => {
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '13.00' });
    const payment = await paymentOf(session.id);
    // More rolled-back decisions than the worker has slots (10): a slot kept by any would leave none.
    for (let i = 0; i < 12; i++) {
      await expect(
        h.components.transactor.runSql(async (repos) => {
          const now = h.clock.now();
          const written = await repos.payments.decideFinal(
            payment.id as never,
            { status: 'REJECTED', rejectionCode: 'PROCESSING_ERROR', rejectionMessage: 'rolled back' },
            { source: 'RECONCILER', now, job: { kind: MUTATIONS, dedupeKey: `test:rolled-back:${payment.id}`, payload: {}, runAt: now } },
          );
          expect(written.won).toBe(true);
          throw new Error('rolled back on purpose');
        }),
      ).rejects.toThrow('rolled back on purpose');
    }
    expect(await h.prisma.job.count({ where: { dedupeKey: `test:rolled-back:${payment.id}` } })).toBe(0);
    const wakeUps = wokenFor(MUTATIONS);
    await payOnFlexPage(redirectUrl, 'hsa_fsa');
    await eventually(async () => (await paymentOf(session.id)).shopifyState === 'RESOLVED', 10_000, 'resolve');
    expect(wokenFor(MUTATIONS)).toBe(wakeUps);
  });

  it('lends a slot only for a kind the worker runs, while one is free and it runs: each lease holds one until run or given back', async () => {
    const kind = `test.leased-${Date.now()}`;
    const worker = new OutboxWorker({ jobs: h.components.repos.jobs, handlers: [{ type: defineJobType(kind, z.object({})), handle: async () => ({ status: 'succeeded' }) }], clock: h.clock, logger: createLogger({ level: 'silent' }), retryPolicy: DEFAULT_RETRY_POLICY, pollIntervalMs: 60_000, batchSize: 2 });
    expect(worker.leaseSlot(kind)).toBeUndefined();
    worker.start();
    try {
      expect(worker.leaseSlot('some.other-kind')).toBeUndefined();
      const first = worker.leaseSlot(kind)!;
      const second = worker.leaseSlot(kind)!;
      expect(first.token).not.toBe(second.token);
      expect(second.until.getTime() - second.now.getTime()).toBe(120_000);
      expect(worker.leaseSlot(kind)).toBeUndefined();
      first.giveBack();
      first.giveBack();
      const third = worker.leaseSlot(kind)!;
      expect(third).toBeDefined();
      expect(worker.leaseSlot(kind)).toBeUndefined();
      second.giveBack();
      // Stopping waits for a lease still out (its transaction may yet commit a job to run).
      let stopped = false;
      const stopping = worker.stop().then(() => (stopped = true));
      expect(worker.leaseSlot(kind)).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(stopped).toBe(false);
      third.giveBack();
      await stopping;
    } finally {
      await worker.stop();
    }
    expect(worker.leaseSlot(kind)).toBeUndefined();
  });

  it('lends no slot that a claim in flight may fill: the jobs claimed and the slots lent never exceed the batch', async () => {
    const kind = `test.claiming-${Date.now()}`;
    let answerClaim!: (jobs: never[]) => void;
    let claims = 0;
    const jobs = {
      claimDue: () => {
        claims++;
        return new Promise<never[]>((resolve) => (answerClaim = resolve));
      },
    } as unknown as typeof h.components.repos.jobs;
    const worker = new OutboxWorker({ jobs, handlers: [{ type: defineJobType(kind, z.object({})), handle: async () => ({ status: 'succeeded' }) }], clock: h.clock, logger: createLogger({ level: 'silent' }), retryPolicy: DEFAULT_RETRY_POLICY, pollIntervalMs: 60_000, batchSize: 2 });
    worker.start();
    await eventually(async () => claims === 1, 15_000, 'the first poll’s claim out');
    // Both slots may be filled by the claim: none to lend.
    expect(worker.leaseSlot(kind)).toBeUndefined();
    answerClaim([]);
    (await eventually(async () => worker.leaseSlot(kind), 15_000, 'a slot lent once the claim came back empty')).giveBack();
    await worker.stop();
  });

  it('runs a job written under a lease and frees its slot when the run ends; a lease that ran out first is not run here', async () => {
    const kind = `test.run-leased-${Date.now()}`;
    const ran: string[] = [];
    const worker = new OutboxWorker({ jobs: h.components.repos.jobs, handlers: [{ type: defineJobType(kind, z.object({})), handle: async (job) => (ran.push(job.id), { status: 'succeeded' }) }], clock: h.clock, logger: createLogger({ level: 'silent' }), retryPolicy: DEFAULT_RETRY_POLICY, pollIntervalMs: 60_000, batchSize: 1, leaseMs: 60_000 });
    worker.start();
    try {
      // A job as a transaction would write it under the lease: claimed with the lease's token.
      const writeUnder = async (lease: { token: string; now: Date; until: Date }) => {
        const queued = await enqueueJob(h.components.repos.jobs, defineJobType(kind, z.object({})), {}, { dedupeKey: `test:run-leased:${lease.token}`, runAt: lease.now });
        return (await h.components.repos.jobs.claimOne(queued.id, lease.now, lease.until, lease.token))!;
      };
      const lease = worker.leaseSlot(kind)!;
      const job = await writeUnder(lease);
      lease.run(job);
      await eventually(async () => (await h.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status === 'SUCCEEDED', 10_000, 'the job run');
      expect(ran).toEqual([job.id]);
      // Its slot (the only one) is free again once the run ended.
      const late = await eventually(async () => worker.leaseSlot(kind), 15_000, 'the slot freed');
      const lateJob = await writeUnder(late);
      // The transaction that wrote it committed only after its lease had run out.
      h.clock.advance(61_000);
      try {
        late.run(lateJob);
      } finally {
        h.clock.advance(-61_000);
      }
      expect(ran).toEqual([job.id]);
      expect(await h.prisma.job.findUniqueOrThrow({ where: { id: lateJob.id } })).toMatchObject({ status: 'RUNNING', lockToken: late.token });
      // Its slot is free again (once any poll the freed slot set off has claimed nothing).
      (await eventually(async () => worker.leaseSlot(kind), 15_000, 'the late lease’s slot freed')).giveBack();
    } finally {
      await worker.stop();
    }
  });

  it('writes the job queued when every slot is taken, and the worker claims it as soon as a slot frees, not at its next poll', async () => {
    // Every free slot taken, as by transactions still open.
    const held: Array<NonNullable<ReturnType<typeof h.components.worker.leaseSlot>>> = [];
    for (let lease = h.components.worker.leaseSlot(MUTATIONS); lease; lease = h.components.worker.leaseSlot(MUTATIONS)) held.push(lease);
    expect(held.length).toBeGreaterThan(0);
    try {
      const wakeUps = wokenFor(MUTATIONS);
      const { session, redirectUrl } = await startCheckout(h, shop, { amount: '15.00' });
      await payOnFlexPage(redirectUrl, 'hsa_fsa');
      await eventually(async () => (await paymentOf(session.id)).status === 'RESOLVED', 10_000, 'the decision');
      expect(await resolveJobOf(session.id)).toMatchObject({ status: 'QUEUED', attempts: 0 });
      expect(wokenFor(MUTATIONS)).toBe(wakeUps + 1);
      held.pop()!.giveBack();
      await eventually(async () => (await paymentOf(session.id)).shopifyState === 'RESOLVED', 10_000, 'resolve, once a slot was free');
    } finally {
      for (const lease of held) lease.giveBack();
    }
  });

  it('writes the job queued, and wakes the worker at the commit, when the worker takes no lease (stopped)', async () => {
    await h.components.worker.stop();
    try {
      const wakeUps = wokenFor(MUTATIONS);
      const { session, redirectUrl } = await startCheckout(h, shop, { amount: '14.00' });
      await payOnFlexPage(redirectUrl, 'hsa_fsa');
      await eventually(async () => (await paymentOf(session.id)).status === 'RESOLVED', 10_000, 'the decision');
      expect(await resolveJobOf(session.id)).toMatchObject({ status: 'QUEUED', attempts: 0, lockToken: null });
      expect(wokenFor(MUTATIONS)).toBe(wakeUps + 1);
      h.components.worker.start();
      // Started, the worker claims it at once (its first poll).
      await eventually(async () => (await paymentOf(session.id)).shopifyState === 'RESOLVED', 10_000, 'resolve');
    } finally {
      h.components.worker.start();
    }
  });
});
