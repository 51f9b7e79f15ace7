import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/lib/secret-box';
import { secretContexts } from '../../src/lib/secret-contexts';
import { payAndReturn, startCheckout } from '../support/buyer';
import { runCliBesideApp } from '../support/cli';
import { eventually, useHarness, type RegisteredShop } from '../support/harness';
import { sealV1 } from '../support/legacy-secrets';
import { MerchantBrowser } from '../support/merchant';

/**
 * Rotating the key that encrypts secrets at rest: a deployment whose secrets were sealed with its one
 * ENCRYPTION_KEY (some still in the format from before key ids) adds a new key, re-encrypts every
 * stored secret with `secrets:rotate` (interrupted once, then resumed), drops the old key and
 * restarts, and everything that needs a secret still works: payments (the Flex key), Flex webhooks
 * (the signing secret), refunds (the Flex key and the Shopify token, from a job), the settings page.
 */
describe('encryption key rotation', () => {
  const { h } = useHarness({ shop: false });

  /** Every sealed value in the database, by row and column. */
  async function sealedValues(): Promise<Record<string, string>> {
    const values: Record<string, string> = {};
    for (const c of await h.prisma.flexConnection.findMany()) {
      values[`FlexConnection:${c.id}:apiKey`] = c.apiKeyCiphertext;
      if (c.webhookSecretCiphertext) values[`FlexConnection:${c.id}:webhookSecret`] = c.webhookSecretCiphertext;
    }
    for (const s of await h.prisma.session.findMany({ where: { accessToken: { not: '' } } })) values[`Session:${s.id}:accessToken`] = s.accessToken;
    return values;
  }

  async function paidSale(shop: RegisteredShop, amount: string) {
    const { session, redirectUrl } = await startCheckout(h, shop, { amount, kind: 'sale' });
    await payAndReturn(redirectUrl, 'hsa_fsa');
    expect((await h.shopify.waitForPaymentSession(session.id)).status).toBe('resolved');
    return session;
  }

  /** The Flex webhook of a checkout was verified with the stored signing secret and applied. */
  async function webhookApplied(checkoutShopifyId: string) {
    const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: checkoutShopifyId } });
    await eventually(
      async () => (await h.timelineOf(payment.id)).some((e) => e.type === 'flex_webhook'),
      20_000,
      'the Flex webhook, verified and recorded on the timeline',
    );
  }

  it('re-encrypts every secret with the new key, resumably, and the app works with the old key removed', async () => {
    const oldKey = h.config.encryptionKeys[0]!;
    const shop = await h.registerShop();
    const before = await paidSale(shop, '60.00');
    await webhookApplied(before.id);

    // Secrets stored by a version from before key ids: the same key, format v1.
    await h.whileStopped(async (db) => {
      const box = new SecretBox([oldKey]);
      for (const c of await db.prisma.flexConnection.findMany()) {
        const apiKey = box.decrypt(c.apiKeyCiphertext, secretContexts.flexApiKey(c.shopId, c.mode));
        const webhookSecret = box.decrypt(c.webhookSecretCiphertext!, secretContexts.flexWebhookSecret(c.shopId, c.mode));
        await db.prisma.flexConnection.update({
          where: { id: c.id },
          data: {
            apiKeyCiphertext: sealV1(oldKey.key, apiKey, secretContexts.flexApiKey(c.shopId, c.mode)),
            webhookSecretCiphertext: sealV1(oldKey.key, webhookSecret, secretContexts.flexWebhookSecret(c.shopId, c.mode)),
          },
        });
      }
      const offline = await db.prisma.session.findFirstOrThrow({ where: { shop: shop.domain } });
      const token = box.decrypt(offline.accessToken, secretContexts.shopifySessionToken(offline.id, 'access-token'));
      await db.prisma.session.update({ where: { id: offline.id }, data: { accessToken: sealV1(oldKey.key, token, secretContexts.shopifySessionToken(offline.id, 'access-token')) } });
    });
    expect(Object.values(await sealedValues()).every((v) => v.startsWith('v1.'))).toBe(true);

    // The new key is added, newest last; ENCRYPTION_KEY stays as the old one meanwhile.
    const newKey = randomBytes(32);
    h.setEnv({ ENCRYPTION_KEYS: `2026-12:${newKey.toString('hex')}` });
    await h.restartApp();
    expect(h.config.encryptionKeys.map((k) => k.id)).toEqual([oldKey.id, '2026-12']);
    // New secrets are sealed with the new key from now on; old ones still open.
    const later = await h.registerShop();
    const laterValues = Object.entries(await sealedValues()).filter(([, v]) => v.startsWith('v2.2026-12.'));
    expect(laterValues).toHaveLength(5);
    expect((await h.components.tokens.forShop(shop.domain))?.reveal()).toBe(shop.accessToken);

    // Interrupted after its first batch (the operator's Ctrl-C): that batch is kept, the rest waits.
    const stop = new AbortController();
    const interrupted = await runCliBesideApp(h, ['secrets:rotate', '--batch-size', '1'], {
      signal: stop.signal,
      onStdout: (text) => {
        if (text.includes('rows re-encrypted')) stop.abort();
      },
    });
    expect(interrupted.stderr).toBe('');
    expect(interrupted.code).toBe(130);
    expect(interrupted.stdout).toContain('Re-encrypting stored secrets with key "2026-12", 1 rows per transaction.');
    expect(interrupted.stdout).toContain('Flex API keys and webhook signing secrets: 1 of 2 rows re-encrypted');
    expect(interrupted.stdout).toContain('Interrupted: 1 rows re-encrypted by this run, 2 still sealed with an older key. Run secrets:rotate again to finish.');
    const halfway = await sealedValues();
    expect(Object.values(halfway).filter((v) => v.startsWith('v1.'))).toHaveLength(3);

    // Run again: it finishes the rest, and leaves alone what the first run and the app already did.
    const resumed = await runCliBesideApp(h, ['secrets:rotate', '--batch-size', '1']);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('Flex API keys and webhook signing secrets: 1 of 1 rows re-encrypted');
    expect(resumed.stdout).toContain('Shopify access and refresh tokens: 1 of 1 rows re-encrypted');
    expect(resumed.stdout).toContain(`Done: 2 rows re-encrypted; every stored secret is sealed with key "2026-12". "${oldKey.id}" can now be removed from the configuration`);
    const after = await sealedValues();
    expect(Object.keys(after).sort()).toEqual(Object.keys(halfway).sort());
    for (const [where, value] of Object.entries(halfway)) {
      if (value.startsWith('v2.2026-12.')) expect(after[where]).toBe(value);
      else expect(after[where]).not.toBe(value);
    }
    expect(Object.values(after).every((v) => v.startsWith('v2.2026-12.'))).toBe(true);
    for (const secret of [shop.liveKey, shop.testKey, shop.accessToken]) expect(JSON.stringify(after)).not.toContain(secret);

    const again = await runCliBesideApp(h, ['secrets:rotate']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Done: 0 rows re-encrypted');
    expect(await sealedValues()).toEqual(after);

    // The old key leaves the configuration; the app restarts with the new one only.
    h.setEnv({ ENCRYPTION_KEY: '', ENCRYPTION_KEYS: `2026-12:${newKey.toString('hex')}` });
    await h.restartApp();
    expect(h.config.encryptionKeys.map((k) => k.id)).toEqual(['2026-12']);

    // A payment (the Flex key) with its webhook (the signing secret)…
    const afterRotation = await paidSale(shop, '25.00');
    await webhookApplied(afterRotation.id);
    const connections = await h.prisma.flexConnection.findMany({ where: { shop: { domain: shop.domain } } });
    expect(connections.every((c) => c.keyRejectedAt === null)).toBe(true);

    // …a refund of the payment from before the rotation (the Flex key and the Shopify token, from a job)…
    const refund = await h.shopify.sendRefundSession(shop.domain, { paymentId: before.id, amount: '60.00' });
    expect(refund.status).toBe(201);
    expect((await h.shopify.waitForFollowUpSession(refund.session.id, { timeoutMs: 20_000 })).status).toBe('resolved');

    // …the other shop, registered during the rotation…
    expect((await paidSale(later, '5.00')).id).toBeTruthy();

    // …and the settings page, signed in from Shopify.
    const browser = new MerchantBrowser(h.appUrl);
    expect((await browser.get(h.shopify.installUrl(shop.domain))).status).toBe(303);
    const settings = await browser.get(`${h.appUrl}/settings`);
    expect(settings.status).toBe(200);
    expect(settings.body).toContain('live and test mode');
    expect(settings.body).toContain(before.id);

    // Nothing on the way printed a secret or a key.
    const output = JSON.stringify([interrupted, resumed, again]) + h.logs.join('');
    for (const secret of [shop.liveKey, shop.testKey, shop.accessToken, newKey.toString('hex'), oldKey.key.toString('hex')]) expect(output).not.toContain(secret);
  }, 240_000); // several app restarts and a payment and a refund on each key: minutes on a busy machine

  it('leaves a secret no configured key opens as it is, reports it, and fails', async () => {
    const shop = await h.registerShop();
    const stranger = randomBytes(32);
    const row = await h.prisma.session.findFirstOrThrow({ where: { shop: shop.domain } });
    const unreadable = sealV1(stranger, 'shpat_x', secretContexts.shopifySessionToken(row.id, 'access-token'));
    await h.prisma.session.update({ where: { id: row.id }, data: { accessToken: unreadable } });

    const result = await runCliBesideApp(h, ['secrets:rotate']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Session ${row.id} accessToken: SecretBox: no configured key opens this ciphertext`);
    expect(result.stderr).toContain('1 secrets could not be decrypted with any configured key and were left as they were');
    expect((await h.prisma.session.findUniqueOrThrow({ where: { id: row.id } })).accessToken).toBe(unreadable);
  });
});
