import type { PrismaClient } from '@prisma/client';
import type { DbClient } from '../db/db-client';
import { createRepositories, type Repositories } from '../db/repositories';
import type { SecretBox } from '../lib/secret-box';
import { OAuthStateStore } from '../shopify/oauth-state-store';
import { CustomerDataRepository } from './customer-data-repository';
import { ShopifyWebhookDeliveryRepository } from './shopify-webhook-delivery-repository';

/** The app's repositories plus the merchant-side ones (install, compliance). */
export interface MerchantRepositories extends Repositories {
  shopifyWebhookDeliveries: ShopifyWebhookDeliveryRepository;
  customerData: CustomerDataRepository;
  oauthStates: OAuthStateStore;
  /** Read-only questions the settings page asks. */
  settingsQueries: SettingsQueries;
}

export function createMerchantRepositories(db: DbClient, secrets: SecretBox): MerchantRepositories {
  return {
    ...createRepositories(db, secrets),
    shopifyWebhookDeliveries: new ShopifyWebhookDeliveryRepository(db),
    customerData: new CustomerDataRepository(db),
    oauthStates: new OAuthStateStore(db),
    settingsQueries: new SettingsQueries(db),
  };
}

/** Like `Transactor`, with the merchant repositories bound to the transaction too. */
export class MerchantTransactor {
  readonly repos: MerchantRepositories;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly secrets: SecretBox,
  ) {
    this.repos = createMerchantRepositories(prisma, secrets);
  }

  run<T>(work: (repos: MerchantRepositories) => Promise<T>): Promise<T> {
    return this.prisma.$transaction((tx) => work(createMerchantRepositories(tx, this.secrets)), { timeout: 15_000, maxWait: 15_000 });
  }
}

export class SettingsQueries {
  constructor(private readonly db: DbClient) {}

  /**
   * Paid payments that only the reconciler confirmed: the buyer did not come back and no Flex
   * webhook arrived, a sign that webhooks do not reach the app.
   */
  countResolvedByReconciler(shopId: string, since: Date): Promise<number> {
    return this.db.paymentSession.count({ where: { shopId, status: 'RESOLVED', decisionSource: 'RECONCILER', decidedAt: { gte: since } } });
  }
}
