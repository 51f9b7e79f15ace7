import type { PrismaClient } from '@prisma/client';
import { PrismaSessionStorage } from '@shopify/shopify-app-session-storage-prisma';

/**
 * Shopify's Prisma session storage, made to survive a database that is slow or away when the app
 * starts. The library checks once, in the background, that its table exists; if that one check fails
 * it leaves a rejected promise nobody awaits (an unhandled rejection: a crash under Node's default)
 * and refuses every later call until `isReady()` is asked again. Our migrations create the table
 * before the app starts, so a failed check means an outage, not a missing table: the rejection is
 * handled here, and `EncryptedSessionStorage` asks `isReady()` again until one check succeeds.
 */
export function openShopifySessionStorage(prisma: PrismaClient): PrismaSessionStorage<PrismaClient> {
  const storage = new PrismaSessionStorage(prisma, { connectionRetries: 1, connectionRetryIntervalMs: 0 });
  // `ready` is private in the library's types; it is the promise its constructor starts.
  void (storage as unknown as { ready: Promise<unknown> }).ready.catch(() => undefined);
  return storage;
}
