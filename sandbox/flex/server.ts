import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import * as catalog from './catalog';
import type { Query } from './catalog';
import * as checkout from './checkout';
import { PAY_OUTCOMES, type PayOutcomeType } from './checkout';
import { renderCheckoutPage, renderClosedPage, renderDeclinedPage, renderLeftPage } from './checkout-page';
import type { FlexCore } from './core';
import { renderDashboard } from './dashboard';
import { ApiError, errorBody, FlexSandboxError } from './errors';
import { checkEligibility } from './eligibility';
import { escapeHtml } from './html';
import type { Faults, InjectedFault } from './faults';
import type { IdempotencyOutcome, IdempotencyStore } from './idempotency';
import type { FlexSandbox, RequestRecord } from './index';
import * as payouts from './payouts';
import { webhookWire } from './serialize';
import * as settlement from './settlement';
import { REFUND_FINAL_STATUSES, type RefundFinalStatus, type Scope, type Wire } from './types';
import { isRecord } from './validate';
import * as webhooks from './webhooks';
import type { WebhookDispatcher } from './webhooks';

export interface ServerDeps {
  sandbox: FlexSandbox;
  core: FlexCore;
  faults: Faults;
  idempotency: IdempotencyStore;
  dispatcher: WebhookDispatcher;
  record(request: RequestRecord): void;
}

interface ApiCall {
  scope: Scope;
  params: Record<string, string>;
  query: Query;
  body: unknown;
}

type ApiHandler = (call: ApiCall) => Wire;

const MUTATING = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

/** Express 5's simple query parser gives strings or arrays; Flex takes one value per name. */
function flatQuery(req: Request): Query {
  const out: Query = {};
  for (const [key, value] of Object.entries(req.query as Record<string, unknown>)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[key] = first;
  }
  return out;
}

