import { createHmac, randomBytes } from 'node:crypto';
import { PgCountingProxy } from '../../bench/lib/pg-counting-proxy';
import { SecretBox } from '../../src/lib/secret-box';
import { secretContexts } from '../../src/lib/secret-contexts';
import { payOnFlexPage, startCheckout } from '../support/buyer';
import { postgresServer, throughProxy, useHarness } from '../support/harness';

/**
 * A payment's Flex webhook as the database sees it, through a proxy that reads the PostgreSQL protocol
 * between the app and the server (PostgreSQL only: the embedded database has no wire to read). What it
 * costs: the shop's connection (its signing secret) is read for the first of the shop's webhooks and
 * kept (flex/webhooks/connection-cache.ts), so the next ones start with the transaction that records
 * them. And what a secret replaced at the worst moment does: the proxy holds the answer to the
 * connection's read while the test replaces it.
 */
const onPostgres = process.env.TEST_DATABASE === 'embedded' ? describe.skip : describe;

onPostgres('the statements of a payment’s Flex webhook', () => {
  let proxy: PgCountingProxy;
  const { h, shop } = useHarness(async () => {
    const server = postgresServer();
    proxy = await PgCountingProxy.start(server.host, server.port);
    // Kept for the whole file, however slow the machine (connection-cache.ts).
    return { routeDatabase: throughProxy(() => proxy.port), tuning: { flexWebhookConnectionTtlMs: 30 * 60_000 } };
  });
  afterAll(() => proxy?.stop());
  afterEach(() => {
    // A hold no statement matched would act at a random moment in a later test.
    const left = proxy.pendingHolds;
    proxy.dropHolds();
    expect(left).toBe(0);
  });

  /**
   * Reads of a shop with its Flex connection (FlexConnectionRepository.findWithShop) since the last
   * reset: the Flex webhook's, and a session request's only when its insert found no connected shop.
   */
  const CONNECTION_READ = 'SELECT s.id AS shop_row_id, s.domain AS shop_row_domain, s.status AS shop_row_status, c.*';
  const connectionReads = () => [...proxy.statements].filter(([sql]) => sql.startsWith(CONNECTION_READ)).reduce((n, [, count]) => n + count, 0);

  async function paidByWebhook(amount: string): Promise<void> {
    const { session, redirectUrl } = await startCheckout(h, shop, { amount });
    // The buyer never comes back: Flex's webhook decides the payment.
    expect((await payOnFlexPage(redirectUrl, 'hsa_fsa')).status).toBe(303);
    expect((await h.shopify.waitForPaymentSession(session.id, { timeoutMs: 20_000 })).status).toBe('resolved');
    expect(await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: session.id } })).toMatchObject({ decisionSource: 'FLEX_WEBHOOK' });
  }

  it('reads the shop’s connection for its first webhook only: the next are verified with the kept secret', async () => {
    // A new app process keeps nothing yet.
    await h.app.stop();
    await h.startApp();
    proxy.resetStatements();
    await paidByWebhook('31.00');
    expect(connectionReads()).toBe(1);

    proxy.resetStatements();
    await paidByWebhook('32.00');
    await paidByWebhook('33.00');
    expect(connectionReads()).toBe(0);
  });

  it('a signing secret replaced between its read and the delivery’s record: nothing recorded, 503, and the next delivery is applied', async () => {
    // The statement that records a delivery checks that the secret which verified it is still the stored
    // one (insertFlexDeliverySql). Here it is not, twice: first with nothing kept, then after a start-over
    // from a kept secret. Either way the app writes nothing and asks Flex to deliver again.
    const shopRow = await h.prisma.shop.findUniqueOrThrow({ where: { domain: shop.domain } });
    const connection = await h.prisma.flexConnection.findFirstOrThrow({ where: { shopId: shopRow.id, mode: 'LIVE' } });
    const endpoint = (h.flex.webhookEndpoints({ accountId: shop.flexAccountId }) as Array<Record<string, any>>).find((e) => e.webhook_id === connection.webhookEndpointId);
    const secret = endpoint!.signing_secret as string;
    /** The stored secret re-encrypted, as `secrets:rotate` does with the same keys: the same secret, another ciphertext. */
    const reencrypt = async (): Promise<void> => {
      const box = new SecretBox(h.config.encryptionKeys);
      const context = secretContexts.flexWebhookSecret(shopRow.id, 'LIVE');
      const { webhookSecretCiphertext } = await h.prisma.flexConnection.findUniqueOrThrow({ where: { id: connection.id } });
      await h.prisma.flexConnection.update({ where: { id: connection.id }, data: { webhookSecretCiphertext: box.encrypt(box.decrypt(webhookSecretCiphertext!, context), context) } });
    };
    let deliveries = 0;
    /** Flex's delivery of `body`, signed with the endpoint's secret (the stored one throughout). */
    const deliver = async (body: string, id = `msg_race_${++deliveries}_${randomBytes(4).toString('hex')}`) => {
      const now = Math.floor(Date.now() / 1000);
      const key = Buffer.from(secret.slice(secret.indexOf('_') + 1), 'base64');
      const signature = `v1,${createHmac('sha256', key).update(`${id}.${now}.${body}`).digest('base64')}`;
      const res = await fetch(`${h.appUrl}/webhooks/flex?shop=${shop.domain}&mode=live`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'svix-id': id, 'svix-timestamp': String(now), 'svix-signature': signature },
        body,
      });
      return { status: res.status, body: (await res.json()) as Record<string, any>, id };
    };
    /** An open checkout's completed event, as Flex would send it, and what the app has of its payment. */
    const completedCheckout = async (amount: string) => {
      const { session, checkoutId } = await startCheckout(h, shop, { amount });
      const checkout = { ...(h.flex.checkoutSession(checkoutId) as Record<string, any>), status: 'complete' };
      const body = JSON.stringify({ event_id: `evt_${randomBytes(6).toString('hex')}`, event_type: 'checkout.session.completed', event_dt: Math.floor(Date.now() / 1000), object: { checkout_session: checkout } });
      const state = async () => {
        const row = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: session.id } });
        return { status: row.status, decidedAt: row.decidedAt, events: await h.prisma.paymentEvent.count({ where: { paymentSessionId: row.id, type: 'flex_webhook' } }), jobs: await h.prisma.job.count({ where: { subjectId: row.id } }) };
      };
      return { body, state };
    };
    const startOvers = () => h.logs.filter((line) => line.includes('trying again with the stored connection') && line.includes(shop.domain)).length;
    const secretChanged = { status: 503, body: { error: { code: 'signing_secret_changed' } } };
    /** `body` delivered while the stored connection's read is held and the secret re-encrypted meanwhile. */
    const deliverWhileReplaced = async (body: string) => {
      // No delivery of the sandbox's own may take the hold (the checkouts' events are all delivered).
      await h.flex.waitForDeliveries();
      const held = proxy.holdAnswerTo(CONNECTION_READ, reencrypt);
      const answer = await deliver(body);
      // Checked before waiting on the hold: a delivery that never read the connection fails here, not by a timeout.
      expect(answer).toMatchObject(secretChanged);
      expect(await held).toBe(true);
      expect(await h.prisma.flexWebhookDelivery.count({ where: { deliveryId: answer.id } })).toBe(0);
      return answer;
    };

    // Nothing kept (a new process): the stored secret is read, verifies the delivery, and is replaced
    // before the statement that would record it.
    await h.flex.waitForDeliveries();
    await h.app.stop();
    await h.startApp();
    const first = await completedCheckout('41.00');
    const before = await first.state();
    const refused = await deliverWhileReplaced(first.body);
    expect(await first.state()).toEqual(before);
    // Delivered again, it is verified against the new ciphertext and applied, with no start-over: the
    // entry that failed was not kept.
    const noStartOver = startOvers();
    expect(await deliver(first.body, refused.id)).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    expect(startOvers()).toBe(noStartOver);
    expect(await first.state()).toMatchObject({ status: 'RESOLVED', events: 1 });

    // Kept, and out of date: the app starts over from the stored connection, which is replaced again
    // between its read and the record. It does not start over twice.
    const second = await completedCheckout('42.00');
    const secondBefore = await second.state();
    await reencrypt();
    const startedOver = startOvers();
    proxy.resetStatements();
    const refusedAgain = await deliverWhileReplaced(second.body);
    expect(startOvers()).toBe(startedOver + 1);
    expect(connectionReads()).toBe(1);
    expect(await second.state()).toEqual(secondBefore);
    // The entry that failed is no longer kept: the next delivery reads the stored connection, and is applied.
    proxy.resetStatements();
    expect(await deliver(second.body, refusedAgain.id)).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    expect(connectionReads()).toBe(1);
    expect(startOvers()).toBe(startedOver + 1);
    expect(await second.state()).toMatchObject({ status: 'RESOLVED', events: 1 });

    // The same for an event with no handler, which is recorded by a statement of its own
    // (FlexWebhookDeliveryRepository.recordIfNew), here after a start-over from the kept entry.
    await reencrypt();
    const payout = JSON.stringify({ event_id: `evt_${randomBytes(6).toString('hex')}`, event_type: 'payout.created', object: { payout: { payout_id: 'po_race' } } });
    const refusedPayout = await deliverWhileReplaced(payout);
    expect(startOvers()).toBe(startedOver + 2);
    expect(await deliver(payout, refusedPayout.id)).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
  });
});
