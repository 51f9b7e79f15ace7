import { randomUUID } from 'node:crypto';
import type { DesiredVariant, PushResult } from '../../src/db/repositories/catalog-variants';
import { normalizeShopDomain } from '../../src/lib/shop-domain';
import { useHarness } from '../support/harness';

/**
 * The catalog's storage rules, on the real database: what Shopify says never goes back in time, a
 * variant is priced for a cart only once Flex holds its current price, and one push at a time holds
 * a variant.
 */
describe('the catalog repository', () => {
  // A shop with no Flex key: no sync of its own runs beside these writes.
  const { h } = useHarness({ shop: false });
  const repo = () => h.components.repos.catalog;
  let stored: string | undefined;
  const shopId = async () => (stored ??= (await h.components.repos.shops.upsertActive(normalizeShopDomain('catalog-repository.myshopify.com')!, new Date())).id);

  const variant = (id: string, overrides: Partial<DesiredVariant> = {}): DesiredVariant => ({
    shopifyProductId: '9100',
    shopifyVariantId: id,
    title: `Thermometer ${id}`,
    productTitle: 'Thermometer',
    variantTitle: id,
    description: 'Reads fast',
    productUrl: 'https://x.myshopify.com/products/thermometer',
    productType: 'Health',
    sku: `SKU-${id}`,
    barcode: '036000291452',
    priceMinor: 1250,
    currency: 'USD',
    shopifyUpdatedAt: new Date('2026-11-01T10:00:00Z'),
    ...overrides,
  });

  const pushed = (id: string, row: { priceMinor: bigint; productRevision: number }, overrides: Partial<PushResult> = {}): PushResult => ({
    id,
    flexProductId: `fprod_${id}`,
    flexProductRevision: row.productRevision,
    flexProductActive: true,
    flexProductGeneration: 0,
    flexPriceId: `fprice_${id}`,
    flexPriceMinor: Number(row.priceMinor),
    flexPriceGeneration: 1,
    staleFlexPriceId: null,
    flexRejectedFor: null,
    lastError: null,
    eligibility: 'auto_substantiation',
    eligibilityReason: 'The name mentions "thermometer"',
    eligibilityAt: new Date(),
    syncedAt: new Date(),
    finished: true,
    ...overrides,
  });

  it('prices a variant for a cart only once Flex holds its current price, and never a deleted one', async () => {
    const id = await shopId();
    const [a, b] = [`${Date.now()}1`, `${Date.now()}2`];
    await repo().upsertFromShopify(id, 'TEST', 0, [variant(a), variant(b)]);
    expect((await repo().variantsForCart(id, 'TEST', [a, b])).size).toBe(0);

    const token = randomUUID();
    const claimed = await repo().claimForPush(id, 'TEST', { variantIds: [a, b] }, { token, until: new Date(Date.now() + 60_000), now: new Date() }, 10);
    expect(claimed.map((c) => c.shopifyVariantId).sort()).toEqual([a, b].sort());
    // Held by this push: another one gets nothing.
    expect(await repo().claimForPush(id, 'TEST', { variantIds: [a, b] }, { token: randomUUID(), until: new Date(Date.now() + 60_000), now: new Date() }, 10)).toEqual([]);
    expect(await repo().recordPushResults(token, claimed.map((c) => pushed(c.id, c)))).toBe(2);
    await repo().releaseLeases(token);

    const cart = await repo().variantsForCart(id, 'TEST', [a, b, 'nope']);
    expect(cart.get(a)).toMatchObject({ shopifyVariantId: a, priceMinor: 1250, flexPriceId: `fprice_${claimed.find((c) => c.shopifyVariantId === a)!.id}`, eligibility: 'auto_substantiation' });
    expect(cart.has('nope')).toBe(false);

    // A newer price: not priced until Flex has it. An older webhook changes nothing.
    await repo().upsertFromShopify(id, 'TEST', 0, [variant(a, { priceMinor: 1500, shopifyUpdatedAt: new Date('2026-11-01T11:00:00Z') })]);
    await repo().upsertFromShopify(id, 'TEST', 0, [variant(a, { priceMinor: 999, shopifyUpdatedAt: new Date('2026-11-01T09:00:00Z') })]);
    expect((await h.prisma.catalogVariant.findFirstOrThrow({ where: { shopId: id, mode: 'TEST', shopifyVariantId: a } })).priceMinor).toBe(1500n);
    expect((await repo().variantsForCart(id, 'TEST', [a])).has(a)).toBe(false);

    await repo().markProductDeleted(id, 'TEST', '9100', new Date());
    expect((await repo().variantsForCart(id, 'TEST', [b])).size).toBe(0);
    // The live mode is another catalog.
    expect((await repo().variantsForCart(id, 'LIVE', [a, b])).size).toBe(0);
  });

  it('reads a checkout’s snapshots with their lines’ synced variants in one statement: this shop, this mode, synced only', async () => {
    const id = await shopId();
    const other = (await h.components.repos.shops.upsertActive(normalizeShopDomain('catalog-repository-other.myshopify.com')!, new Date())).id;
    const [synced, unsynced, elsewhere, liveOnly, onlyInOthersCart] = [1, 2, 3, 4, 5].map((n) => `${Date.now()}${n}`);
    const syncAll = async (shop: string, mode: 'TEST' | 'LIVE', ids: string[]) => {
      await repo().upsertFromShopify(shop, mode, 0, ids.map((v) => variant(v)));
      const token = randomUUID();
      const claimed = await repo().claimForPush(shop, mode, { variantIds: ids }, { token, until: new Date(Date.now() + 60_000), now: new Date() }, 10);
      await repo().recordPushResults(token, claimed.map((c) => pushed(c.id, c)));
      await repo().releaseLeases(token);
    };
    await syncAll(id, 'TEST', [synced, onlyInOthersCart]);
    await repo().upsertFromShopify(id, 'TEST', 0, [variant(unsynced)]);
    await syncAll(other, 'TEST', [elsewhere]);
    await syncAll(id, 'LIVE', [liveOnly]);

    const checkoutToken = randomUUID();
    const line = (variantId: string | null) => ({ variantId, productId: '9100', title: 'Thermometer', quantity: 1, discountMinor: 0 });
    const snapshot = (shop: string, source: 'WEBHOOK' | 'PIXEL', observedAt: Date, lines: ReturnType<typeof line>[]) =>
      h.components.repos.cartSnapshots.save({
        shopId: shop as never,
        source,
        checkoutToken,
        cartToken: null,
        urlToken: null,
        currency: 'USD',
        totalMinor: 1250 * lines.length,
        subtotalMinor: 1250 * lines.length,
        taxMinor: 0,
        shippingMinor: 0,
        discountMinor: 0,
        lines,
        observedAt,
        receivedAt: observedAt,
        expiresAt: new Date(Date.now() + 3_600_000),
      });
    const pixelObservedAt = new Date(Date.now() - 1_000);
    const webhookObservedAt = new Date(Date.now() - 60_000);
    await snapshot(id, 'PIXEL', pixelObservedAt, [line(synced), line(unsynced), line(elsewhere), line(liveOnly), line(null)]);
    await snapshot(id, 'WEBHOOK', webhookObservedAt, [line(synced)]);
    // The other shop's snapshot, under the same token, lists a variant this shop has synced: not this cart's.
    await snapshot(other, 'WEBHOOK', new Date(), [line(elsewhere), line(onlyInOthersCart)]);

    const read = await h.components.repos.cartSnapshots.findByTokenWithCatalog(id as never, checkoutToken, new Date(), 'TEST');
    // The server-trusted webhook snapshot first, though older; the other shop's never.
    expect(read.snapshots.map((s) => s.source)).toEqual(['WEBHOOK', 'PIXEL']);
    expect(read.snapshots.every((s) => s.shopId === id)).toBe(true);
    expect(read.snapshots[1]!.lines.map((l) => l.variantId)).toEqual([synced, unsynced, elsewhere, liveOnly, null]);
    expect([...read.catalog.keys()]).toEqual([synced]);
    expect(read.catalog.get(synced)).toEqual(await repo().variantsForCart(id, 'TEST', [synced]).then((m) => m.get(synced)));
    expect(read.catalog.get(synced)).toMatchObject({ priceMinor: 1250, currency: 'USD', eligibility: 'auto_substantiation' });
    expect(read.snapshots.map((s) => s.observedAt)).toEqual([webhookObservedAt, pixelObservedAt]);
    expect(read.snapshots[1]).toMatchObject({ totalMinor: 6250, checkoutToken, cartToken: null, expiresAt: expect.any(Date) });

    // The pay page's claim reads the same, under the checkout token kept with its payment (a test payment: the TEST catalog).
    const now = new Date();
    const { record: payment } = await h.components.repos.payments.insertOrGet(
      {
        shopId: id as never,
        shopifyId: `claim-reads-cart-${checkoutToken}` as never,
        gid: `gid://shopify/PaymentSession/claim-reads-cart-${checkoutToken}`,
        groupId: `group-${checkoutToken}`,
        buyerSessionId: null,
        amountMinor: 1250,
        currency: 'USD',
        kind: 'SALE',
        test: true,
        cancelUrl: `https://shop.example/checkouts/cn/${checkoutToken}`,
        checkoutToken,
        merchantLocale: null,
        proposedAt: null,
        customer: null,
        rawRequest: {},
        requestFingerprint: 'fingerprint',
        apiVersion: '2025-07',
        shopifyRequestId: null,
      },
      { type: 'shopify_session_received', detail: {} },
    );
    const claimed = await h.components.repos.payments.claimCheckoutCreation(payment.id as never, randomUUID(), now, new Date(now.getTime() + 30_000));
    expect(claimed?.cartRead).toEqual(read);
    expect(claimed?.payment.checkoutToken).toBe(checkoutToken);
    // Field for field as the row reads through Prisma (dates, totals), but for the lines' type.
    for (const snapshot of read.snapshots) {
      const row = await h.prisma.cartSnapshot.findUniqueOrThrow({ where: { id: snapshot.id } });
      expect(snapshot).toEqual({ ...row, totalMinor: Number(row.totalMinor), subtotalMinor: Number(row.subtotalMinor), taxMinor: Number(row.taxMinor), shippingMinor: Number(row.shippingMinor), discountMinor: Number(row.discountMinor) });
    }
    // No token kept (a row stored before the column), or a cart already recorded: the claim reads none.
    await h.prisma.paymentSession.update({ where: { id: payment.id }, data: { checkoutToken: null, checkoutLeaseUntil: null } });
    expect((await h.components.repos.payments.claimCheckoutCreation(payment.id as never, randomUUID(), now, new Date(now.getTime() + 30_000)))?.cartRead).toBeUndefined();
    await h.prisma.paymentSession.update({ where: { id: payment.id }, data: { checkoutToken, cartSource: 'CATCH_ALL', checkoutLeaseUntil: null } });
    const retried = await h.components.repos.payments.claimCheckoutCreation(payment.id as never, randomUUID(), now, new Date(now.getTime() + 30_000));
    expect(retried).not.toBeNull();
    expect(retried?.cartRead).toBeUndefined();

    const live = await h.components.repos.cartSnapshots.findByTokenWithCatalog(id as never, checkoutToken, new Date(), 'LIVE');
    expect([...live.catalog.keys()]).toEqual([liveOnly]);
    // Expired snapshots, and with them their variants, are not read.
    expect(await h.components.repos.cartSnapshots.findByTokenWithCatalog(id as never, checkoutToken, new Date(Date.now() + 7_200_000), 'TEST')).toEqual({ snapshots: [], catalog: new Map() });
  });

  it('bumps the revision only when what Flex shows changes', async () => {
    const id = await shopId();
    const v = `${Date.now()}3`;
    await repo().upsertFromShopify(id, 'LIVE', 0, [variant(v)]);
    await repo().upsertFromShopify(id, 'LIVE', 0, [variant(v, { priceMinor: 2000, shopifyUpdatedAt: new Date('2026-11-02T00:00:00Z') })]);
    const row = () => h.prisma.catalogVariant.findFirstOrThrow({ where: { shopId: id, mode: 'LIVE', shopifyVariantId: v } });
    expect((await row()).productRevision).toBe(0);
    await repo().upsertFromShopify(id, 'LIVE', 0, [variant(v, { title: 'Ear thermometer', shopifyUpdatedAt: new Date('2026-11-03T00:00:00Z') })]);
    expect((await row()).productRevision).toBe(1);
  });
});
