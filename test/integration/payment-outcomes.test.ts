import { eventually, Harness, useHarness } from '../support/harness';
import { payAndReturn, payOnFlexPage, returnToStoreLink, startCheckout, visit } from '../support/buyer';

/**
 * A Shopify payment session travels through a Flex checkout and comes back resolved, rejected or
 * pending, over real HTTP between the Shopify simulator, the app and the Flex sandbox.
 */
describe('payment outcomes', () => {
  const { h, shop } = useHarness();

  const paymentOf = async (shopifyId: string) => {
    const row = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId } });
    return row;
  };
  const eventTypes = async (paymentSessionId: string) =>
    (await h.timelineOf(paymentSessionId)).map((e) => e.type);

  it('a sale: Flex checkout paid with an HSA/FSA card resolves the Shopify session and sends the buyer on', async () => {
    const { session, redirectUrl, checkoutId } = await startCheckout(h, shop, { amount: '123.45', kind: 'sale' });

    // What Flex was asked for: the exact amount, our references, an idempotency key from the session id.
    const checkout = h.flex.checkoutSession(checkoutId) as Record<string, any>;
    expect(checkout.amount_total).toBe(12345);
    expect(checkout.client_reference_id).toBe(session.id);
    expect(checkout.metadata).toMatchObject({ shopify_shop_domain: shop.domain, shopify_payment_session_gid: session.gid });
    expect(checkout.test_mode).toBe(false);
    expect(checkout.capture_method).toBe('automatic');
    expect(checkout.success_url).toContain(`${h.appUrl}/payments/return/`);
    const create = h.flex.requests.find((r) => r.method === 'POST' && r.path === '/v1/checkout/sessions');
    expect(create?.idempotencyKey).toBe(`shopify-payment-session:${shop.domain}:${session.id}`);

    const { appAnswer } = await payAndReturn(redirectUrl, 'hsa_fsa');
    expect(appAnswer.status).toBe(303);
    expect(appAnswer.location).toContain(`/checkouts/${encodeURIComponent(session.group)}/thank-you`);

    const shopifySession = h.shopify.paymentSession(session.id);
    expect(shopifySession?.status).toBe('resolved');
    const payment = await paymentOf(session.id);
    expect(payment).toMatchObject({ status: 'RESOLVED', shopifyState: 'RESOLVED', amountMinor: 12345n, flexCheckoutSessionId: checkoutId });
    expect(await eventTypes(payment.id)).toEqual(
      expect.arrayContaining(['shopify_session_received', 'flex_checkout_created', 'buyer_returned', 'decided_resolve', 'shopify_acknowledged']),
    );
  });

  it('reuses the catch-all product and the price for an amount already seen', async () => {
    const first = await startCheckout(h, shop, { amount: '42.00' });
    const second = await startCheckout(h, shop, { amount: '42.00' });
    const priceOf = async (id: string) => {
      const res = await fetch(`${h.flex.url}/v1/checkout/sessions/${id}/line_items`, { headers: { Authorization: `Bearer ${shop.liveKey}` } });
      const { line_items: items } = (await res.json()) as { line_items: Array<{ price: { price_id: string; unit_amount: number } }> };
      expect(items).toHaveLength(1);
      expect(items[0]!.price.unit_amount).toBe(4200);
      return items[0]!.price.price_id;
    };
    expect(await priceOf(first.checkoutId)).toBe(await priceOf(second.checkoutId));
    const products = h.flex.requests.filter((r) => r.method === 'POST' && r.path === '/v1/products' && r.status === 200);
    expect(products.length).toBeLessThanOrEqual(1);
  });

  it('an authorization: Flex holds the money and Shopify learns when the hold expires', async () => {
    const { session, redirectUrl, checkoutId } = await startCheckout(h, shop, { amount: '80.00', kind: 'authorization' });
    expect((h.flex.checkoutSession(checkoutId) as Record<string, any>).capture_method).toBe('manual');

    const { appAnswer } = await payAndReturn(redirectUrl, 'hsa_fsa');
    expect(appAnswer.status).toBe(303);

    const intents = h.flex.paymentIntents({ checkoutSessionId: checkoutId }) as Array<Record<string, any>>;
    expect(intents.every((pi) => pi.status === 'requires_capture')).toBe(true);
    const flexExpiry = Math.min(...intents.map((pi) => Date.parse(pi.authorization_expires_at) / 1000));

    const payment = await paymentOf(session.id);
    expect(payment.status).toBe('RESOLVED');
    expect(payment.authorizationExpiresAt?.getTime()).toBe(flexExpiry * 1000);
    const resolve = h.shopify.mutations.find((m) => m.name === 'paymentSessionResolve' && (m.variables as any).id === session.gid);
    expect((resolve?.variables as any).authorizationExpiresAt).toBe(new Date(flexExpiry * 1000).toISOString());
  });

  it('a split cart: HSA/FSA card and a regular card pay one order', async () => {
    const { session, redirectUrl, checkoutId } = await startCheckout(h, shop, { amount: '100.00' });
    const { appAnswer } = await payAndReturn(redirectUrl, 'split', { hsa_fsa_amount: '6000' });
    expect(appAnswer.status).toBe(303);
    const intents = h.flex.paymentIntents({ checkoutSessionId: checkoutId }) as Array<Record<string, any>>;
    expect(intents).toHaveLength(2);
    expect(intents.map((pi) => pi.amount).sort((a, b) => a - b)).toEqual([4000, 6000]);
    expect(h.shopify.paymentSession(session.id)?.status).toBe('resolved');
    expect(h.shopify.mutations.filter((m) => (m.variables as any).id === session.gid && m.name === 'paymentSessionResolve')).toHaveLength(1);
  });

  it('a decline rejects the Shopify session with a reason code of our API version', async () => {
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '55.00' });
    const declined = await payOnFlexPage(redirectUrl, 'decline', { decline_code: 'insufficient_funds' });
    expect(declined.status).toBe(200);
    const back = await visit(returnToStoreLink(declined.body));
    expect(back.status).toBe(303);

    const shopifySession = await eventually(async () => {
      const s = h.shopify.paymentSession(session.id);
      return s?.status === 'rejected' ? s : undefined;
    }, 10_000, 'rejection');
    expect(shopifySession.status).toBe('rejected');
    const reject = h.shopify.mutations.find((m) => m.name === 'paymentSessionReject' && (m.variables as any).id === session.gid);
    expect((reject?.variables as any).reason).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect((reject?.variables as any).reason.merchantMessage).toMatch(/declined/);
    // Back to Shopify's checkout, which shows the error.
    expect(back.location).toContain(`/checkouts/${encodeURIComponent(session.group)}`);
    expect((await paymentOf(session.id)).status).toBe('REJECTED');
  });

  it('an abandoned checkout is not rejected: the buyer goes back to Shopify and pays again in the same group', async () => {
    const first = await startCheckout(h, shop, { amount: '31.00' });
    const left = await payOnFlexPage(first.redirectUrl, 'abandon');
    expect(left.status).toBe(303);
    const back = await visit(left.location!);
    expect(back.status).toBe(303);
    expect(back.location).toBe((first.session.requestBody as any).payment_method.data.cancel_url);
    expect(h.shopify.mutations.filter((m) => (m.variables as any).id === first.session.gid)).toHaveLength(0);
    expect((await paymentOf(first.session.id)).status).toBe('CHECKOUT_CREATED');

    const retry = await startCheckout(h, shop, { amount: '31.00', group: first.session.group });
    const { appAnswer } = await payAndReturn(retry.redirectUrl, 'hsa_fsa');
    expect(appAnswer.status).toBe(303);
    expect(h.shopify.paymentSession(retry.session.id)?.status).toBe('resolved');
    expect(h.shopify.paymentSession(first.session.id)?.status).not.toBe('rejected');
  });

  it('the success URL alone makes no order: no pending, the buyer is shown a way back to pay', async () => {
    const { session, redirectUrl } = await startCheckout(h, shop, { amount: '27.00' });
    const payment = await paymentOf(session.id);
    const opened = await visit(`${h.appUrl}/payments/return/${payment.id}?checkout_session=${payment.flexCheckoutSessionId}`);
    expect(opened.status).toBe(200);
    expect(opened.body).toContain('Waiting for your payment');
    expect(opened.body).toContain(redirectUrl.replace(/&/g, '&amp;'));
    expect(opened.body).toContain((session.requestBody as any).payment_method.data.cancel_url.replace(/&/g, '&amp;'));
    expect(h.shopify.mutations.filter((m) => (m.variables as any).id === session.gid)).toHaveLength(0);
    expect(await h.prisma.job.count({ where: { subjectId: payment.id } })).toBe(0);
    expect((await paymentOf(session.id)).status).toBe('CHECKOUT_CREATED');

    // The buyer then pays: the same page now sends them on to Shopify's thank-you page.
    const { appAnswer } = await payAndReturn(redirectUrl, 'hsa_fsa');
    expect(appAnswer.status).toBe(303);
    expect(h.shopify.paymentSession(session.id)?.status).toBe('resolved');
  });

  it('a payment Flex has not finished is reported pending, then resolved when Flex completes it', async () => {
    const { session, redirectUrl, checkoutId } = await startCheckout(h, shop, { amount: '64.00' });
    const { appAnswer } = await payAndReturn(redirectUrl, 'processing');
    expect(appAnswer.status).toBe(303);
    expect(appAnswer.location).toContain(`/checkouts/${encodeURIComponent(session.group)}/processing`);
    expect(h.shopify.paymentSession(session.id)?.status).toBe('pending');
    const pending = h.shopify.mutations.find((m) => m.name === 'paymentSessionPending' && (m.variables as any).id === session.gid);
    expect((pending?.variables as any).reason).toBe('PARTNER_ACTION_REQUIRED');

    h.flex.completeProcessing(checkoutId);
    const payment = await eventually(async () => {
      const row = await paymentOf(session.id);
      return row.shopifyState === 'RESOLVED' ? row : undefined;
    }, 10_000, 'resolve after processing');
    expect(h.shopify.paymentSession(session.id)?.status).toBe('resolved');
    expect(payment.status).toBe('RESOLVED');
    // The webhook, or the reconciler that checks pending sessions, whichever saw it first.
    expect(['FLEX_WEBHOOK', 'RECONCILER']).toContain(payment.decisionSource);
  });

  it('webhook before redirect: the webhook resolves, the buyer’s return changes nothing', async () => {
    const { session, redirectUrl, checkoutId } = await startCheckout(h, shop, { amount: '12.00' });
    const flexAnswer = await payOnFlexPage(redirectUrl, 'hsa_fsa');
    await eventually(async () => h.shopify.paymentSession(session.id)?.status === 'resolved', 10_000, 'webhook resolve');
    const back = await visit(flexAnswer.location!);
    expect(back.status).toBe(303);
    expect(back.location).toContain('/thank-you');
    const payment = await paymentOf(session.id);
    expect(payment.decisionSource).toBe('FLEX_WEBHOOK');
    expect(h.shopify.mutations.filter((m) => (m.variables as any).id === session.gid)).toHaveLength(1);
    expect(checkoutId).toBe(payment.flexCheckoutSessionId);
  });

  it('redirect before webhook: the buyer’s return resolves, the late webhook changes nothing', async () => {
    // The webhook's first delivery is lost and sent again after the buyer is back: "late" however slow
    // the machine is.
    h.flex.faults.dropWebhooks({ eventType: 'checkout.session.completed', times: 1 });
    try {
      const { session, redirectUrl } = await startCheckout(h, shop, { amount: '13.00' });
      const { appAnswer } = await payAndReturn(redirectUrl, 'hsa_fsa');
      expect(appAnswer.status).toBe(303);
      const payment = await paymentOf(session.id);
      expect(payment.decisionSource).toBe('BUYER_RETURN');
      const completed = h.flex.events({ type: 'checkout.session.completed' }).find((e) => (e.payload as any).object?.checkout_session?.checkout_session_id === payment.flexCheckoutSessionId);
      expect(completed).toBeDefined();
      // The drop hit this payment's event, not another's.
      expect(h.flex.deliveries.filter((d) => d.eventId === completed!.eventId).map((d) => d.dropped)).toEqual([true]);
      expect(h.flex.redeliver(completed!.eventId)).toHaveLength(1);

      const delivery = await eventually(async () => {
        const row = await h.prisma.flexWebhookDelivery.findFirst({
          where: { eventType: 'checkout.session.completed', payload: { path: ['object', 'checkout_session', 'checkout_session_id'], equals: payment.flexCheckoutSessionId! } },
        });
        return row ?? undefined;
      }, 10_000, 'late webhook');
      expect(delivery.outcome).toBe('already_decided');
      expect(h.shopify.mutations.filter((m) => (m.variables as any).id === session.gid)).toHaveLength(1);
      expect((await paymentOf(session.id)).decisionSource).toBe('BUYER_RETURN');
    } finally {
      h.flex.faults.reset();
    }
  });

  it('accepts the other spelling of the completed event', async () => {
    const other = await Harness.start({ flexOptions: { checkoutSessionCompletedEventName: 'checkout_session.completed' } });
    try {
      const otherShop = await other.registerShop();
      const { session, redirectUrl } = await startCheckout(other, otherShop, { amount: '9.00' });
      await payOnFlexPage(redirectUrl, 'hsa_fsa');
      await eventually(async () => other.shopify.paymentSession(session.id)?.status === 'resolved', 10_000, 'resolve from checkout_session.completed');
      const row = await other.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: session.id } });
      expect(row.decisionSource).toBe('FLEX_WEBHOOK');
    } finally {
      await other.stop();
    }
  });

  it('a test-mode session goes to the shop’s Flex test account', async () => {
    const { checkoutId } = await startCheckout(h, shop, { amount: '5.00', test: true });
    expect((h.flex.checkoutSession(checkoutId) as Record<string, any>).test_mode).toBe(true);
    const create = h.flex.requests.filter((r) => r.method === 'POST' && r.path === '/v1/checkout/sessions').pop();
    expect(create?.mode).toBe('test');
  });
});
