import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Encrypts secrets at rest (Flex keys, Shopify tokens, webhook secrets) with AES-256-GCM.
 *
 * The context string (e.g. "shop:<id>:flex-live-api-key") is bound in as additional authenticated
 * data, so a ciphertext copied into another shop's row, or another column, fails to decrypt.
 * Format: "v1.<iv>.<tag>.<ciphertext>", each part base64url.
 */
export class SecretBox {
  private static readonly VERSION = 'v1';

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [SecretBox.VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  decrypt(sealed: string, context: string): string {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== SecretBox.VERSION || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new Error('SecretBox: unrecognised ciphertext format');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/** A short, non-secret hint for showing which key is stored ("fsk_test_…9f2c"). */
export function secretHint(secret: string): string {
  const prefix = /^[a-z]+_(test_)?/.exec(secret)?.[0] ?? '';
  return `${prefix}…${secret.slice(-4)}`;
}
