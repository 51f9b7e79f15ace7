// Reconciliation with Flex payouts (README "Reconciliation"): the periodic job reads the payouts and
// balance transactions Flex made on its clock, and the settings page and the CSV export show, per
// payout and order, the charges by card, fees, refunds and net next to the Shopify order, with a
// Flex charge that has no Shopify order flagged; the CSV is streamed, for a date range, one shop's
// data in one mode only.
import { eventually, useHarness, type Harness, type RegisteredShop } from '../support/harness';
import { payAndReturn, startCheckout } from '../support/buyer';
import { MerchantBrowser } from '../support/merchant';

const { h, shop } = useHarness({ orderWebhooks: true, tuning: { payoutSyncIntervalMs: 100, payoutSyncEveryMs: 200 } });

async function flexCall(key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${h.flex.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return (await res.json()) as Record<string, any>;
}

/** A Flex checkout the merchant took outside Shopify (a payment link, say): Flex charges, no order exists. */
async function chargeOutsideShopify(key: string, amount: number): Promise<string> {
  const product = await flexCall(key, 'POST', '/v1/products', { product: { name: 'Phone order' } });
  const price = await flexCall(key, 'POST', '/v1/prices', { price: { product: product.product.product_id, unit_amount: amount } });
  const session = await flexCall(key, 'POST', '/v1/checkout/sessions', {
    checkout_session: { line_items: [{ price: price.price.price_id, quantity: 1 }], success_url: 'https://shop.example/thanks', cancel_url: 'https://shop.example/cart' },
  });
  h.flex.pay(session.checkout_session.checkout_session_id, 'card');
  return session.checkout_session.checkout_session_id;
}

async function paid(h: Harness, s: RegisteredShop, amount: string, outcome: 'hsa_fsa' | 'split') {
  const checkout = await startCheckout(h, s, { amount });
  await payAndReturn(checkout.redirectUrl, outcome);
  const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: checkout.session.id } });
  await eventually(() => h.prisma.shopifyOrder.findFirst({ where: { paymentSessionId: payment.id } }), 20_000, 'the order linked');
  return checkout.checkoutId;
}

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

