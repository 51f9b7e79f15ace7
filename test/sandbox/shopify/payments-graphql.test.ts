// The Payments Apps GraphQL API: authentication, versions, validation, the mutation rules, waiting
// for the app, and injected faults.
import type { ShopifySimulator } from '../../../sandbox/shopify';
import { CAPTURE_REJECT, PENDING, REFUND_REJECT, REFUND_RESOLVE, REJECT, RESOLVE, type SimulatorEnv, VOID_RESOLVE, inDays, useShopifySimulator } from './helpers';

const env = useShopifySimulator();
let shopify: ShopifySimulator;
let shop: SimulatorEnv['shop'];
beforeAll(() => {
  ({ shopify, shop } = env);
});
const gql: SimulatorEnv['gql'] = (...args) => env.gql(...args);

describe('GraphQL authentication and versions', () => {
  const INVALID = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };

  it('answers 401 without a valid token, 404 for an unsupported version', async () => {
    expect(await gql(undefined, '{ publicApiVersions { handle } }')).toMatchObject({ status: 401, body: INVALID });
    expect(await gql('shpat_nope', '{ publicApiVersions { handle } }')).toMatchObject({ status: 401, body: INVALID });
    expect((await gql(shop.accessToken, '{ publicApiVersions { handle } }', undefined, { version: '2023-01' })).status).toBe(404);
    const versions = await gql(shop.accessToken, '{ publicApiVersions { handle supported } }');
    expect(versions.body.data.publicApiVersions.map((v: { handle: string }) => v.handle)).toEqual(
      expect.arrayContaining(['2025-10', '2026-01', '2026-04', '2026-07', '2026-10']),
    );
  });

  it('refuses a token used for another shop when the URL names the shop', async () => {
    const url = `${shopify.url}/payments_apps/api/2026-10/graphql.json`;
    const call = (shopParam: string) =>
      fetch(`${url}?shop=${shopParam}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': shop.accessToken },
        body: JSON.stringify({ query: '{ publicApiVersions { handle } }' }),
      });
    expect((await call('demo.myshopify.com')).status).toBe(200);
    expect((await call('other.myshopify.com')).status).toBe(401);
    expect(shopify.mutations.at(-1)).toMatchObject({ shop: null, name: 'publicApiVersions', httpStatus: 401, failed: true });
  });

  it('rejects revoked tokens', async () => {
    const other = shopify.createShop('revoked.myshopify.com');
    expect((await gql(other.accessToken, '{ publicApiVersions { handle } }')).status).toBe(200);
    shopify.revokeToken(other.accessToken);
    expect((await gql(other.accessToken, '{ publicApiVersions { handle } }')).status).toBe(401);
  });

  it('answers syntax and validation errors with HTTP 200 and top-level errors', async () => {
    const syntax = await gql(shop.accessToken, 'mutation { paymentSessionResolve(id: ');
    expect(syntax.status).toBe(200);
    expect(syntax.body.errors[0].message).toMatch(/Syntax Error/);
    const unknown = await gql(shop.accessToken, 'mutation { paymentSessionFrobnicate(id: "x") { userErrors { message } } }');
    expect(unknown.status).toBe(200);
    expect(unknown.body.data).toBeUndefined();
    expect(unknown.body.errors[0].message).toMatch(/paymentSessionFrobnicate/);
    // The two `reason` fields have different enum types, so GraphQL's field-merging rule forbids
    // selecting both under one response name: alias one of them.
    const clash = await gql(
      shop.accessToken,
      `mutation { paymentSessionResolve(id: "x") { paymentSession { state {
        ... on PaymentSessionStateRejected { reason } ... on PaymentSessionStatePending { reason } } } userErrors { message } } }`,
    );
    expect(clash.body.errors[0].message).toMatch(/conflict/);
    const viaInterface = await gql(
      shop.accessToken,
      'mutation { paymentSessionResolve(id: "x") { paymentSession { state { ... on PaymentSessionState { code } } } userErrors { message } } }',
    );
    expect(viaInterface.body.errors).toBeUndefined();
    const badDate = await gql(shop.accessToken, PENDING, { id: 'gid://shopify/PaymentSession/x', pendingExpiresAt: 'tomorrow', reason: 'BUYER_ACTION_REQUIRED' });
    expect(badDate.body.errors[0].message).toMatch(/DateTime/);
  });

  it.each([
    ['2026-04', 'INSUFFICIENT_FUNDS', false],
    ['2026-07', 'INSUFFICIENT_FUNDS', true],
    ['2025-10', 'PROCESSING_ERROR', true],
    ['2026-10', 'CARD_TESTING', true],
  ])('in %s the rejection reason %s is valid: %s', async (version, code, valid) => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '5.00' });
    const res = await gql(shop.accessToken, REJECT, { id: session.gid, reason: { code, merchantMessage: 'no' } }, { version });
    expect(res.status).toBe(200);
    if (valid) {
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.paymentSessionReject.paymentSession.state).toMatchObject({ code: 'REJECTED', reason: code });
    } else {
      expect(res.body.errors[0].message).toMatch(/INSUFFICIENT_FUNDS/);
      expect(shopify.paymentSession(session.id)!.status).toBe('redirecting');
    }
  });

  it('knows reason.source from 2026-04 and MERCHANT_ACTION_REQUIRED from 2025-07', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '5.00' });
    const reason = { code: 'PROCESSING_ERROR', source: 'PROVIDER' };
    expect((await gql(shop.accessToken, REJECT, { id: session.gid, reason }, { version: '2026-01' })).body.errors).toBeDefined();
    const ok = await gql(shop.accessToken, REJECT, { id: session.gid, reason }, { version: '2026-04' });
    expect(ok.body.data.paymentSessionReject.userErrors).toEqual([]);
    expect(shopify.paymentSession(session.id)!.rejection).toMatchObject({ code: 'PROCESSING_ERROR', source: 'PROVIDER' });

    const pending = await shopify.sendPaymentSession(shop.domain, { amount: '5.00' });
    const vars = { id: pending.session.gid, pendingExpiresAt: inDays(1), reason: 'MERCHANT_ACTION_REQUIRED' };
    expect((await gql(shop.accessToken, PENDING, vars, { version: '2025-04' })).body.errors).toBeDefined();
    expect((await gql(shop.accessToken, PENDING, vars, { version: '2025-07' })).body.data.paymentSessionPending.userErrors).toEqual([]);
  });
});

describe('payment session mutation rules', () => {
  it('first finalizing mutation wins; repeats are idempotent; conflicts are user errors', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '20.00', kind: 'authorization' });
    const expiresAt = '2030-01-01T00:00:00Z';
    const first = await gql(shop.accessToken, RESOLVE, { id: session.gid, authorizationExpiresAt: expiresAt });
    const payload = first.body.data.paymentSessionResolve;
    expect(payload.userErrors).toEqual([]);
    expect(payload.paymentSession).toEqual({
      id: session.gid,
      state: { __typename: 'PaymentSessionStateResolved', code: 'RESOLVED' },
      nextAction: {
        action: 'REDIRECT',
        context: {
          redirectUrl: `${shopify.url}/checkouts/${encodeURIComponent(session.group)}/thank-you?payment_session=${session.id}`,
        },
      },
      authorizationExpiresAt: expiresAt,
      pendingExpiresAt: null,
    });

    const repeat = await gql(shop.accessToken, RESOLVE, { id: session.gid });
    expect(repeat.body.data.paymentSessionResolve).toEqual(payload);

    const conflict = await gql(shop.accessToken, REJECT, { id: session.gid, reason: { code: 'PROCESSING_ERROR' } });
    expect(conflict.body.data.paymentSessionReject.userErrors).toEqual([
      { field: ['id'], message: 'The payment session has already been resolved' },
    ]);
    expect(conflict.body.data.paymentSessionReject.paymentSession.state.code).toBe('RESOLVED');
    expect(shopify.paymentSession(session.id)).toMatchObject({ status: 'resolved', authorizationExpiresAt: expiresAt });

    const record = shopify.mutations.at(-1)!;
    expect(record).toMatchObject({ shop: shop.domain, version: '2026-10', name: 'paymentSessionReject', httpStatus: 200, failed: false });
    expect(record.userErrors).toHaveLength(1);
    expect(record.variables).toEqual({ id: session.gid, reason: { code: 'PROCESSING_ERROR' } });
  });

  it('rejects: a repeated reject succeeds with the first reason; resolve after reject conflicts', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '20.00' });
    const first = await gql(shop.accessToken, REJECT, { id: session.gid, reason: { code: 'CARD_DECLINED', merchantMessage: 'declined' } });
    const payload = first.body.data.paymentSessionReject;
    expect(payload.paymentSession.state).toEqual({
      __typename: 'PaymentSessionStateRejected',
      code: 'REJECTED',
      reason: 'CARD_DECLINED',
      merchantMessage: 'declined',
    });
    expect(payload.paymentSession.nextAction.context.redirectUrl).toBe(
      `${shopify.url}/checkouts/${encodeURIComponent(session.group)}?payment_error=CARD_DECLINED`,
    );
    // Shopify: "Subsequent paymentSessionReject mutation attempts will succeed, but the
    // RejectionReasonInput argument will be ignored."
    const same = await gql(shop.accessToken, REJECT, { id: session.gid, reason: { code: 'CARD_DECLINED', merchantMessage: 'again' } });
    expect(same.body.data.paymentSessionReject).toEqual(payload);
    const other = await gql(shop.accessToken, REJECT, { id: session.gid, reason: { code: 'PROCESSING_ERROR' } });
    expect(other.body.data.paymentSessionReject).toEqual(payload);
    const resolve = await gql(shop.accessToken, RESOLVE, { id: session.gid });
    expect(resolve.body.data.paymentSessionResolve.userErrors).toEqual([
      { field: ['id'], message: 'The payment session has already been rejected' },
    ]);
    expect(resolve.body.data.paymentSessionResolve.paymentSession.state.code).toBe('REJECTED');
    expect(shopify.paymentSession(session.id)!.rejection).toMatchObject({ code: 'CARD_DECLINED', merchantMessage: 'declined' });
  });

  it('pending: expiry must be in the future and within 3 days, only before a final state', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '20.00' });
    const pend = (pendingExpiresAt: string) =>
      gql(shop.accessToken, PENDING, { id: session.gid, pendingExpiresAt, reason: 'PARTNER_ACTION_REQUIRED' });

    const past = await pend(inDays(-0.01));
    expect(past.body.data.paymentSessionPending.userErrors).toEqual([
      { field: ['pendingExpiresAt'], message: expect.any(String), code: 'EXPIRED_PENDING_EXPIRES_AT' },
    ]);
    expect(past.body.data.paymentSessionPending.paymentSession.state.code).toBe('REDIRECTING');
    const far = await pend(inDays(3.1));
    expect(far.body.data.paymentSessionPending.userErrors[0].code).toBe('OUT_OF_RANGE_PENDING_EXPIRES_AT');

    const expiresAt = inDays(2);
    const ok = await pend(expiresAt);
    const payload = ok.body.data.paymentSessionPending;
    expect(payload.userErrors).toEqual([]);
    expect(payload.paymentSession.state).toEqual({
      __typename: 'PaymentSessionStatePending',
      code: 'PENDING',
      pendingReason: 'PARTNER_ACTION_REQUIRED',
    });
    expect(payload.paymentSession.pendingExpiresAt).toBe(expiresAt.replace(/\.\d{3}Z$/, 'Z'));
    expect(payload.paymentSession.nextAction.context.redirectUrl).toBe(
      `${shopify.url}/checkouts/${encodeURIComponent(session.group)}/processing?payment_session=${session.id}`,
    );

    const resolved = await gql(shop.accessToken, RESOLVE, { id: session.gid });
    expect(resolved.body.data.paymentSessionResolve.userErrors).toEqual([]);
    const late = await pend(inDays(1));
    expect(late.body.data.paymentSessionPending.userErrors[0].code).toBe('PENDING_INVALID_STATE');
    expect(late.body.data.paymentSessionPending.paymentSession.state.code).toBe('RESOLVED');
  });

  it('NOT_FOUND for sessions never sent, and for sessions of another shop', async () => {
    const unknown = await gql(shop.accessToken, RESOLVE, { id: 'gid://shopify/PaymentSession/doesnotexist' });
    expect(unknown.body.data.paymentSessionResolve).toEqual({
      paymentSession: null,
      userErrors: [{ field: ['id'], message: 'The payment session could not be found' }],
    });
    const pendingUnknown = await gql(shop.accessToken, PENDING, {
      id: 'gid://shopify/PaymentSession/doesnotexist',
      pendingExpiresAt: inDays(1),
      reason: 'BUYER_ACTION_REQUIRED',
    });
    expect(pendingUnknown.body.data.paymentSessionPending.userErrors[0].code).toBe('NOT_FOUND');

    const otherShop = shopify.createShop('other.myshopify.com');
    const { session } = await shopify.sendPaymentSession(otherShop.domain, { amount: '9.00' });
    const cross = await gql(shop.accessToken, RESOLVE, { id: session.gid });
    expect(cross.body.data.paymentSessionResolve.paymentSession).toBeNull();
    expect(shopify.paymentSession(session.id)!.status).toBe('redirecting');
    const own = await gql(otherShop.accessToken, RESOLVE, { id: session.gid });
    expect(own.body.data.paymentSessionResolve.userErrors).toEqual([]);
  });

  it('refund, capture and void sessions: first wins, typed user error codes', async () => {
    const payment = await shopify.sendPaymentSession(shop.domain, { amount: '40.00', kind: 'authorization' });
    const refund = (await shopify.sendRefundSession(shop.domain, { paymentId: payment.session.id })).session;
    const resolved = await gql(shop.accessToken, REFUND_RESOLVE, { id: refund.gid });
    expect(resolved.body.data.refundSessionResolve).toEqual({
      refundSession: { id: refund.gid, state: { code: 'RESOLVED' } },
      userErrors: [],
    });
    expect((await gql(shop.accessToken, REFUND_RESOLVE, { id: refund.gid })).body.data.refundSessionResolve.userErrors).toEqual([]);
    const conflict = await gql(shop.accessToken, REFUND_REJECT, { id: refund.gid, reason: { code: 'PROCESSING_ERROR' } });
    expect(conflict.body.data.refundSessionReject.userErrors[0].code).toBe('REFUND_SESSION_INVALID_STATE');
    expect(conflict.body.data.refundSessionReject.refundSession.state.code).toBe('RESOLVED');
    const missing = await gql(shop.accessToken, REFUND_RESOLVE, { id: 'gid://shopify/RefundSession/nope' });
    const refund2 = (await shopify.sendRefundSession(shop.domain, { paymentId: payment.session.id, amount: '1.00' })).session;
    const rejected2 = await gql(shop.accessToken, REFUND_REJECT, { id: refund2.gid, reason: { code: 'PROCESSING_ERROR', merchantMessage: 'x' } });
    expect(rejected2.body.data.refundSessionReject.refundSession.state).toEqual({ code: 'REJECTED', reason: 'PROCESSING_ERROR', merchantMessage: 'x' });
    const rejectedAgain = await gql(shop.accessToken, REFUND_REJECT, { id: refund2.gid, reason: { code: 'PROCESSING_ERROR' } });
    expect(rejectedAgain.body.data.refundSessionReject.userErrors).toEqual([]);
    const resolveAfterReject = await gql(shop.accessToken, REFUND_RESOLVE, { id: refund2.gid });
    expect(resolveAfterReject.body.data.refundSessionResolve.userErrors[0].code).toBe('REFUND_SESSION_INVALID_STATE');
    expect(missing.body.data.refundSessionResolve.userErrors[0].code).toBe('REFUND_SESSION_NOT_FOUND');
    // A payment gid is not a refund session.
    const wrongType = await gql(shop.accessToken, REFUND_RESOLVE, { id: payment.session.gid });
    expect(wrongType.body.data.refundSessionResolve.userErrors[0].code).toBe('REFUND_SESSION_NOT_FOUND');

    const capture = (await shopify.sendCaptureSession(shop.domain, { paymentId: payment.session.id })).session;
    const rejected = await gql(shop.accessToken, CAPTURE_REJECT, {
      id: capture.gid,
      reason: { code: 'AUTHORIZATION_EXPIRED', merchantMessage: 'too late' },
    });
    expect(rejected.body.data.captureSessionReject.captureSession.state).toEqual({
      code: 'REJECTED',
      reason: 'AUTHORIZATION_EXPIRED',
      merchantMessage: 'too late',
    });
    expect(shopify.captureSessions().find((c) => c.id === capture.id)!.status).toBe('rejected');

    const voided = (await shopify.sendVoidSession(shop.domain, { paymentId: payment.session.id })).session;
    const voidOk = await gql(shop.accessToken, VOID_RESOLVE, { id: voided.gid });
    expect(voidOk.body.data.voidSessionResolve.voidSession.state.code).toBe('RESOLVED');
    await expect(shopify.waitForFollowUpSession(voided.id, { timeoutMs: 100 })).resolves.toMatchObject({ status: 'resolved' });
  });

  it('paymentsAppConfigure is stored per shop and shown in admin', async () => {
    const res = await gql(
      shop.accessToken,
      'mutation { paymentsAppConfigure(ready: true, externalHandle: "acct_demo") { paymentsAppConfiguration { externalHandle ready } userErrors { field message } } }',
    );
    expect(res.body.data.paymentsAppConfigure).toEqual({
      paymentsAppConfiguration: { externalHandle: 'acct_demo', ready: true },
      userErrors: [],
    });
    expect(shopify.paymentsAppConfiguration(shop.domain)).toMatchObject({ ready: true, externalHandle: 'acct_demo' });
    expect(shopify.paymentsAppConfiguration('other.myshopify.com')).toBeNull();
    const admin = await (await fetch(`${shopify.url}/admin?shop=${shop.domain}`)).text();
    expect(admin).toContain('acct_demo');
    expect(admin).toContain('/admin/apps/open?shop=demo.myshopify.com');
  });

  it('records the arguments of inline-literal mutations', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '1.00' });
    await gql(shop.accessToken, `mutation { paymentSessionResolve(id: "${session.gid}") { userErrors { message } } }`);
    expect(shopify.mutations.at(-1)).toMatchObject({ name: 'paymentSessionResolve', args: { id: session.gid }, variables: null });
  });
});

describe('waiting for the app', () => {
  it('waitForPaymentSession and waitForMutation resolve when the app calls back', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '4.00' });
    const waiting = shopify.waitForPaymentSession(session.id, { timeoutMs: 2000 });
    const mutation = shopify.waitForMutation((m) => m.name === 'paymentSessionResolve' && m.args?.id === session.gid);
    setTimeout(() => void gql(shop.accessToken, RESOLVE, { id: session.gid }), 20);
    await expect(waiting).resolves.toMatchObject({ id: session.id, status: 'resolved' });
    await expect(mutation).resolves.toMatchObject({ httpStatus: 200, userErrors: [] });
    await expect(shopify.waitForPaymentSession('never-sent', { timeoutMs: 50 })).rejects.toThrow(/Timed out/);
  });
});

describe('faults', () => {
  it('5xx: error status, no state change, the retry succeeds', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '3.00' });
    shopify.faults.failNext({ mutation: 'paymentSessionResolve', status: 502 });
    // Another mutation does not consume it.
    expect((await gql(shop.accessToken, '{ publicApiVersions { handle } }')).status).toBe(200);
    const failed = await gql(shop.accessToken, RESOLVE, { id: session.gid });
    expect(failed.status).toBe(502);
    expect(shopify.paymentSession(session.id)!.status).toBe('redirecting');
    expect(shopify.mutations.at(-1)).toMatchObject({ fault: 502, failed: true, httpStatus: 502, name: 'paymentSessionResolve' });
    expect((await gql(shop.accessToken, RESOLVE, { id: session.gid })).body.data.paymentSessionResolve.userErrors).toEqual([]);
  });

  it('429 with Retry-After, times: 2', async () => {
    shopify.faults.failNext({ status: 429, times: 2, retryAfterSeconds: 3 });
    for (let i = 0; i < 2; i++) {
      const res = await gql(shop.accessToken, '{ publicApiVersions { handle } }');
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBe(3);
    }
    expect((await gql(shop.accessToken, '{ publicApiVersions { handle } }')).status).toBe(200);
  });

  it('throttled: HTTP 200 with a THROTTLED error and cost extensions', async () => {
    shopify.faults.failNext({ status: 'throttled' });
    const res = await gql(shop.accessToken, '{ publicApiVersions { handle } }');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
      extensions: {
        cost: {
          requestedQueryCost: 10,
          actualQueryCost: null,
          throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 0, restoreRate: 50 },
        },
      },
    });
  });

  it('timeout: the request is held until the client gives up', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '3.00' });
    shopify.faults.failNext({ mutation: 'paymentSessionResolve', status: 'timeout' });
    await expect(gql(shop.accessToken, RESOLVE, { id: session.gid }, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    expect(shopify.paymentSession(session.id)!.status).toBe('redirecting');
    expect(shopify.mutations.at(-1)).toMatchObject({ fault: 'timeout', httpStatus: null });
    expect((await gql(shop.accessToken, RESOLVE, { id: session.gid })).status).toBe(200);
  });

  it('timeout: a held request dropped by the test ends without an answer, and a retry goes through', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '4.00' });
    shopify.faults.failNext({ mutation: 'paymentSessionResolve', status: 'timeout' });
    const held = gql(shop.accessToken, RESOLVE, { id: session.gid });
    await shopify.waitForMutation((m) => m.fault === 'timeout' && (m.variables as { id?: string }).id === session.gid);
    expect(shopify.dropHeldRequests()).toBe(1);
    await expect(held).rejects.toThrow();
    expect(shopify.dropHeldRequests()).toBe(0);
    expect(shopify.paymentSession(session.id)!.status).toBe('redirecting');
    expect((await gql(shop.accessToken, RESOLVE, { id: session.gid })).status).toBe(200);
    expect(shopify.paymentSession(session.id)!.status).toBe('resolved');
  });
});
