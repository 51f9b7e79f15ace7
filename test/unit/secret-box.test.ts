import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Secret } from '../../src/lib/secret';
import { derivedKeyId, SecretBox, SecretBoxError, secretHint } from '../../src/lib/secret-box';
import { sealV1 } from '../support/legacy-secrets';

/** The sealed value with one part replaced. */
function withPart(sealed: string, index: number, change: (part: string) => string): string {
  const parts = sealed.split('.');
  parts[index] = change(parts[index]!);
  return parts.join('.');
}

function flipFirstByte(part: string): string {
  const bytes = Buffer.from(part, 'base64url');
  bytes[0] ^= 1;
  return bytes.toString('base64url');
}

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips a secret and never stores it in the clear', () => {
    const sealed = box.encrypt('fsk_live_abcdef123456', 'shop:1:flex-live-api-key');
    expect(sealed).not.toContain('fsk_live_abcdef123456');
    expect(sealed.startsWith(`v2.${box.currentKeyId}.`)).toBe(true);
    expect(box.decrypt(sealed, 'shop:1:flex-live-api-key')).toBe('fsk_live_abcdef123456');
  });

  it('uses a fresh IV each time', () => {
    expect(box.encrypt('same', 'ctx')).not.toBe(box.encrypt('same', 'ctx'));
  });

  it('refuses a ciphertext moved to another shop or column', () => {
    const sealed = box.encrypt('secret', 'shop:1:flex-live-api-key');
    expect(() => box.decrypt(sealed, 'shop:2:flex-live-api-key')).toThrow(SecretBoxError);
    expect(() => box.decrypt(sealed, 'shop:1:flex-test-api-key')).toThrow(SecretBoxError);
  });

  it('opens a stored secret once, and remembers only what it opened, under its exact ciphertext and context', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const deciphers = jest.spyOn(require('node:crypto') as typeof import('node:crypto'), 'createDecipheriv');
    try {
      const fresh = new SecretBox(randomBytes(32));
      const context = 'shop:1:flex-live-api-key';
      const sealed = fresh.encrypt('fsk_live_remembered', context);
      expect(fresh.decrypt(sealed, context)).toBe('fsk_live_remembered');
      expect(fresh.decrypt(sealed, context)).toBe('fsk_live_remembered');
      expect(deciphers).toHaveBeenCalledTimes(1);
      // Opened once under its own context, it still does not open under another, nor tampered with.
      for (let i = 0; i < 2; i++) expect(() => fresh.decrypt(sealed, 'shop:2:flex-live-api-key')).toThrow(/does not authenticate/);
      for (let i = 0; i < 2; i++) expect(() => fresh.decrypt(withPart(sealed, 4, flipFirstByte), context)).toThrow(/does not authenticate/);
      // A new secret under the same context takes the slot: the old one is opened afresh (and still right).
      const replaced = fresh.encrypt('fsk_live_new', context);
      expect(fresh.decrypt(replaced, context)).toBe('fsk_live_new');
      deciphers.mockClear();
      expect(fresh.decrypt(sealed, context)).toBe('fsk_live_remembered');
      expect(fresh.decrypt(replaced, context)).toBe('fsk_live_new');
      expect(deciphers).toHaveBeenCalledTimes(2);
      // Bounded: after thousands of other secrets, the first is opened afresh, and right.
      for (let i = 0; i < 4200; i++) fresh.decrypt(fresh.encrypt(`other-${i}`, `ctx-${i}`), `ctx-${i}`);
      deciphers.mockClear();
      expect(fresh.decrypt(replaced, context)).toBe('fsk_live_new');
      expect(deciphers).toHaveBeenCalledTimes(1);
    } finally {
      deciphers.mockRestore();
    }
  });

  it('refuses a tampered ciphertext, IV or tag, and a wrong key', () => {
    const sealed = box.encrypt('secret', 'ctx');
    for (const part of [2, 3, 4]) {
      expect(() => box.decrypt(withPart(sealed, part, flipFirstByte), 'ctx')).toThrow(/does not authenticate/);
    }
    const otherKey = randomBytes(32);
    expect(() => new SecretBox([{ id: box.currentKeyId, key: otherKey }]).decrypt(sealed, 'ctx')).toThrow(/does not authenticate/);
  });

  it('refuses a truncated authentication tag, even when the truncated tag is right', () => {
    const sealed = box.encrypt('secret', 'ctx');
    // GCM without a pinned tag length would accept the first 4 bytes of the right tag.
    for (const bytes of [15, 12, 8, 4]) {
      const truncated = withPart(sealed, 3, (tag) => Buffer.from(tag, 'base64url').subarray(0, bytes).toString('base64url'));
      expect(() => box.decrypt(truncated, 'ctx')).toThrow(/authentication tag/i);
    }
    const legacyKey = randomBytes(32);
    const legacy = sealV1(legacyKey, 'secret', 'ctx');
    const truncatedLegacy = withPart(legacy, 2, (tag) => Buffer.from(tag, 'base64url').subarray(0, 12).toString('base64url'));
    expect(() => new SecretBox(legacyKey).decrypt(truncatedLegacy, 'ctx')).toThrow(/authentication tag/i);
  });

  it('refuses a ciphertext whose key id is not configured, naming the id', () => {
    const old = { id: '2025-01', key: randomBytes(32) };
    const sealed = new SecretBox([old]).encrypt('secret', 'ctx');
    const rotated = new SecretBox([{ id: '2026-06', key: randomBytes(32) }]);
    expect(() => rotated.decrypt(sealed, 'ctx')).toThrow('sealed with key "2025-01", which is not configured');
  });

  it('refuses a ciphertext relabelled with another configured key id or version', () => {
    const a = { id: 'a', key: randomBytes(32) };
    const b = { id: 'b', key: randomBytes(32) };
    const both = new SecretBox([a, b]);
    const sealed = both.encrypt('secret', 'ctx');
    expect(sealed.startsWith('v2.b.')).toBe(true);
    expect(() => both.decrypt(withPart(sealed, 1, () => 'a'), 'ctx')).toThrow(SecretBoxError);
    const asV1 = ['v1', ...sealed.split('.').slice(2)].join('.');
    expect(() => both.decrypt(asV1, 'ctx')).toThrow(SecretBoxError);
    expect(() => both.decrypt('v3.b.x.y.z', 'ctx')).toThrow('unrecognised ciphertext format');
  });

  it('seals with the newest key and still opens what older keys sealed', () => {
    const oldKey = { id: 'old', key: randomBytes(32) };
    const newKey = { id: 'new', key: randomBytes(32) };
    const before = new SecretBox([oldKey]).encrypt('fsk_live_1', 'ctx');
    const during = new SecretBox([oldKey, newKey]);
    expect(during.currentKeyId).toBe('new');
    expect(during.decrypt(before, 'ctx')).toBe('fsk_live_1');
    expect(during.isCurrent(before)).toBe(false);

    const resealed = during.reseal(before, 'ctx');
    expect(resealed.startsWith('v2.new.')).toBe(true);
    expect(during.isCurrent(resealed)).toBe(true);
    expect(during.reseal(resealed, 'ctx')).toBe(resealed);
    // Once re-sealed, the old key is not needed.
    expect(new SecretBox([newKey]).decrypt(resealed, 'ctx')).toBe('fsk_live_1');
  });

  it('opens ciphertexts from before key ids (v1) with whichever configured key sealed them', () => {
    const legacyKey = randomBytes(32);
    const legacy = sealV1(legacyKey, 'shpat_123', 'shopify-session:offline_x:access-token');
    expect(new SecretBox(legacyKey).decrypt(legacy, 'shopify-session:offline_x:access-token')).toBe('shpat_123');
    const ring = new SecretBox([{ id: derivedKeyId(legacyKey), key: legacyKey }, { id: 'next', key: randomBytes(32) }]);
    expect(ring.decrypt(legacy, 'shopify-session:offline_x:access-token')).toBe('shpat_123');
    expect(ring.isCurrent(legacy)).toBe(false);
    expect(() => new SecretBox(randomBytes(32)).decrypt(legacy, 'shopify-session:offline_x:access-token')).toThrow(/no configured key opens/);
    expect(() => ring.decrypt(withPart(legacy, 3, flipFirstByte), 'shopify-session:offline_x:access-token')).toThrow(/no configured key opens/);
  });

  it('gives a key configured without an id the same derived id every time', () => {
    const key = randomBytes(32);
    expect(derivedKeyId(key)).toBe(derivedKeyId(Buffer.from(key)));
    expect(derivedKeyId(key)).not.toBe(derivedKeyId(randomBytes(32)));
    expect(derivedKeyId(key)).toMatch(/^k[0-9a-f]{12}$/);
    expect(new SecretBox(key).currentKeyId).toBe(derivedKeyId(key));
  });

  it('needs 32-byte keys with distinct, well-formed ids', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow('32-byte');
    expect(() => new SecretBox([])).toThrow('at least one key');
    expect(() => new SecretBox([{ id: 'a.b', key: randomBytes(32) }])).toThrow('key id');
    expect(() => new SecretBox([{ id: 'a', key: randomBytes(32) }, { id: 'a', key: randomBytes(32) }])).toThrow('twice');
  });

  it('never puts the secret in an error message', () => {
    const sealed = box.encrypt('fsk_live_dontleak', 'ctx');
    try {
      box.decrypt(sealed, 'other');
      throw new Error('decrypted');
    } catch (error) {
      expect((error as Error).message).not.toContain('dontleak');
    }
  });
});

describe('Secret', () => {
  it('prints as [redacted] everywhere but reveal()', () => {
    const secret = new Secret('fsk_test_supersecret');
    expect(String(secret)).toBe('[redacted]');
    expect(JSON.stringify({ secret })).toBe('{"secret":"[redacted]"}');
    expect(inspect({ secret })).not.toContain('supersecret');
    expect(secret.reveal()).toBe('fsk_test_supersecret');
  });

  it('gives a hint that shows the mode and the last four characters only', () => {
    expect(secretHint('fsk_test_abcdefgh1234')).toBe('fsk_test_…1234');
    expect(secretHint('fsk_abcdefgh9876')).toBe('fsk_…9876');
  });
});
