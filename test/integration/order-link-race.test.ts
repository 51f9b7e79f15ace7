import { Client } from 'pg';
import type { OrderLinkFacts } from '../../src/db/repositories/shopify-orders';
import type { PaymentId, ShopId } from '../../src/lib/ids';
import { eventually, useHarness } from '../support/harness';

/**
 * orders/create and orders/paid each sync the order; the write-back of the first sync can commit
 * while the second is bringing the link up to date. The write-back's mark (annotatedAt) must survive:
 * with the same annotation there is no write-back left to run, and an order left "not annotated"
 * would stay so. (PostgreSQL only: the embedded database has one connection, which runs one
 * transaction at a time, so the two cannot overlap there.)
 */
const onPostgres = process.env.TEST_DATABASE === 'embedded' ? describe.skip : describe;

onPostgres('an order synced twice while its write-back commits', () => {
  const { h, shop } = useHarness();

  it("keeps the write-back's mark when the second sync brings the same annotation", async () => {
    const sent = await h.shopify.sendPaymentSession(shop.domain, { amount: '10.00' });
    expect(sent.status).toBe(201);
    const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: sent.session.id } });
    const facts: OrderLinkFacts = {
      shopId: payment.shopId as ShopId,
      paymentSessionId: payment.id as PaymentId,
      shopifyOrderId: '5550001',
      name: '#1001',
      test: false,
      currency: 'USD',
      totalMinor: 1000,
      otherPaymentsMinor: 0,
      orderCreatedAt: new Date(),
      linkedVia: 'payment_id',
      source: 'orders/create',
      flexCheckoutSessionId: 'fcs_race',
      hsaFsaMinor: 1000,
      cardMinor: 0,
      lmnRequired: false,
      lineEligibility: null,
      shopifyLines: [],
      differences: [],
      annotation: { note: 'Paid with Flex' },
      annotationDigest: 'digest-1',
    };
    const { transactor } = h.components;
    const first = await transactor.run((tx) => tx.shopifyOrders.link(facts, new Date()));
    expect(first.outcome).toBe('created');
    if (first.outcome === 'conflict') return;

    // The write-back holds the row (recordAnnotated's UPDATE takes this lock first)...
    const writeBack = new Client({ connectionString: h.config.databaseUrl });
    await writeBack.connect();
    try {
      await writeBack.query('BEGIN');
      await writeBack.query(`SELECT id FROM "ShopifyOrder" WHERE id = $1::uuid FOR UPDATE`, [first.record.id]);
      // ...while orders/paid's sync brings the link up to date with the same annotation; then the
      // write-back marks the order annotated and commits.
      const second = transactor.run((tx) => tx.shopifyOrders.link({ ...facts, source: 'orders/paid' }, new Date()));
      await eventually(async () => {
        const { rows } = await writeBack.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        return rows[0]!.n > 0;
      }, 20_000, 'the second sync waiting on the row');
      await writeBack.query(`UPDATE "ShopifyOrder" SET "annotatedAt" = now() WHERE id = $1::uuid AND "annotationDigest" = 'digest-1'`, [first.record.id]);
      await writeBack.query('COMMIT');
      expect((await second).outcome).toBe('updated');
    } finally {
      await writeBack.end();
    }
    const row = await h.prisma.shopifyOrder.findUniqueOrThrow({ where: { id: first.record.id } });
    expect(row.annotatedAt).not.toBeNull();
  });
});
