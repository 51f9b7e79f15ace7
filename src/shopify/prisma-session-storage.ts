import type { PrismaClient } from '@prisma/client';
import type { Session } from '@shopify/shopify-api';
import type { SessionStorage } from '@shopify/shopify-app-session-storage';
import { PrismaSessionStorage } from '@shopify/shopify-app-session-storage-prisma';

/**
 * Shopify's Prisma session storage, made to survive a database that is slow or away when the app
 * starts, and opened only when a session is first used (a CLI command that never touches one starts
 * no check). The library checks once, in the background, that its table exists; if that one check
 * fails it leaves a rejected promise nobody awaits (an unhandled rejection: a crash under Node's
 * default) and refuses every later call until `isReady()` is asked again. Our migrations create the
 * table before the app starts, so a failed check means an outage, not a missing table: the rejection
 * is handled here, and `EncryptedSessionStorage` asks `isReady()` again until one check succeeds.
 */
export function openShopifySessionStorage(prisma: PrismaClient): SessionStorage & { isReady(): Promise<boolean> } {
  let opened: PrismaSessionStorage<PrismaClient> | undefined;
  const storage = (): PrismaSessionStorage<PrismaClient> => {
    if (!opened) {
      opened = new PrismaSessionStorage(prisma, { connectionRetries: 1, connectionRetryIntervalMs: 0 });
      // `ready` is private in the library's types; it is the promise its constructor starts.
      void (opened as unknown as { ready: Promise<unknown> }).ready.catch(() => undefined);
    }
    return opened;
  };
  return {
    isReady: () => storage().isReady(),
    storeSession: (session: Session) => storage().storeSession(session),
    loadSession: (id: string) => storage().loadSession(id),
    deleteSession: (id: string) => storage().deleteSession(id),
    deleteSessions: (ids: string[]) => storage().deleteSessions(ids),
    findSessionsByShop: (shop: string) => storage().findSessionsByShop(shop),
  };
}