function parseJson(raw: unknown): { ok: true; value: unknown } | { ok: false } {
  if (!Buffer.isBuffer(raw)) return { ok: true, value: undefined };
  const text = raw.toString('utf8');
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

export function createApp(deps: ServerDeps): express.Express {
  const { sandbox, core, faults, idempotency, dispatcher } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // ---- the Flex API (/v1) ----------------------------------------------------------------------

  /**
   * Everything a real API does around an endpoint, in order: auth, the rate limit, body parsing,
   * injected faults ("before"), the idempotency key, injected latency, the work, storing the result
   * under the key, injected faults ("after"), and the answer. Every call is recorded in `flex.requests`.
   */
  const api =
    (handler: ApiHandler): RequestHandler =>
    async (req, res) => {
      const key = MUTATING.has(req.method) ? req.get('idempotency-key') : undefined;
      // Routes live on a router mounted at /v1; faults, keys and records use the full path.
      const path = req.baseUrl + req.path;
      const record: RequestRecord = {
        at: core.clock.iso(),
        method: req.method,
        path,
        route: typeof req.route?.path === 'string' ? req.baseUrl + req.route.path : null,
        mode: null,
        accountId: null,
        idempotencyKey: key ?? null,
        status: null,
        replayed: false,
        fault: null,
        rateLimited: false,
      };
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        record.status = status;
        deps.record(record);
        res.status(status).set(headers).json(body);
      };
      const injected = (fault: InjectedFault): void => {
        record.fault = fault.hang ? 'hang' : fault.when;
        if (fault.hang) {
          // Leave the request open; stop() destroys the socket.
          deps.record(record);
          return;
        }
        answer(fault.status, fault.body, fault.status === 429 || fault.status === 503 ? { 'Retry-After': '1' } : {});
      };

      const token = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
      const scope = token === undefined ? undefined : core.state.authenticate(token);
      if (!scope) return answer(401, errorBody('unauthorized', 'Invalid API key'));
      record.mode = scope.testMode ? 'test' : 'live';
      record.accountId = scope.accountId;

      // Over the limit nothing else happens: no work, no idempotency key, no fault rule used up.
      const allowed = faults.takeToken(scope);
      if (!allowed.ok) {
        record.rateLimited = true;
        return answer(
          429,
          errorBody('rate_limited', `Too many requests for this account and mode; retry after ${allowed.retryAfterSeconds} s`),
          { 'Retry-After': String(allowed.retryAfterSeconds) },
        );
      }

      const parsed = MUTATING.has(req.method) ? parseJson(req.body) : { ok: true as const, value: undefined };
      if (!parsed.ok) return answer(400, errorBody('invalid_json', 'The request body is not valid JSON'));

      const fault = faults.take(req.method, path);
      // A hang "before" is a request that never reached Flex: its idempotency key stays free.
      if (fault?.when === 'before') return injected(fault);

      let slot: Extract<IdempotencyOutcome, { kind: 'new' }> | undefined;
      if (key !== undefined) {
        if (key.length === 0 || key.length > 255) {
          return answer(400, errorBody('invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 characters'));
        }
        const outcome = idempotency.begin(scope, key, { method: req.method, path, body: parsed.value });
        if (outcome.kind === 'conflict') return answer(outcome.response.status, outcome.response.body);
        if (outcome.kind === 'replay') {
          record.replayed = true;
          return answer(outcome.response.status, outcome.response.body, { 'Idempotent-Replayed': 'true' });
        }
        slot = outcome;
      }

      const latency = faults.latencyMs();
      if (latency > 0) await core.timers.sleep(latency);

      let result: { status: number; body: unknown; storable: boolean };
      try {
        const body = handler({ scope, params: req.params as Record<string, string>, query: flatQuery(req), body: parsed.value });
        result = { status: 200, body, storable: true };
      } catch (err) {
        if (!(err instanceof ApiError)) {
          slot?.release();
          throw err;
        }
        result = { status: err.status, body: err.body, storable: err.storable };
      }
      if (slot) {
        if (result.storable) slot.complete({ status: result.status, body: result.body });
        else slot.release();
      }
      if (fault?.when === 'after') return injected(fault);
      answer(result.status, result.body);
    };

  const v1 = express.Router();
  v1.use(express.raw({ type: () => true, limit: '1mb' }));

  v1.post('/products', api(({ scope, body }) => catalog.createProduct(core, scope, body)));
  v1.get('/products', api(({ scope, query }) => catalog.listProducts(core, scope, query)));
  v1.get('/products/:id', api(({ scope, params }) => catalog.getProduct(core, scope, params.id)));
  v1.patch('/products/:id', api(({ scope, params, body }) => catalog.updateProduct(core, scope, params.id, body)));

  v1.post('/prices', api(({ scope, body }) => catalog.createPrice(core, scope, body)));
  v1.get('/prices', api(({ scope, query }) => catalog.listPrices(core, scope, query)));
  v1.get('/prices/:id', api(({ scope, params, query }) => catalog.getPrice(core, scope, params.id, query)));
  v1.post('/prices/:id', api(({ scope, params, body }) => catalog.updatePrice(core, scope, params.id, body)));

  const cs = '/checkout/sessions';
  v1.post(cs, api(({ scope, body }) => checkout.createCheckoutSession(core, scope, body)));
  v1.get(cs, api(({ scope, query }) => checkout.listCheckoutSessions(core, scope, query)));
  v1.get(`${cs}/:id`, api(({ scope, params, query }) => checkout.getCheckoutSession(core, scope, params.id, query)));
  v1.get(`${cs}/:id/line_items`, api(({ scope, params }) => checkout.getLineItems(core, scope, params.id)));
  v1.post(`${cs}/:id/capture`, api(({ scope, params, body }) => settlement.capture(core, scope, params.id, body)));
  v1.post(`${cs}/:id/capture_allocation`, api(({ scope, params, body }) => settlement.capture(core, scope, params.id, body, true)));
  v1.post(`${cs}/:id/cancel`, api(({ scope, params }) => settlement.cancel(core, scope, params.id)));
  v1.post(`${cs}/:id/refund`, api(({ scope, params, body }) => settlement.refund(core, scope, params.id, body)));
  v1.post(`${cs}/:id/refund_allocation`, api(({ scope, params, body }) => settlement.refund(core, scope, params.id, body, true)));

  v1.get('/payment_intents', api(({ scope, query }) => checkout.listPaymentIntents(core, scope, query)));
  v1.get('/payment_intents/:id', api(({ scope, params }) => checkout.getPaymentIntent(core, scope, params.id)));
  v1.get('/captures', api(({ scope, query }) => settlement.listCaptures(core, scope, query)));
  v1.get('/captures/:id', api(({ scope, params }) => settlement.getCapture(core, scope, params.id)));
  v1.get('/refunds', api(({ scope, query }) => settlement.listRefunds(core, scope, query)));
  v1.get('/refunds/:id', api(({ scope, params }) => settlement.getRefund(core, scope, params.id)));

  v1.get('/payouts', api(({ scope, query }) => payouts.listPayouts(core, scope, query)));
  v1.get('/payouts/:id', api(({ scope, params }) => payouts.getPayout(core, scope, params.id)));
  v1.get('/balance_transactions', api(({ scope, query }) => payouts.listBalanceTransactions(core, scope, query)));

  const { state, clock } = core;
  v1.post('/webhooks', api(({ scope, body }) => webhooks.createWebhook(state, clock, scope, body)));
  v1.get('/webhooks', api(({ scope }) => ({ webhooks: state.list(state.webhooks, scope).map(webhookWire) })));
  v1.get('/webhooks/:id', api(({ scope, params }) => ({ webhook: webhookWire(state.find(state.webhooks, scope, params.id)) })));
  v1.post('/webhooks/:id', api(({ scope, params, body }) => webhooks.updateWebhook(state, scope, params.id, body)));
  v1.delete('/webhooks/:id', api(({ scope, params }) => webhooks.deleteWebhook(state, scope, params.id)));
  v1.post(
    '/events/:id/retry',
    api(({ scope, params, body }) => {
      const event = state.find(state.events, scope, params.id);
      const inner = isRecord(body) && isRecord(body.event) ? body.event : {};
      const webhookId = typeof inner.webhook_id === 'string' ? inner.webhook_id : undefined;
      if (webhookId !== undefined) state.find(state.webhooks, scope, webhookId);
      dispatcher.redeliver(event.id, webhookId);
      return { event: webhooks.eventWire(event) };
    }),
  );

  // FastAPI's answer for a path it has no route for.
  v1.use((req, res) => {
    deps.record({
      at: core.clock.iso(),
      method: req.method,
      path: req.baseUrl + req.path,
      route: null,
      mode: null,
      accountId: null,
      idempotencyKey: null,
      status: 404,
      replayed: false,
      fault: null,
      rateLimited: false,
    });
    res.status(404).json({ detail: 'Not Found' });
  });
  app.use('/v1', v1);

  // ---- the hosted checkout page -----------------------------------------------------------------

  const shopName = (accountId: string): string => core.state.accounts.get(accountId)?.name ?? 'Store';
  const page = (res: Response, status: number, html: string): void => {
    res.status(status).type('html').send(html);
  };
  const findSession = (id: string) => {
    try {
      return core.sessionById(id);
    } catch {
      return undefined;
    }
  };
  const notFoundPage = '<!doctype html><title>Not found</title><p>No such checkout session.</p>';

  app.get('/pay/c/:id', (req, res) => {
    const session = findSession(req.params.id);
    if (!session) return page(res, 404, notFoundPage);
    const payable = session.status === 'open' && !session.processing;
    page(res, 200, payable ? renderCheckoutPage(session, shopName(session.accountId)) : renderClosedPage(session, shopName(session.accountId)));
  });

  app.post('/pay/c/:id', express.urlencoded({ extended: false, limit: '16kb' }), (req, res) => {
    const session = findSession(req.params.id);
    if (!session) return page(res, 404, notFoundPage);
    const form = isRecord(req.body) ? req.body : {};
    const type = form.outcome;
    if (typeof type !== 'string' || !(PAY_OUTCOMES as readonly string[]).includes(type)) {
      return page(res, 400, `<!doctype html><title>Bad request</title><p>Unknown outcome. Use one of ${PAY_OUTCOMES.join(', ')}.</p>`);
    }
    if (session.status !== 'open' || session.processing) {
      return page(res, 409, renderClosedPage(session, shopName(session.accountId)));
    }
    const declineCode = typeof form.decline_code === 'string' && form.decline_code !== '' ? form.decline_code : undefined;
    const hsaFsaAmount = typeof form.hsa_fsa_amount === 'string' && form.hsa_fsa_amount !== '' ? Number(form.hsa_fsa_amount) : undefined;
    let redirectTo: string | null;
    try {
      redirectTo = sandbox.pay(session.id, { type: type as PayOutcomeType, declineCode, hsaFsaAmount }).redirectTo;
    } catch (err) {
      if (!(err instanceof FlexSandboxError)) throw err;
      return page(res, err.status, `<!doctype html><title>Error</title><p>${escapeHtml(err.message)}</p>`);
    }
    if (type === 'decline') return page(res, 200, renderDeclinedPage(session, shopName(session.accountId), declineCode ?? 'insufficient_funds'));
    if (redirectTo) return res.redirect(303, redirectTo);
    page(res, 200, renderLeftPage(session, shopName(session.accountId)));
  });

  // ---- the control API (/__sandbox) -------------------------------------------------------------

  const control =
    (handler: (req: Request) => unknown): RequestHandler =>
    async (req, res) => {
      try {
        res.json((await handler(req)) ?? { ok: true });
      } catch (err) {
        if (err instanceof FlexSandboxError) return void res.status(err.status).json(errorBody(err.code, err.message));
        if (err instanceof ApiError) return void res.status(err.status).json(err.body);
        if (err instanceof RangeError || err instanceof TypeError) {
          return void res.status(400).json(errorBody('invalid_request', err.message));
        }
        throw err;
      }
    };
  const body = (req: Request): Record<string, unknown> => (isRecord(req.body) ? req.body : {});
  const optionalString = (value: unknown, name: string): string | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
    return value;
  };
  const optionalNumber = (value: unknown, name: string): number | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number') throw new TypeError(`${name} must be a number`);
    return value;
  };
  const dashboard: RequestHandler = (_req, res) => {
    res.type('html').send(renderDashboard(core, dispatcher.deliveries, faults.settings));
  };

  const ctl = express.Router();
  ctl.use(express.json({ limit: '1mb' }));
  ctl.get('/', dashboard);
  ctl.get('/state', control(() => sandbox.summary()));
  ctl.get('/accounts', control(() => ({ accounts: sandbox.accounts() })));
  ctl.post(
    '/accounts',
    control((req) => {
      const b = body(req);
      return sandbox.createAccount({
        name: optionalString(b.name, 'name'),
        accountId: optionalString(b.accountId, 'accountId'),
        liveKey: optionalString(b.liveKey, 'liveKey'),
        testKey: optionalString(b.testKey, 'testKey'),
      });
    }),
  );
  ctl.post('/keys/revoke', control((req) => sandbox.revokeKey(String(optionalString(body(req).key, 'key')))));

  ctl.get(
    '/checkout-sessions',
    control((req) => {
      const q = flatQuery(req);
      return {
        checkout_sessions: sandbox.checkoutSessions({
          accountId: q.accountId,
          clientReferenceId: q.clientReferenceId,
          testMode: q.testMode === undefined ? undefined : q.testMode === 'true',
        }),
      };
    }),
  );
  ctl.get('/checkout-sessions/:id', control((req) => ({ checkout_session: sandbox.checkoutSession(String(req.params.id)) })));
  ctl.post(
    '/checkout-sessions/:id/pay',
    control((req) => {
      const b = body(req);
      const type = optionalString(b.type ?? b.outcome, 'type');
      if (type === undefined) throw new TypeError(`type is required: one of ${PAY_OUTCOMES.join(', ')}`);
      return sandbox.pay(String(req.params.id), {
        type: type as PayOutcomeType,
        hsaFsaAmount: optionalNumber(b.hsaFsaAmount, 'hsaFsaAmount'),
        declineCode: optionalString(b.declineCode, 'declineCode'),
      });
    }),
  );
  ctl.post(
    '/checkout-sessions/:id/complete-processing',
    control((req) => {
      const b = body(req);
      const result = optionalString(b.result, 'result');
      if (result !== undefined && result !== 'succeeded' && result !== 'declined') {
        throw new TypeError("result must be 'succeeded' or 'declined'");
      }
      return {
        checkout_session: sandbox.completeProcessing(String(req.params.id), { result, declineCode: optionalString(b.declineCode, 'declineCode') }),
      };
    }),
  );
  ctl.post('/checkout-sessions/:id/expire', control((req) => ({ checkout_session: sandbox.expireCheckoutSession(String(req.params.id)) })));

  ctl.get('/refunds', control((req) => ({ refunds: sandbox.refunds({ checkoutSessionId: flatQuery(req).checkoutSessionId }) })));
  ctl.post(
    '/refunds/:id/settle',
    control((req) => {
      const status = optionalString(body(req).status, 'status') ?? 'succeeded';
      if (!(REFUND_FINAL_STATUSES as readonly string[]).includes(status)) {
        throw new TypeError(`status must be one of ${REFUND_FINAL_STATUSES.join(', ')}`);
      }
      return { refund: sandbox.settleRefund(String(req.params.id), status as RefundFinalStatus) };
    }),
  );
  ctl.post(
    '/refund-behaviour',
    control((req) => {
      const behaviour = optionalString(body(req).behaviour, 'behaviour');
      if (behaviour !== 'auto_succeed' && behaviour !== 'auto_fail' && behaviour !== 'manual') {
        throw new TypeError("behaviour must be 'auto_succeed', 'auto_fail' or 'manual'");
      }
      sandbox.setRefundBehaviour(behaviour);
      return { behaviour };
    }),
  );

  ctl.get('/clock', control(() => ({ now: sandbox.now(), iso: core.clock.iso() })));
  ctl.post(
    '/clock/advance',
    control((req) => {
      const seconds = optionalNumber(body(req).seconds, 'seconds');
      if (seconds === undefined) throw new TypeError('seconds is required');
      return { now: sandbox.advanceClock(seconds), iso: core.clock.iso() };
    }),
  );

  ctl.get('/faults', control(() => sandbox.faults.settings));
  ctl.post('/faults', control((req) => sandbox.faults.set(body(req))));
  ctl.post(
    '/faults/fail-next',
    control((req) => {
      const b = body(req);
      const pathRegex = optionalString(b.pathRegex, 'pathRegex');
      const when = optionalString(b.when, 'when');
      sandbox.faults.failNext({
        method: optionalString(b.method, 'method'),
        path: pathRegex !== undefined ? new RegExp(pathRegex) : optionalString(b.path, 'path'),
        status: optionalNumber(b.status, 'status'),
        when: when as 'before' | 'after' | undefined,
        hang: b.hang === true,
        times: optionalNumber(b.times, 'times'),
        body: b.body,
      });
    }),
  );
  ctl.post(
    '/faults/drop-webhooks',
    control((req) => {
      const b = body(req);
      sandbox.faults.dropWebhooks({ eventType: optionalString(b.eventType, 'eventType'), times: optionalNumber(b.times, 'times') });
    }),
  );
  ctl.post('/faults/reset', control(() => sandbox.faults.reset()));

  // The catalog: the eligibility registry.
  ctl.get('/eligibility', control(() => ({ eligibility: sandbox.productEligibility() })));
  ctl.post(
    '/eligibility',
    control((req) => {
      const b = body(req);
      const match = {
        gtin: optionalString(b.gtin, 'gtin'),
        upc: optionalString(b.upc, 'upc'),
        name: optionalString(b.name, 'name'),
      };
      return { products: sandbox.setProductEligibility(match, checkEligibility(b.eligibility), optionalString(b.rationale, 'rationale')) };
    }),
  );
  ctl.post('/eligibility/clear', control(() => ({ products: sandbox.clearProductEligibility() })));

  // Money after the buyer.
  const ownerFilter = (req: Request): { accountId?: string; testMode?: boolean } => {
    const q = flatQuery(req);
    return { accountId: q.accountId, testMode: q.testMode === undefined ? undefined : q.testMode === 'true' };
  };
  ctl.get('/fees', control(() => sandbox.feeSchedule));
  ctl.post('/fees', control((req) => sandbox.setFeeSchedule(body(req))));
  ctl.get('/payout-schedule', control(() => sandbox.payoutSchedule));
  ctl.post('/payout-schedule', control((req) => sandbox.setPayoutSchedule(body(req))));
  ctl.get('/payouts', control((req) => ({ payouts: sandbox.payouts(ownerFilter(req)) })));
  ctl.post(
    '/payouts/run',
    control((req) => {
      const b = body(req);
      const testMode = b.testMode;
      if (testMode !== undefined && typeof testMode !== 'boolean') throw new TypeError('testMode must be a boolean');
      return { payouts: sandbox.runPayouts({ accountId: optionalString(b.accountId, 'accountId'), testMode }) };
    }),
  );
  ctl.get(
    '/balance-transactions',
    control((req) => {
      const q = flatQuery(req);
      return {
        balance_transactions: sandbox.balanceTransactions({ ...ownerFilter(req), payoutId: q.payoutId, checkoutSessionId: q.checkoutSessionId, type: q.type }),
      };
    }),
  );
  ctl.post(
    '/adjustments',
    control((req) => {
      const b = body(req);
      const accountId = optionalString(b.accountId, 'accountId');
      const amount = optionalNumber(b.amount, 'amount');
      if (accountId === undefined || amount === undefined) throw new TypeError('accountId and amount are required');
      if (b.testMode !== undefined && typeof b.testMode !== 'boolean') throw new TypeError('testMode must be a boolean');
      if (b.metadata !== undefined && !isRecord(b.metadata)) throw new TypeError('metadata must be an object of strings');
      return {
        balance_transaction: sandbox.addAdjustment({
          accountId,
          testMode: b.testMode as boolean | undefined,
          amount,
          disputeFee: optionalNumber(b.disputeFee, 'disputeFee'),
          reportingCategory: optionalString(b.reportingCategory, 'reportingCategory'),
          description: optionalString(b.description, 'description'),
          checkoutSessionId: optionalString(b.checkoutSessionId, 'checkoutSessionId'),
          metadata: b.metadata as Record<string, string> | undefined,
        }),
      };
    }),
  );

  ctl.get('/webhooks', control(() => ({ webhooks: sandbox.webhookEndpoints() })));
  ctl.get('/events', control((req) => ({ events: sandbox.events({ type: flatQuery(req).type }) })));
  ctl.post(
    '/events/:id/redeliver',
    control((req) => ({ deliveries: sandbox.redeliver(String(req.params.id), { webhookId: optionalString(body(req).webhookId, 'webhookId') }) })),
  );
  ctl.get('/requests', control(() => ({ requests: sandbox.requests })));
  ctl.get('/deliveries', control(() => ({ deliveries: sandbox.deliveries })));
  ctl.post('/records/clear', control(() => sandbox.clearRecords()));
  app.use('/__sandbox', ctl);
  app.get('/', dashboard);

  // Body parser failures (malformed JSON on the control API, oversized bodies) and bugs.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = isRecord(err) && typeof err.status === 'number' ? err.status : 500;
    if (status === 400) return void res.status(400).json(errorBody('invalid_json', 'The request body is not valid JSON'));
    if (status < 500) return void res.status(status).json(errorBody('invalid_request', String((err as Error).message)));
    console.error('Flex sandbox: unexpected error', err);
    res.status(500).json({ detail: 'Internal Server Error' });
  });
  return app;
}
