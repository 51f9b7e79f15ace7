import { PgCountingProxy } from '../../bench/lib/pg-counting-proxy';
import { payOnFlexPage, startCheckout } from '../support/buyer';
import { postgresServer, throughProxy, useHarness } from '../support/harness';

/**
 * What a payment's Flex webhook costs the database: the shop's connection (its signing secret) is read
 * for the first of the shop's webhooks and kept (flex/webhooks/connection-cache.ts), so the next ones
 * start with the transaction that records them. Counted by a proxy that reads the PostgreSQL protocol
 * between the app and the server (PostgreSQL only: the embedded database has no wire to read).
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

  /**
   * Reads of a shop with its Flex connection (FlexConnectionRepository.findWithShop) since the last
   * reset: the Flex webhook's, and a session request's only when its insert found no connected shop.
   */
  const connectionReads = () => [...proxy.statements].filter(([sql]) => sql.startsWith('SELECT s.id AS shop_row_id, s.domain AS shop_row_domain, s.status AS shop_row_status, c.*')).reduce((n, [, count]) => n + count, 0);

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
});
