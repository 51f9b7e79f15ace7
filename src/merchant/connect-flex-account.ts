import { enqueueWebPixelActivation } from '../cart/activate-web-pixel';
import { createHash, randomUUID } from 'node:crypto';
import type { FlexMode } from '@prisma/client';
import { startCatalogSync } from '../catalog/catalog-jobs';
import type { Transactor } from '../db/transactor';
import { FlexApiError, type FlexClient } from '../flex/flex-client';
import type { Clock } from '../lib/clock';
import type { ShopDomain, ShopId } from '../lib/ids';
import type { Logger } from '../lib/logger';
import { Secret } from '../lib/secret';
import { secretHint } from '../lib/secret-box';

export interface FlexKeysInput {
  live?: string;
  test?: string;
}

export type ConnectFlexResult =
  | { ok: true; shopId: ShopId; connections: Array<{ mode: FlexMode; apiKeyHint: string; webhookEndpointId: string }> }
  | { ok: false; problems: string[] };

/**
 * Connects a shop's Flex account: each key is checked with Flex, a webhook endpoint is registered
 * per mode (live and test are separate in Flex), and only when all of that worked are the keys and
 * signing secrets stored, encrypted, and the catalog sync of each mode started. A refused key
 * stores nothing.
 */
export class ConnectFlexAccount {
  constructor(
    private readonly deps: {
      transactor: Transactor;
      flex: FlexClient;
      clock: Clock;
      logger: Logger;
      appUrl: string;
      /** The Flex events the app handles: what each new webhook endpoint subscribes to. */
      subscribedEvents: () => string[];
    },
  ) {}

  /** Checks key formats locally (nothing sent anywhere). */
  static checkKeyFormats(keys: FlexKeysInput): string[] {
    const problems: string[] = [];
    if (keys.live !== undefined) {
      if (keys.live.startsWith('fsk_test_')) problems.push('The live API key is a test key (it starts with fsk_test_); use a key that starts with fsk_');
      else if (!/^fsk_[A-Za-z0-9_]{8,}$/.test(keys.live)) problems.push('The live API key does not look like a Flex secret key (fsk_…)');
    }
    if (keys.test !== undefined && !/^fsk_test_[A-Za-z0-9_]{4,}$/.test(keys.test)) {
      problems.push('The test API key does not look like a Flex test secret key (fsk_test_…)');
    }
    if (keys.live === undefined && keys.test === undefined) problems.push('Give at least one Flex API key');
    return problems;
  }

  /**
   * `createShop` lets the operator command put a new shop in service; the settings page only ever
   * connects shops that installed the app.
   */
  async execute(shopDomain: ShopDomain, keys: FlexKeysInput, options: { createShop: boolean }): Promise<ConnectFlexResult> {
    const shop = { domain: shopDomain };
    if (!options.createShop && !(await this.deps.transactor.repos.shops.findByDomain(shopDomain))) {
      return { ok: false, problems: [`Shop ${shopDomain} has not installed this app`] };
    }
    const formatProblems = ConnectFlexAccount.checkKeyFormats(keys);
    if (formatProblems.length > 0) return { ok: false, problems: formatProblems };
    const entries = ([['LIVE', keys.live], ['TEST', keys.test]] as const).filter((e): e is readonly [FlexMode, string] => e[1] !== undefined);

    const problems: string[] = [];
    for (const [mode, key] of entries) {
      try {
        await this.deps.flex.forKey(new Secret(key)).verifyKey();
      } catch (error) {
        problems.push(describeKeyProblem(mode, error));
      }
    }
    if (problems.length > 0) return { ok: false, problems };
    const switching = await this.accountSwitchProblems(shopDomain, entries);
    if (switching.length > 0) return { ok: false, problems: switching };

    const registered: Array<{ mode: FlexMode; key: string; webhookEndpointId: string; signingSecret: string }> = [];
    const generation = randomUUID();
    try {
      for (const [mode, key] of entries) {
        const fingerprint = createHash('sha256').update(key).digest('hex').slice(0, 16);
        // Each connect is a generation of its own: an endpoint registered again after the merchant
        // disconnected (which deleted it in Flex) must be a new endpoint, not a replay of the deleted
        // one, or deliveries would never start again.
        const endpoint = await this.deps.flex.forKey(new Secret(key)).createWebhookEndpoint(
          { url: flexWebhookUrl(this.deps.appUrl, shop.domain, mode), events: this.deps.subscribedEvents() },
          `webhook-endpoint:${shop.domain}:${mode}:${fingerprint}:${generation}`,
        );
        if (!endpoint.signing_secret) throw new FlexApiError('rejected', 'Flex registered the webhook endpoint without returning its signing secret');
        registered.push({ mode, key, webhookEndpointId: endpoint.webhook_id, signingSecret: endpoint.signing_secret });
      }
    } catch (error) {
      await this.removeEndpoints(registered);
      return { ok: false, problems: [`Could not register the Flex webhook endpoint: ${(error as Error).message}`] };
    }

    const now = this.deps.clock.now();
    const { shopId, previous } = await this.deps.transactor.run(async (repos) => {
      const stored = (await repos.shops.findByDomain(shop.domain)) ?? (await repos.shops.upsertActive(shop.domain, now));
      const replaced: Array<{ key: string; webhookEndpointId: string }> = [];
      for (const r of registered) {
        const saved = await repos.flexConnections.save({
          shopId: stored.id,
          mode: r.mode,
          apiKey: r.key,
          apiKeyHint: secretHint(r.key),
          webhookEndpointId: r.webhookEndpointId,
          webhookSecret: r.signingSecret,
          verifiedAt: now,
        });
        if (saved.previous) replaced.push({ key: saved.previous.apiKey.reveal(), webhookEndpointId: saved.previous.webhookEndpointId });
        // Every variant mirrored in this account and mode (README "Catalog sync"): a full sync from
        // the first page, through the outbox; what is in Flex already is only checked.
        await startCatalogSync(repos, stored.id, r.mode, now);
      }
      // The cart pixel, so that Flex gets the buyer's real cart (a shop installed before the pixel existed gets it here).
      await enqueueWebPixelActivation(repos, stored.id, now);
      return { shopId: stored.id, previous: replaced };
    });
    // The endpoints of replaced keys would keep signing events with secrets we no longer hold.
    await this.removeEndpoints(previous);
    this.deps.logger.info({ shop: shop.domain, modes: registered.map((r) => r.mode) }, 'connected Flex account');
    return { ok: true, shopId, connections: registered.map((r) => ({ mode: r.mode, apiKeyHint: secretHint(r.key), webhookEndpointId: r.webhookEndpointId })) };
  }

