import { payAndReturn, startCheckout } from '../support/buyer';
import { eventually, type RegisteredShop, useHarness } from '../support/harness';
import { connectFlex, installThroughOAuth, uniqueShop } from '../support/merchant';

/**
 * Switching Flex accounts with payments open (issue 9.12): the key is what finishes open payments,
 * refunds and authorizations, so it is not dropped, nor replaced by a key of another Flex account,
 * while any are open; the merchant is told what is open and what to do. A new key of the same
 * account (a rotated key) is fine.
 */
describe('switching Flex accounts with payments open', () => {
  const { h } = useHarness({ shop: false });

  it('refuses to disconnect or switch accounts while an authorization is open; a rotated key of the same account is fine', async () => {
    const domain = uniqueShop('switching');
    const browser = await installThroughOAuth(h, domain);
    const account = h.flex.createAccount({ name: domain });
    expect((await connectFlex(browser, { live: account.liveKey, test: account.testKey })).status).toBe(303);
    const shop = await h.prisma.shop.findUniqueOrThrow({ where: { domain } });
    const liveHint = async () => (await h.prisma.flexConnection.findFirstOrThrow({ where: { shopId: shop.id, mode: 'LIVE' } })).apiKeyHint;

    const { session, redirectUrl } = await startCheckout(h, { domain } as RegisteredShop, { amount: '50.00', kind: 'authorization' });
    await payAndReturn(redirectUrl, 'hsa_fsa');
    await h.shopify.waitForPaymentSession(session.id);

    const { csrf } = await browser.settings();
    const disconnect = await browser.post('/settings/disconnect', { _csrf: csrf, mode: 'live' });
    expect(disconnect.status).toBe(409);
    expect(disconnect.body).toContain('1 authorization not yet captured or voided is still open in Flex (live)');
    expect(await h.prisma.flexConnection.count({ where: { shopId: shop.id } })).toBe(2);

    const before = await liveHint();
    const other = h.flex.createAccount({ name: 'Someone else' });
    const switched = await connectFlex(browser, { live: other.liveKey });
    expect(switched.status).toBe(422);
    expect(switched.body).toContain('belongs to another Flex account');
    expect(await liveHint()).toBe(before);

    const rotated = h.flex.addKey(account.accountId);
    expect((await connectFlex(browser, { live: rotated })).status).toBe(303);
    expect(await liveHint()).toBe(`fsk_…${rotated.slice(-4)}`);

    // Once the authorization is voided nothing is open: the key can go.
    const voided = await h.shopify.sendVoidSession(domain, { paymentId: session.id });
    expect((await h.shopify.waitForFollowUpSession(voided.session.id, { timeoutMs: 15_000 })).status).toBe('resolved');
    await eventually(async () => (await h.prisma.voidSession.findFirstOrThrow({ where: { shopifyId: voided.session.id } })).status === 'SUCCEEDED', 10_000, 'void done');
    const { csrf: again } = await browser.settings();
    expect((await browser.post('/settings/disconnect', { _csrf: again, mode: 'live' })).status).toBe(303);
    expect(await h.prisma.flexConnection.count({ where: { shopId: shop.id, mode: 'LIVE' } })).toBe(0);
  });
});
