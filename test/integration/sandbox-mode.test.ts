import { DEMO_SHOP, startSandboxMode, type RunningSandboxMode } from '../../dev/start-sandbox-mode';
import { createTestDatabase, eventually, freePort, type TestDatabase } from '../support/harness';
import { checkoutIdOf, payOnFlexPage, visit } from '../support/buyer';

/**
 * `npm start` with no credentials: the app runs against the bundled sandboxes, says so, and a
 * newcomer can take a payment from the simulator's checkout page to a resolved Shopify session.
 */
describe('npm start without credentials (sandbox mode)', () => {
  let database: TestDatabase;
  let server: RunningSandboxMode;
  const logs: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    const env: NodeJS.ProcessEnv = {
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      DATA_DIR: database.dataDir,
      SANDBOX_FLEX_PORT: String(await freePort()),
      SANDBOX_SHOPIFY_PORT: String(await freePort()),
      LOG_LEVEL: 'info',
      ...(database.url ? { DATABASE_URL: database.url } : {}),
    };
    server = await startSandboxMode(env, { write: (line) => logs.push(line) });
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it('says in its log that it runs against the sandboxes', () => {
    const lines = logs.map((l) => JSON.parse(l) as Record<string, any>);
    const warning = lines.find((l) => l.level === 'warn' && /No Shopify credentials configured/.test(l.msg));
    expect(warning).toMatchObject({ flexSandbox: server.sandboxes.flex.url, shopifySimulator: server.sandboxes.shopify.url });
    const ready = lines.find((l) => /ready/.test(l.msg));
    expect(ready?.msg).toContain(server.sandboxes.shopify.url);
    expect(ready?.database).toMatch(process.env.TEST_DATABASE === 'embedded' ? /embedded PGlite/ : /PostgreSQL/);
  });

  it('takes a payment from the simulator’s checkout page through Flex to a resolved session', async () => {
    const shopify = server.sandboxes.shopify;
    const checkout = await fetch(`${shopify.url}/checkout`, {
      method: 'POST',
      body: new URLSearchParams({ shop: DEMO_SHOP, amount: '49.00', kind: 'sale' }),
      redirect: 'manual',
    });
    expect(checkout.status).toBe(303);
    const payPage = await visit(checkout.headers.get('location')!);
    expect(payPage.status).toBe(303);
    const flexPage = payPage.location!;
    expect(flexPage).toContain(`${server.sandboxes.flex.url}/pay/c/`);

    const paid = await payOnFlexPage(flexPage, 'hsa_fsa');
    const back = await visit(paid.location!);
    expect(back.status).toBe(303);
    expect(back.location).toContain('/thank-you');
    const thankYou = await visit(back.location!);
    expect(thankYou.body).toContain('Order confirmed');
    const [session] = shopify.paymentSessions({ shop: DEMO_SHOP });
    await eventually(async () => shopify.paymentSession(session!.id)?.status === 'resolved', 15_000, 'resolved');
  });

  it('takes a mixed cart from the demo catalog through Flex as a split payment', async () => {
    const shopify = server.sandboxes.shopify;
    const flex = server.sandboxes.flex;
    const prisma = server.app.components.database.prisma;
    const product = (title: string) => shopify.products(DEMO_SHOP).find((p) => p.title === title)!;
    const thermometer = String(product('Digital Thermometer').variants[0]!.id).split('/').pop()!;
    const mug = String(product('Coffee Mug').variants[0]!.id).split('/').pop()!;
    // The demo catalog syncs to Flex when the app starts, and the cart pixel is activated.
    await eventually(
      async () => (await prisma.catalogVariant.count({ where: { shopifyVariantId: { in: [thermometer, mug] }, mode: 'LIVE', flexPriceId: { not: null } } })) === 2,
      30_000,
      'the demo catalog synced to Flex',
    );
    await eventually(async () => shopify.webPixel(DEMO_SHOP) !== null, 15_000, 'the cart pixel activated');

    // The buyer's cart on the simulator's storefront form: pixel events, checkout webhooks, session request.
    const checkout = await fetch(`${shopify.url}/cart-checkout`, {
      method: 'POST',
      body: new URLSearchParams({ shop: DEMO_SHOP, [`qty_${thermometer}`]: '1', [`qty_${mug}`]: '2', kind: 'sale' }),
      redirect: 'manual',
    });
    expect(checkout.status).toBe(303);
    const payPage = await visit(checkout.headers.get('location')!);
    expect(payPage.status).toBe(303);
    const checkoutId = checkoutIdOf(payPage.location!);
    const session = flex.checkoutSession(checkoutId) as Record<string, any>;
    expect(session.amount_total).toBe(2499 + 2 * 975);
    expect(session.hsa_fsa_eligible).toBe(true);

    expect((await payOnFlexPage(payPage.location!, 'split')).status).toBe(303);
    const intents = flex.paymentIntents({ checkoutSessionId: checkoutId }) as Array<Record<string, any>>;
    expect(intents).toHaveLength(2);
    expect(intents.reduce((sum, pi) => sum + pi.amount, 0)).toBe(2499 + 2 * 975);
    const [payment] = shopify.paymentSessions({ shop: DEMO_SHOP }).slice(-1);
    await eventually(async () => shopify.paymentSession(payment!.id)?.status === 'resolved', 15_000, 'resolved');
  });
});