  /**
   * Replacing a key is safe when the new one belongs to the same Flex account (a rotated key sees the
   * same checkouts). A key of another account would leave open payments, refunds and authorizations
   * with no key that can finish them: refused, with what is open, until they are final.
   */
  private async accountSwitchProblems(shopDomain: ShopDomain, entries: ReadonlyArray<readonly [FlexMode, string]>): Promise<string[]> {
    const { repos } = this.deps.transactor;
    const shop = await repos.shops.findByDomain(shopDomain);
    if (!shop) return [];
    const problems: string[] = [];
    for (const [mode, key] of entries) {
      const current = await repos.flexConnections.find(shop.id, mode);
      if (!current || current.apiKey.reveal() === key) continue;
      const checkout = await repos.ledger.checkoutOfOpenMoney(shop.id, mode === 'TEST');
      if (!checkout) continue;
      try {
        await this.deps.flex.forKey(new Secret(key)).getCheckoutSession(checkout);
      } catch (error) {
        if (!(error instanceof FlexApiError) || error.kind !== 'not_found') {
          problems.push(`Could not check that the new ${mode === 'LIVE' ? 'live' : 'test'} key belongs to the same Flex account (${(error as Error).message}); try again`);
          continue;
        }
        problems.push(`${await describeOpenMoney(this.deps.transactor, shop.id, mode)} The new ${mode === 'LIVE' ? 'live' : 'test'} key belongs to another Flex account, which cannot finish them. Finish them first (capture or void authorizations, wait for refunds), or use a new key of the same Flex account.`);
      }
    }
    return problems;
  }

  private async removeEndpoints(endpoints: Array<{ key: string; webhookEndpointId: string }>): Promise<void> {
    for (const e of endpoints) {
      try {
        await this.deps.flex.forKey(new Secret(e.key)).deleteWebhookEndpoint(e.webhookEndpointId, `delete-webhook-endpoint:${e.webhookEndpointId}`);
      } catch (error) {
        this.deps.logger.warn({ webhookEndpointId: e.webhookEndpointId, err: (error as Error).message }, 'could not remove a Flex webhook endpoint');
      }
    }
  }
}

export function flexWebhookUrl(appUrl: string, shopDomain: string, mode: FlexMode): string {
  const query = new URLSearchParams({ shop: shopDomain, mode: mode.toLowerCase() });
  return `${appUrl}/webhooks/flex?${query}`;
}

/** "3 payments and 1 refund are still open in Flex (live)." */
export async function describeOpenMoney(transactor: Transactor, shopId: string, mode: FlexMode): Promise<string> {
  const open = await transactor.repos.ledger.openMoneyOfShop(shopId, mode === 'TEST');
  const parts = (
    [
      [open.payments, 'payment'],
      [open.authorizations, 'authorization not yet captured or voided'],
      [open.refunds, 'refund'],
      [open.captures, 'capture'],
      [open.voids, 'void'],
    ] as const
  )
    .filter(([count]) => count > 0)
    .map(([count, what]) => `${count} ${what.replace(/^(\w+)/, (w) => (count === 1 ? w : `${w}s`))}`);
  return parts.length === 0 ? '' : `${parts.join(', ')} ${parts.length === 1 && (open.payments + open.authorizations + open.refunds + open.captures + open.voids) === 1 ? 'is' : 'are'} still open in Flex (${mode === 'LIVE' ? 'live' : 'test'}).`;
}

function describeKeyProblem(mode: FlexMode, error: unknown): string {
  const label = mode === 'LIVE' ? 'live' : 'test';
  if (error instanceof FlexApiError) {
    if (error.kind === 'unauthorized') return `Flex refused the ${label} API key: check that it is a current secret key from the Flex dashboard (Developers → API keys)`;
    if (error.kind === 'unavailable') return `Could not reach Flex to check the ${label} API key (${error.message}); try again`;
    return `Flex did not accept the ${label} API key: ${error.message}`;
  }
  return `Could not check the ${label} API key: ${(error as Error).message}`;
}
