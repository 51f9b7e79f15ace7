import { Client } from 'pg';
import { MemoryFloorStore, PostgresFloorStore } from '../../bench/floor-store';
import type { FloorSession, FloorStore } from '../../bench/scenarios/scenario';
import { createTestDatabase, type TestDatabase } from '../support/harness';

/**
 * What the benchmark's floors keep between a payment's steps (bench/floor-store.ts): the floor in
 * memory, the durable floor in PostgreSQL. Both must behave alike for the bench's buyers (a session's
 * pay page opened once, with the cart its checkouts/create webhook brought); the durable one must also
 * have written each step before it returns, so that what it measures is what durability costs.
 * (PostgreSQL project only for the durable store: it is PostgreSQL's, whatever the app runs on.)
 */
const onPostgres = process.env.TEST_DATABASE === 'postgres' ? describe : describe.skip;

const session = (id: string, cartToken: string | null): FloorSession => ({
  id,
  gid: `gid://shopify/PaymentSession/${id}`,
  group: `group-${id}`,
  shop: 'bench-floor.myshopify.com',
  defaults: { email: 'buyer@example.com', first_name: 'Ada' },
  cartToken,
});
const lines = [
  { variantId: '101', quantity: 2 },
  { variantId: '102', quantity: 1 },
];

function behavesAsTheBenchNeeds(open: () => Promise<FloorStore>) {
  it('gives the pay page its session and the cart of its checkout token, once', async () => {
    const store = await open();
    await store.keepCart(['checkout-1', 'cart-1'], lines);
    await store.keepSession(session('s1', 'checkout-1'));
    await store.keepSession(session('s2', 'cart-1'));
    await store.keepSession(session('s3', null));
    expect(await store.takeSession('s1')).toEqual({ session: session('s1', 'checkout-1'), cart: lines });
    expect(await store.takeSession('s1')).toBeUndefined();
    expect((await store.takeSession('s2'))?.cart).toEqual(lines);
    expect(await store.takeSession('s3')).toEqual({ session: session('s3', null), cart: undefined });
    expect(await store.takeSession('never-kept')).toBeUndefined();
  });

  it('says a paid payment is to be resolved', async () => {
    const store = await open();
    await store.keepSession(session('s4', null));
    await store.takeSession('s4');
    await store.checkoutMade('s4', 'cs_4');
    expect(await store.paid('s4')).toBe(true);
  });
}

describe('the floor keeps a payment in memory', () => {
  behavesAsTheBenchNeeds(async () => new MemoryFloorStore());

  it('forgets the oldest sessions beyond its bound', async () => {
    const store = new MemoryFloorStore(2);
    for (const id of ['a', 'b', 'c']) await store.keepSession(session(id, null));
    expect(await store.takeSession('a')).toBeUndefined();
    expect(await store.takeSession('c')).toBeDefined();
  });
});

onPostgres('the durable floor keeps a payment in PostgreSQL', () => {
  let database: TestDatabase;
  const stores: FloorStore[] = [];
  let reader: Client;
  beforeAll(async () => {
    database = await createTestDatabase();
    reader = new Client({ connectionString: database.url });
    await reader.connect();
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await reader?.end();
    await database?.drop();
  });
  const open = async () => {
    const store = await PostgresFloorStore.open(database.url!, 2);
    stores.push(store);
    return store;
  };
  const row = async (id: string) => (await reader.query('SELECT * FROM floor_session WHERE id = $1', [id])).rows[0] as Record<string, unknown> | undefined;

  behavesAsTheBenchNeeds(open);

  it('has written each step when it returns, and a restarted floor goes on from there', async () => {
    const store = await open();
    await store.keepCart(['checkout-9'], lines);
    await store.keepSession(session('s9', 'checkout-9'));
    expect(await row('s9')).toMatchObject({ gid: 'gid://shopify/PaymentSession/s9', cart_token: 'checkout-9', taken_at: null, lines: null });
    await store.takeSession('s9');
    // The lines sent to Flex are recorded before Flex is called: a retry would send the same.
    expect(await row('s9')).toMatchObject({ taken_at: expect.any(Date), lines });
    await store.checkoutMade('s9', 'cs_9');
    expect(await row('s9')).toMatchObject({ flex_checkout_id: 'cs_9', paid_at: null });

    await store.close();
    const restarted = await open();
    expect(await restarted.takeSession('s9')).toBeUndefined();
    expect(await restarted.paid('s9')).toBe(true);
    const paidAt = (await row('s9'))?.paid_at;
    expect(paidAt).toEqual(expect.any(Date));
    // A redelivery before Shopify answered resolves again; the first time it was paid stays.
    expect(await restarted.paid('s9')).toBe(true);
    expect((await row('s9'))?.paid_at).toEqual(paidAt);
    await restarted.resolved('s9');
    expect((await row('s9'))?.resolved_at).toEqual(expect.any(Date));
    // Once resolved, a redelivery has nothing to do.
    expect(await restarted.paid('s9')).toBe(false);
  });

  it('keeps the first copy of a session request sent twice, and the latest cart of a token, named twice or once', async () => {
    const store = await open();
    await store.keepSession(session('s10', 'checkout-10'));
    await store.keepSession({ ...session('s10', 'checkout-10'), gid: 'gid://shopify/PaymentSession/other' });
    expect((await row('s10'))?.gid).toBe('gid://shopify/PaymentSession/s10');
    await store.keepCart(['checkout-10'], [lines[0]]);
    // A checkout whose cart token is its checkout token: one row, not a statement PostgreSQL refuses.
    await store.keepCart(['checkout-10', 'checkout-10'], lines);
    expect((await store.takeSession('s10'))?.cart).toEqual(lines);
  });
});
