import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Secret } from '../../src/lib/secret';
import { SecretBox, secretHint } from '../../src/lib/secret-box';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips a secret and never stores it in the clear', () => {
    const sealed = box.encrypt('fsk_live_abcdef123456', 'shop:1:flex-live-api-key');
    expect(sealed).not.toContain('fsk_live_abcdef123456');
    expect(sealed.startsWith('v1.')).toBe(true);
    expect(box.decrypt(sealed, 'shop:1:flex-live-api-key')).toBe('fsk_live_abcdef123456');
  });

  it('uses a fresh IV each time', () => {
    expect(box.encrypt('same', 'ctx')).not.toBe(box.encrypt('same', 'ctx'));
  });

  it('refuses a ciphertext moved to another shop or column', () => {
    const sealed = box.encrypt('secret', 'shop:1:flex-live-api-key');
    expect(() => box.decrypt(sealed, 'shop:2:flex-live-api-key')).toThrow();
    expect(() => box.decrypt(sealed, 'shop:1:flex-test-api-key')).toThrow();
  });

  it('refuses a tampered ciphertext and a wrong key', () => {
    const sealed = box.encrypt('secret', 'ctx');
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3]!, 'base64url');
    flipped[0] ^= 1;
    expect(() => box.decrypt([parts[0], parts[1], parts[2], flipped.toString('base64url')].join('.'), 'ctx')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).decrypt(sealed, 'ctx')).toThrow();
  });

  it('needs a 32-byte key', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow('32-byte');
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
