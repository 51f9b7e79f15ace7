import type { FlexMode } from '@prisma/client';
import type { Transactor } from '../db/transactor';
import type { FlexClient } from '../flex/flex-client';
import type { Clock } from '../lib/clock';
import type { ShopDomain } from '../lib/ids';
import type { Logger } from '../lib/logger';
import type { RunNowResult } from '../outbox/outbox-worker';
import { describeOpenMoney, type ConnectFlexAccount } from './connect-flex-account';
import type { FlexConnectionWithSecrets } from '../db/repositories/flex-connections';
import { desiredConfiguration, enqueueConfiguration, type PaymentsAppConfiguration } from './payments-app-configuration';

export type ConnectOutcome =
  | { ok: true; modes: FlexMode[]; shopifyAttempt: RunNowResult }
  | { ok: false; problems: string[] };

export type DisconnectOutcome = { ok: true; removed: FlexMode[]; shopifyAttempt: RunNowResult | null } | { ok: false; problem: string };

/**
 * The settings page's Flex account actions. Connecting reuses ConnectFlexAccount (each key checked
 * with Flex, webhook endpoints registered, keys stored encrypted; a refused key stores nothing), then
 * tells Shopify the provider is ready. Disconnecting removes the keys and their Flex webhook
 * endpoints and tells Shopify it no longer is.
 */
export class MerchantFlexAccount {
  constructor(
    private readonly deps: {
      transactor: Transactor;
      connectFlex: ConnectFlexAccount;
      configuration: PaymentsAppConfiguration;
      flex: FlexClient;
      clock: Clock;
      logger: Logger;
      runNow: (jobId: string) => Promise<RunNowResult>;
    },
  ) {}

  async connect(shopDomain: ShopDomain, input: { live?: string; test?: string }): Promise<ConnectOutcome> {
    const keys = { live: blankToUndefined(input.live), test: blankToUndefined(input.test) };
    const result = await this.deps.connectFlex.execute(shopDomain, keys, { createShop: false });
    if (!result.ok) return result;
    const { attempt } = await this.deps.configuration.sync(result.shopId);
    return { ok: true, modes: result.connections.map((c) => c.mode), shopifyAttempt: attempt };
  }

  /** Removes one mode's key, or both. */
  async disconnect(shopDomain: ShopDomain, which: FlexMode | 'ALL'): Promise<DisconnectOutcome> {
    const { repos } = this.deps.transactor;
    const shop = await repos.shops.findByDomain(shopDomain);
    if (!shop) return { ok: false, problem: 'This shop has not installed the app' };
    const existing = (await repos.flexConnections.listForShop(shop.id)).filter((c) => which === 'ALL' || c.mode === which);
    if (existing.length === 0) return { ok: true, removed: [], shopifyAttempt: null };
    // The key is what finishes open payments, refunds and authorizations: it stays until they are final.
    for (const connection of existing) {
      const open = await describeOpenMoney(this.deps.transactor, shop.id, connection.mode);
      if (open) return { ok: false, problem: `${open} Disconnecting would leave them with no way to finish. Finish them first (capture or void authorizations, wait for refunds), then disconnect.` };
    }

    // Best effort, before the keys are dropped (deleting an endpoint needs its key). A failure leaves
    // an endpoint whose deliveries this app refuses: no connection, no secret.
    await removeWebhookEndpoints(this.deps.flex, existing, this.deps.logger);

    const job = await this.deps.transactor.run(async (tx) => {
      for (const connection of existing) await tx.flexConnections.remove(shop.id, connection.mode);
      const remaining = await tx.flexConnections.listForShop(shop.id);
      return enqueueConfiguration(tx, shop.id, desiredConfiguration(shop.status === 'ACTIVE', remaining), this.deps.clock.now());
    });
    const attempt = await this.deps.runNow(job.id);
    this.deps.logger.info({ shop: shopDomain, removed: existing.map((c) => c.mode) }, 'disconnected Flex');
    return { ok: true, removed: existing.map((c) => c.mode), shopifyAttempt: attempt };
  }
}

export async function removeWebhookEndpoints(flex: FlexClient, connections: FlexConnectionWithSecrets[], logger: Logger): Promise<void> {
  for (const connection of connections) {
    if (!connection.webhookEndpointId) continue;
    try {
      await flex.forKey(connection.apiKey).deleteWebhookEndpoint(connection.webhookEndpointId, `delete-webhook-endpoint:${connection.webhookEndpointId}`);
    } catch (error) {
      logger.warn({ webhookEndpointId: connection.webhookEndpointId, mode: connection.mode, err: (error as Error).message }, 'could not remove a Flex webhook endpoint');
    }
  }
}

function blankToUndefined(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