describe('reconciliation with Flex payouts', () => {
  let sale: string;
  let split: string;
  let outside: string;
  let otherShopCheckout: string;
  let browser: MerchantBrowser;

  beforeAll(async () => {
    sale = await paid(h, shop, '50.00', 'hsa_fsa');
    split = await paid(h, shop, '80.00', 'split');
    outside = await chargeOutsideShopify(shop.liveKey, 2500);
    const other = await h.registerShop();
    otherShopCheckout = await paid(h, other, '33.00', 'hsa_fsa');
    // Two UTC midnights later Flex has paid out the charges (available after 2 days, arriving the day after).
    h.flex.advanceClock(3 * 86_400);
    await eventually(async () => {
      const payouts = await h.prisma.flexPayout.findMany({ where: { shopId: (await h.prisma.shop.findFirstOrThrow({ where: { domain: shop.domain } })).id } });
      return payouts.length > 0 && payouts.every((p) => p.complete);
    }, 20_000, 'the payout read');
    browser = new MerchantBrowser(h.appUrl);
    expect((await browser.get(h.shopify.installUrl(shop.domain))).status).toBe(303);
  });

  it('stores each payout and every balance transaction it took, once', async () => {
    const shopRow = await h.prisma.shop.findFirstOrThrow({ where: { domain: shop.domain } });
    const payouts = await h.prisma.flexPayout.findMany({ where: { shopId: shopRow.id }, include: { balanceTransactions: true } });
    expect(payouts).toHaveLength(1);
    const [payout] = payouts;
    // Four charges (sale, two halves of the split, the outside one) and the payout's own transaction.
    expect(payout!.balanceTransactions.map((b) => b.type).sort()).toEqual(['payment', 'payment', 'payment', 'payment', 'payout']);
    const fromFlex = h.flex.payouts({ accountId: shop.flexAccountId, testMode: false });
    expect(payout).toMatchObject({ flexPayoutId: fromFlex[0]!.payout_id, amountMinor: BigInt(fromFlex[0]!.amount as number), mode: 'LIVE' });
    // The sweep runs again every 200 ms here and holds sweepAfter while it walks the page: wait for a
    // moment between sweeps.
    const cursor = await eventually(async () => {
      const c = await h.prisma.reconciliationCursor.findUniqueOrThrow({ where: { shopId_mode: { shopId: shopRow.id, mode: 'LIVE' } } });
      if (c.lastError) throw new Error(`the sweep failed: ${c.lastError}`);
      return c.sweepAfter === null && c;
    }, 10_000, 'the sweep at rest');
    expect(cursor).toMatchObject({ sweepAfter: null, lastError: null });
    expect(cursor.doneBefore).not.toBeNull();
  });

  it('shows the payout on the settings page, the Flex charge without an order flagged first', async () => {
    const page = (await browser.get(`${h.appUrl}/settings`)).body;
    const card = page.slice(page.indexOf('id="reconciliation"'));
    expect(card).toContain('1 flagged');
    const rows = [...card.matchAll(/<tr data-row="([^"]+)"/g)].map((m) => m[1]);
    expect(rows[0]).toBe(outside);
    expect(rows.slice(1).sort()).toEqual([sale, split].sort());
    expect(card).toContain('data-flag="flex_charge_without_order"');
    expect(card.match(/data-flag=/g)).toHaveLength(1);
    expect(card).not.toContain(otherShopCheckout);
  });

  it('exports the payout as CSV, streamed, for a date range, the signed-in shop’s live data only', async () => {
    const res = await fetch(`${h.appUrl}/settings/reconciliation.csv?mode=live&from=${day(-1)}&to=${day(10)}`, { headers: { Cookie: browser.cookieHeader() } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.headers.get('content-length')).toBeNull();
    const lines = (await res.text()).trimEnd().split('\r\n');
    const header = lines[0]!.split(',');
    const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
    expect(rows).toHaveLength(3);
    const byCheckout = Object.fromEntries(rows.map((r) => [r.flex_checkout_session_id, r]));
    expect(byCheckout[sale]).toMatchObject({ charged_hsa_fsa_card: '50.00', charged_regular_card: '0.00', fee_transaction: '1.75', net: '48.25', order_total: '50.00', flags: '' });
    expect(byCheckout[sale]!.shopify_order).toMatch(/^#\d+$/);
    expect(byCheckout[split]).toMatchObject({ charged_hsa_fsa_card: '40.00', charged_regular_card: '40.00', fee_transaction: '2.92', net: '77.08', flags: '' });
    expect(byCheckout[outside]).toMatchObject({ charged_regular_card: '25.00', shopify_order: '', flags: 'Flex charge with no Shopify order' });
    expect(new Set(rows.map((r) => r.payout_id)).size).toBe(1);
    expect(lines.join('\n')).not.toContain(otherShopCheckout);

    const before = await fetch(`${h.appUrl}/settings/reconciliation.csv?mode=live&from=${day(-30)}&to=${day(-20)}`, { headers: { Cookie: browser.cookieHeader() } });
    expect((await before.text()).trimEnd().split('\r\n')).toHaveLength(1);
    const test = await fetch(`${h.appUrl}/settings/reconciliation.csv?mode=test&from=${day(-1)}&to=${day(10)}`, { headers: { Cookie: browser.cookieHeader() } });
    expect((await test.text()).trimEnd().split('\r\n')).toHaveLength(1);
  });

  it('pages through the rows with a keyset cursor, one batch after another, none twice', async () => {
    const shopRow = await h.prisma.shop.findFirstOrThrow({ where: { domain: shop.domain } });
    const range = { from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 10 * 86_400_000) };
    const { reconciliation } = h.components.repos;
    const seen: string[] = [];
    let after: Awaited<ReturnType<typeof reconciliation.payoutRows>>[number]['key'] | undefined;
    for (;;) {
      const batch = await reconciliation.payoutRows(shopRow.id as never, 'LIVE', range, { after, limit: 1 });
      if (batch.length === 0) break;
      seen.push(batch[0]!.checkoutSessionId!);
      after = batch[0]!.key;
    }
    expect(seen.sort()).toEqual([sale, split, outside].sort());
  });

  it('refuses a bad range and a visitor who is not signed in', async () => {
    const bad = await fetch(`${h.appUrl}/settings/reconciliation.csv?mode=live&from=${day(5)}&to=${day(1)}`, { headers: { Cookie: browser.cookieHeader() } });
    expect(bad.status).toBe(400);
    const anonymous = await fetch(`${h.appUrl}/settings/reconciliation.csv?mode=live&from=${day(-1)}&to=${day(10)}`);
    expect(anonymous.status).toBe(401);
    const otherShop = await fetch(`${h.appUrl}/settings/reconciliation.csv?mode=live&from=${day(-1)}&to=${day(10)}&shop=someone-else.myshopify.com`, { headers: { Cookie: browser.cookieHeader() } });
    expect(otherShop.status).toBe(403);
  });

  it('resumes after Flex failed mid-way, reading the unfinished payout again without doubling anything', async () => {
    const shopRow = await h.prisma.shop.findFirstOrThrow({ where: { domain: shop.domain } });
    const later = await paid(h, shop, '10.00', 'hsa_fsa');
    h.flex.faults.failNext({ method: 'GET', path: '/v1/balance_transactions', status: 500 });
    h.flex.advanceClock(3 * 86_400);
    await eventually(() => h.prisma.reconciliationCursor.findFirst({ where: { shopId: shopRow.id, mode: 'LIVE', lastError: { not: null } } }), 20_000, 'the failed run recorded');
    const stopped = await h.prisma.flexPayout.findMany({ where: { shopId: shopRow.id, complete: false } });
    expect(stopped).toHaveLength(1);
    // The next run waits its retry time, then reads the payout's transactions.
    h.clock.advance(11 * 60 * 1000);
    await eventually(async () => (await h.prisma.flexPayout.count({ where: { shopId: shopRow.id, complete: false } })) === 0, 20_000, 'the payout finished');
    const all = await h.prisma.flexBalanceTransaction.findMany({ where: { shopId: shopRow.id } });
    expect(new Set(all.map((b) => b.flexBalanceTransactionId)).size).toBe(all.length);
    expect(all.filter((b) => b.checkoutSessionId === later)).toHaveLength(1);
    expect(await h.prisma.flexPayout.count({ where: { shopId: shopRow.id } })).toBe(2);
  });
});
