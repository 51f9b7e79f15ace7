// Webhook delivery: Svix signatures, retries, subscriptions, redelivery.
import { FlexSandbox } from '../../../sandbox/flex';
import { FlexTestBed, verifySvix, type Json } from './helpers';

const t = new FlexTestBed();
const { call, makeShop, createSession } = t;

describe('webhook delivery', () => {
  it('retries a failing receiver on the schedule, with the same svix-id and body', async () => {
    const shop = await makeShop();
    let calls = 0;
    t.receiver.respond = () => (++calls < 3 ? 500 : 200);
    const session = await createSession(shop, { line_items: [{ price: shop.plainPrice, quantity: 1 }] });
    t.flex.faults.dropWebhooks({ eventType: 'payment_intent.succeeded' });
    t.flex.pay(session.checkout_session_id, 'hsa_fsa');
    await t.flex.waitForDeliveries();

    const attempts = t.receiver.ofType('checkout.session.completed');
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.headers['svix-id'])).size).toBe(1);
    expect(new Set(attempts.map((a) => a.raw)).size).toBe(1);
    expect(attempts[2].at - attempts[0].at).toBeGreaterThanOrEqual(100);
    for (const a of attempts) expect(verifySvix(a.raw, a.headers, shop.secret)).toBe(true);

    const record = t.flex.deliveries.find((d) => d.svixId === attempts[0].headers['svix-id'])!;
    expect(record).toMatchObject({ eventType: 'checkout.session.completed', delivered: true, done: true, url: t.receiver.url });
    expect(record.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    const dropped = t.flex.deliveries.find((d) => d.eventType === 'payment_intent.succeeded' && d.dropped);
    expect(dropped?.attempts).toEqual([]);
  });

  it('counts a slow receiver as failed, gives up after the schedule, and can redeliver', async () => {
    const shop = await makeShop();
    t.receiver.respond = () => 'hang';
    const session = await createSession(shop);
    t.flex.pay(session.checkout_session_id, 'hsa_fsa');
    await t.flex.waitForDeliveries();
    const failed = t.flex.deliveries.filter((d) => d.url === t.receiver.url && d.eventType === 'checkout.session.completed').at(-1)!;
    expect(failed.delivered).toBe(false);
    expect(failed.attempts.map((a) => a.error)).toEqual(Array(3).fill('timeout after 300 ms'));

    t.receiver.respond = () => 204;
    t.receiver.received.length = 0;
    const again = t.flex.redeliver(failed.eventId);
    expect(again).toHaveLength(1);
    await t.flex.waitForDeliveries();
    expect(again[0].delivered).toBe(true);
    expect(t.receiver.received[0].headers['svix-id']).toBe(failed.svixId);
    expect(verifySvix(t.receiver.received[0].raw, t.receiver.received[0].headers, shop.secret)).toBe(true);
  });

  it('sends only subscribed events, to endpoints of the same account and mode', async () => {
    const shop = await makeShop({ webhook: false });
    const hook = await call(shop.key, 'POST', '/v1/webhooks', { webhook: { url: t.receiver.url, events: ['checkout.session.completed'] } });
    expect(hook.body.webhook).toMatchObject({ url: t.receiver.url, events: ['checkout.session.completed'], test_mode: true });
    expect(hook.body.webhook.webhook_id).toEqual(expect.any(String));
    expect(Buffer.from(hook.body.webhook.signing_secret.replace(/^fwhsec_/, ''), 'base64')).toHaveLength(32);
    // A live endpoint of the same account must not receive test events.
    await call(shop.account.liveKey, 'POST', '/v1/webhooks', { webhook: { url: `${t.receiver.url}?live`, events: ['*'] } });
    const session = await createSession(shop);
    t.flex.pay(session.checkout_session_id, 'split');
    await t.flex.waitForDeliveries();
    expect(t.receiver.received.map((r) => r.body.event_type)).toEqual(['checkout.session.completed']);
    expect(await call(shop.key, 'GET', '/v1/webhooks')).toMatchObject({ status: 200, body: { webhooks: [{ webhook_id: hook.body.webhook.webhook_id }] } });
    expect((await call(shop.key, 'DELETE', `/v1/webhooks/${hook.body.webhook.webhook_id}`)).status).toBe(200);
    expect((await call(shop.key, 'GET', '/v1/webhooks')).body.webhooks).toEqual([]);
  });

  it('signs every attempt afresh (new timestamp), also in the unbranded webhook-* headers', async () => {
    const other = await new FlexSandbox({ webhookRetryDelaysMs: [0, 1100], webhookHeaders: 'both' }).start();
    try {
      const account = other.createAccount();
      const headers = { authorization: `Bearer ${account.testKey}`, 'content-type': 'application/json' };
      const post = (path: string, body: Json) =>
        fetch(`${other.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) }).then((r) => r.json() as Promise<Json>);
      const hook = await post('/v1/webhooks', { webhook: { url: t.receiver.url, events: ['checkout.session.completed'] } });
      const product = await post('/v1/products', { product: { name: 'Bandages' } });
      const price = await post('/v1/prices', { price: { product: product.product.product_id, unit_amount: 999 } });
      const session = await post('/v1/checkout/sessions', {
        checkout_session: { line_items: [{ price: price.price.price_id, quantity: 1 }], success_url: 'https://shop.example/ok' },
      });
      let calls = 0;
      t.receiver.respond = () => (++calls === 1 ? 503 : 200);
      other.pay(session.checkout_session.checkout_session_id, 'hsa_fsa');
      await other.waitForDeliveries();
      const [first, second] = t.receiver.received;
      expect(t.receiver.received).toHaveLength(2);
      expect(second.headers['svix-id']).toBe(first.headers['svix-id']);
      expect(Number(second.headers['svix-timestamp'])).toBeGreaterThan(Number(first.headers['svix-timestamp']));
      expect(second.headers['svix-signature']).not.toBe(first.headers['svix-signature']);
      for (const r of [first, second]) {
        expect(verifySvix(r.raw, r.headers, hook.webhook.signing_secret)).toBe(true);
        expect([r.headers['webhook-id'], r.headers['webhook-timestamp'], r.headers['webhook-signature']]).toEqual([
          r.headers['svix-id'],
          r.headers['svix-timestamp'],
          r.headers['svix-signature'],
        ]);
      }
    } finally {
      await other.stop();
    }
  });

  it('re-sends an event through POST /v1/events/:id/retry', async () => {
    const shop = await makeShop();
    const session = await createSession(shop);
    t.flex.pay(session.checkout_session_id, 'hsa_fsa');
    await t.flex.waitForDeliveries();
    const event = t.receiver.ofType('checkout.session.completed')[0];
    t.receiver.received.length = 0;
    const webhookId = (await call(shop.key, 'GET', '/v1/webhooks')).body.webhooks[0].webhook_id;
    const retry = await call(shop.key, 'POST', `/v1/events/${event.body.event_id}/retry`, { event: { webhook_id: webhookId } });
    expect(retry).toMatchObject({ status: 200, body: { event: { event_id: event.body.event_id, event_type: 'checkout.session.completed' } } });
    await t.flex.waitForDeliveries();
    expect(t.receiver.received.map((r) => r.headers['svix-id'])).toEqual([event.headers['svix-id']]);
    expect(t.receiver.received[0].raw).toBe(event.raw);
    const other = t.flex.createAccount();
    expect((await call(other.testKey, 'POST', `/v1/events/${event.body.event_id}/retry`, {})).status).toBe(404);
  });

  it('uses the configured spelling of the completed event', async () => {
    const other = await new FlexSandbox({ checkoutSessionCompletedEventName: 'checkout_session.completed', webhookRetryDelaysMs: [0] }).start();
    try {
      const account = other.createAccount();
      const post = (path: string, body: Json) =>
        fetch(`${other.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${account.testKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then((r) => r.json() as Promise<Json>);
      await post('/v1/webhooks', { webhook: { url: t.receiver.url, events: ['checkout.session.completed'] } });
      const product = await post('/v1/products', { product: { name: 'Bandages' } });
      const price = await post('/v1/prices', { price: { product: product.product.product_id, unit_amount: 999 } });
      const session = await post('/v1/checkout/sessions', {
        checkout_session: { line_items: [{ price: price.price.price_id, quantity: 1 }], success_url: 'https://shop.example/ok' },
      });
      other.pay(session.checkout_session.checkout_session_id, 'hsa_fsa');
      await other.waitForDeliveries();
      expect(t.receiver.received.map((r) => r.body.event_type)).toEqual(['checkout_session.completed']);
    } finally {
      await other.stop();
    }
  });
});
