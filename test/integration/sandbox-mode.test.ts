import { DEMO_SHOP, startSandboxMode, type RunningSandboxMode } from '../../dev/start-sandbox-mode';
import { createTestDatabase, eventually, freePort, type TestDatabase } from '../support/harness';
import { payOnFlexPage, visit } from '../support/buyer';

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
  });
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
    await eventually(async () => shopify.paymentSession(session!.id)?.status === 'resolved', 5_000, 'resolved');
  });
});
