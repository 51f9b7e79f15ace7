import type { FlexMode } from '@prisma/client';
import { LRUCache } from 'lru-cache';
import type { ShopWithConnection } from '../../db/repositories/flex-connections';

type Connection = NonNullable<ShopWithConnection['connection']>;

/** A shop with the connection whose secret can verify its Flex webhooks. */
export type SigningConnection = Pick<ShopWithConnection, 'shop'> & {
  connection: Connection & { webhookSecret: NonNullable<Connection['webhookSecret']>; webhookSecretCiphertext: string };
};

/**
 * The shops' Flex connections (their webhook signing secrets, decrypted), kept for a while by shop
 * domain and mode, so that a Flex webhook is verified without first reading the database: one round
 * trip fewer on every payment's webhook.
 *
 * A kept connection can be stale (the merchant replaced or removed the key, or the encryption key was
 * rotated and the secrets re-encrypted, on this instance or another). That is safe because a kept
 * secret is only ever a first try: a delivery it does not verify is verified again against the stored
 * secret before it is refused, and a delivery it does verify is recorded (and its event applied) only
 * if that secret is still the stored one, checked by the statement that records it
 * (insertFlexDeliverySql); otherwise HandleFlexWebhook forgets the entry and starts over from the
 * database. A re-encryption (`secrets:rotate`) changes every stored ciphertext, so each kept entry then
 * costs one such start-over. `ttlMs` bounds how long an entry is used (and held in memory) before it is
 * read again anyway, and `max` how many shops are kept (least recently used go first). Only
 * connections whose secret verified a delivery are kept, so requests naming shops that do not exist,
 * or signed by anyone else, fill nothing; and an entry goes only when the stored connection is found
 * to differ from it, so such requests empty nothing either.
 */
export class FlexWebhookConnectionCache {
  private readonly entries: LRUCache<string, SigningConnection>;

  constructor(options: { ttlMs: number; max: number }) {
    // lru-cache reads a ttl of 0 as "never expires".
    if (!(options.ttlMs > 0)) throw new Error(`the Flex webhook connection cache needs a positive ttlMs, not ${options.ttlMs}`);
    // Purged when they expire, not when next looked up: the decrypted secrets leave memory with them.
    this.entries = new LRUCache({ max: options.max, ttl: options.ttlMs, ttlAutopurge: true });
  }

  get(shopDomain: string, mode: FlexMode): SigningConnection | undefined {
    return this.entries.get(key(shopDomain, mode));
  }

  remember(shopDomain: string, mode: FlexMode, found: SigningConnection): void {
    this.entries.set(key(shopDomain, mode), found);
  }

  forget(shopDomain: string, mode: FlexMode): void {
    this.entries.delete(key(shopDomain, mode));
  }
}

function key(shopDomain: string, mode: FlexMode): string {
  return `${mode} ${shopDomain}`;
}
