// The checkout and admin pages a person clicks through, and the /__sandbox control API.
import { ShopifySimulator } from '../../../sandbox/shopify';
import { API_KEY, API_SECRET, RESOLVE, type SimulatorEnv, type TinyApp, useShopifySimulator } from './helpers';

const env = useShopifySimulator();
let shopify: ShopifySimulator;
let app: TinyApp;
let shop: SimulatorEnv['shop'];
beforeAll(() => {
  ({ shopify, app, shop } = env);
});
const gql: SimulatorEnv['gql'] = (...args) => env.gql(...args);

describe('checkout pages and the human UI', () => {
  it('serves the thank-you, processing, error and cancel pages', async () => {
    const { session } = await shopify.sendPaymentSession(shop.domain, { amount: '12.00' });
    const res = await gql(shop.accessToken, RESOLVE, { id: session.gid });
    const thankYou = await fetch(res.body.data.paymentSessionResolve.paymentSession.nextAction.context.redirectUrl);
    expect(thankYou.status).toBe(200);
    expect(await thankYou.text()).toContain('Order confirmed');
    const cancel = await (await fetch(`${shopify.url}/checkouts/${encodeURIComponent(session.group)}/cancel`)).text();
    expect(cancel).toMatch(/choose a payment method/i);
    const error = await (await fetch(`${shopify.url}/checkouts/${encodeURIComponent(session.group)}?payment_error=CARD_DECLINED`)).text();
    expect(error).toContain('CARD_DECLINED');
  });

  it('the index checkout form sends a payment session and redirects to the app', async () => {
    const index = await (await fetch(`${shopify.url}/`)).text();
    expect(index).toContain('Checkout');
    expect(index).toContain('demo.myshopify.com');
    const res = await fetch(`${shopify.url}/checkout`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ shop: shop.domain, amount: '7.50', kind: 'authorization', test: '1' }).toString(),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    const sent = app.last('/payments/sessions').body;
    expect(sent).toMatchObject({ amount: '7.50', kind: 'authorization', test: true });
    expect(res.headers.get('location')).toBe(`https://flex.example/pay/${sent.id}`);
    expect(await (await fetch(`${shopify.url}/mutations`)).text()).toContain('paymentSessionResolve');
  });

  it('exposes controls under /__sandbox', async () => {
    const created = await fetch(`${shopify.url}/__sandbox/shops`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ domain: 'control.myshopify.com' }),
    });
    const { accessToken } = (await created.json()) as { accessToken: string };
    expect(accessToken).toMatch(/^shpat_/);
    const sent = await fetch(`${shopify.url}/__sandbox/payment-sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ shop: 'control.myshopify.com', amount: '2.00' }),
    });
    const body = (await sent.json()) as { status: number; session: { gid: string } };
    expect(body.status).toBe(200);
    expect((await gql(accessToken, RESOLVE, { id: body.session.gid })).body.data.paymentSessionResolve.userErrors).toEqual([]);
    const bad = await fetch(`${shopify.url}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ status: 418 }),
    });
    expect(bad.status).toBe(400);
  });
});

it('stop() releases requests held by a timeout fault and closes keep-alive connections', async () => {
  const sim = await new ShopifySimulator({ app: { url: app.url, apiKey: API_KEY, apiSecret: API_SECRET } }).start();
  const token = sim.createShop('held.myshopify.com').accessToken;
  sim.faults.failNext({ status: 'timeout' });
  const held = fetch(`${sim.url}/payments_apps/api/2026-10/graphql.json`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': token },
    body: JSON.stringify({ query: '{ publicApiVersions { handle } }' }),
  });
  await sim.waitForMutation((m) => m.fault === 'timeout');
  const started = Date.now();
  await sim.stop();
  await expect(held).rejects.toThrow();
  expect(Date.now() - started).toBeLessThan(5_000);
});
