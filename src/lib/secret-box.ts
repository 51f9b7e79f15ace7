import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** One encryption key and the id stored with every ciphertext it seals. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** Key ids are stored in the ciphertext, whose parts are separated by dots: no dots, nothing secret. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const TAG_BYTES = 16;
const IV_BYTES = 12;

/**
 * The id of a key configured without one (ENCRYPTION_KEY, the sandbox-mode key file): derived from
 * the key, so the same key always gets the same id, wherever and however often it is configured.
 * A truncated hash of a random 256-bit key tells nothing about the key.
 */
export function derivedKeyId(key: Buffer): string {
  return `k${createHash('sha256').update('flex-payments-app/key-id\0').update(key).digest('hex').slice(0, 12)}`;
}

/** A ciphertext that cannot be opened (wrong key, unknown key id, tampered, malformed). Never holds the secret. */
export class SecretBoxError extends Error {
  constructor(message: string) {
    super(`SecretBox: ${message}`);
    this.name = 'SecretBoxError';
  }
}

/** How many secrets (one per context: a shop's key or token of one kind) one SecretBox keeps opened: about 5 per shop. */
const OPENED_SLOTS = 4096;

/**
 * Encrypts secrets at rest (Flex keys, Shopify tokens, webhook secrets) with AES-256-GCM.
 *
 * The context string (e.g. "shop:<id>:flex-live-api-key") is bound in as additional authenticated
 * data, so a ciphertext copied into another shop's row, or another column, fails to decrypt.
 *
 * Several keys can be configured (newest last) so they can be rotated: new secrets are sealed with
 * the newest, and each ciphertext names the key that sealed it, so older ones still open until
 * `secrets:rotate` has re-sealed them. Format: "v2.<key id>.<iv>.<tag>.<ciphertext>", the last three
 * base64url; "v2.<key id>." is authenticated too, so a ciphertext relabelled with another key id or
 * version does not open. Ciphertexts from before key ids ("v1.<iv>.<tag>.<ciphertext>") are opened
 * with whichever configured key authenticates them.
 */
export class SecretBox {
  private readonly keys: readonly EncryptionKey[];
  private readonly byId: Map<string, Buffer>;
  /**
   * The last secret opened under each context, with the exact ciphertext it came from. Every payment
   * reads its shop's Flex keys from the database again (so a disconnect or a new key takes effect at
   * once, on every instance), and opening them took about 4 % of the app's CPU on the payment path
   * (profile, 2026-12-01). Remembering the plaintext of the exact stored ciphertext changes nothing a
   * reader sees: a box's keys never change, so the same ciphertext under the same context always
   * opens to the same plaintext; a new key, a rotation or a tampered value is another string, which
   * replaces the slot when it opens and empties it when it does not (a refusal is never remembered),
   * so a replaced secret does not stay in memory past the next read of its row (a deleted row's
   * stays until its slot is the least recently used one, which goes first when all are taken).
   */
  private readonly opened = new Map<string, { sealed: string; plaintext: string }>();

  /** `keys`: newest last. A bare Buffer is one key with its derived id. */
  constructor(keys: Buffer | readonly EncryptionKey[]) {
    this.keys = Buffer.isBuffer(keys) ? [{ id: derivedKeyId(keys), key: keys }] : [...keys];
    if (this.keys.length === 0) throw new Error('SecretBox needs at least one key');
    this.byId = new Map();
    for (const { id, key } of this.keys) {
      if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
      if (!KEY_ID_PATTERN.test(id)) throw new Error(`SecretBox: key id "${id}" may hold only letters, digits, "-" and "_"`);
      if (this.byId.has(id)) throw new Error(`SecretBox: key id "${id}" is configured twice`);
      this.byId.set(id, key);
    }
  }

  /** The id of the key new secrets are sealed with. */
  get currentKeyId(): string {
    return this.keys[this.keys.length - 1]!.id;
  }

  encrypt(plaintext: string, context: string): string {
    const { id, key } = this.keys[this.keys.length - 1]!;
    const header = `v2.${id}.`;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(header + context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return header + [iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  decrypt(sealed: string, context: string): string {
    const slot = this.opened.get(context);
    this.opened.delete(context);
    if (slot?.sealed === sealed) {
      this.opened.set(context, slot);
      return slot.plaintext;
    }
    const plaintext = this.openSealed(sealed, context);
    if (this.opened.size >= OPENED_SLOTS) this.opened.delete(this.opened.keys().next().value!);
    this.opened.set(context, { sealed, plaintext });
    return plaintext;
  }

  private openSealed(sealed: string, context: string): string {
    const parts = sealed.split('.');
    if (parts[0] === 'v2' && parts.length === 5) {
      const [, id, ...rest] = parts as [string, string, string, string, string];
      const key = this.byId.get(id);
      if (!key) throw new SecretBoxError(`sealed with key "${id}", which is not configured (ENCRYPTION_KEYS)`);
      const opened = open(key, sealedParts(rest), `v2.${id}.${context}`);
      if (opened === undefined) throw new SecretBoxError(`the ciphertext does not authenticate with key "${id}" (wrong context, or tampered with)`);
      return opened;
    }
    if (parts[0] === 'v1' && parts.length === 4) {
      const pieces = sealedParts(parts.slice(1));
      // No key id: try each key, newest first. GCM refuses every key but the one that sealed it.
      for (const { key } of [...this.keys].reverse()) {
        const opened = open(key, pieces, context);
        if (opened !== undefined) return opened;
      }
      throw new SecretBoxError('no configured key opens this ciphertext (sealed before key ids, v1), or it was tampered with');
    }
    throw new SecretBoxError('unrecognised ciphertext format');
  }

  /** True when `sealed` is already sealed with the newest key (nothing for `secrets:rotate` to do). */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(`v2.${this.currentKeyId}.`);
  }

  /** The same secret sealed with the newest key; `sealed` itself when it already is. */
  reseal(sealed: string, context: string): string {
    return this.isCurrent(sealed) ? sealed : this.encrypt(this.decrypt(sealed, context), context);
  }
}

interface SealedParts {
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

function sealedParts([iv, tag, ciphertext]: string[]): SealedParts {
  const parts = { iv: Buffer.from(iv!, 'base64url'), tag: Buffer.from(tag!, 'base64url'), ciphertext: Buffer.from(ciphertext!, 'base64url') };
  if (parts.iv.length !== IV_BYTES) throw new SecretBoxError(`the IV must be ${IV_BYTES} bytes`);
  // A shorter tag is weaker protection against forgery; GCM would accept one unless told the length.
  if (parts.tag.length !== TAG_BYTES) throw new SecretBoxError(`the authentication tag must be ${TAG_BYTES} bytes`);
  return parts;
}

/** The plaintext, or undefined when the key and additional data do not authenticate the ciphertext. */
function open(key: Buffer, { iv, tag, ciphertext }: SealedParts, aad: string): string | undefined {
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** A short, non-secret hint for showing which key is stored ("fsk_test_…9f2c"). */
export function secretHint(secret: string): string {
  const prefix = /^[a-z]+_(test_)?/.exec(secret)?.[0] ?? '';
  return `${prefix}…${secret.slice(-4)}`;
}
