import type { PrismaClient } from '@prisma/client';
import type { SecretBox } from '../lib/secret-box';
import { CustomerDataRepository } from '../merchant/customer-data-repository';
import { ShopifyWebhookDeliveryRepository } from '../merchant/shopify-webhook-delivery-repository';
import { JobRepository } from '../outbox/job-repository';
import { CaptureSessionRepository } from '../payments/capture/capture-session-repository';
import { PaymentLedger } from '../payments/payment-ledger';
import { PaymentSessionRepository } from '../payments/payment-session-repository';
import { RefundSessionRepository } from '../payments/refund/refund-session-repository';
import { VoidSessionRepository } from '../payments/void/void-session-repository';
import { FlexConnectionRepository } from '../shops/flex-connection-repository';
import { ShopRepository } from '../shops/shop-repository';
import { OAuthStateStore } from '../shopify/oauth-state-store';
import { FlexWebhookDeliveryRepository } from '../webhooks/flex-webhook-delivery-repository';
import type { DbClient } from './db-client';

export interface Repositories {
  shops: ShopRepository;
  flexConnections: FlexConnectionRepository;
  payments: PaymentSessionRepository;
  jobs: JobRepository;
  flexWebhookDeliveries: FlexWebhookDeliveryRepository;
  refunds: RefundSessionRepository;
  captures: CaptureSessionRepository;
  voids: VoidSessionRepository;
  ledger: PaymentLedger;
  shopifyWebhookDeliveries: ShopifyWebhookDeliveryRepository;
  customerData: CustomerDataRepository;
  oauthStates: OAuthStateStore;
}

export function createRepositories(db: DbClient, secrets: SecretBox): Repositories {
  return {
    shops: new ShopRepository(db),
    flexConnections: new FlexConnectionRepository(db, secrets),
    payments: new PaymentSessionRepository(db),
    jobs: new JobRepository(db),
    flexWebhookDeliveries: new FlexWebhookDeliveryRepository(db),
    refunds: new RefundSessionRepository(db),
    captures: new CaptureSessionRepository(db),
    voids: new VoidSessionRepository(db),
    ledger: new PaymentLedger(db),
    shopifyWebhookDeliveries: new ShopifyWebhookDeliveryRepository(db),
    customerData: new CustomerDataRepository(db),
    oauthStates: new OAuthStateStore(db),
  };
}

/** Runs work in one database transaction, with repositories bound to it. */
export class Transactor {
  readonly repos: Repositories;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly secrets: SecretBox,
  ) {
    this.repos = createRepositories(prisma, secrets);
  }

  run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.prisma.$transaction((tx) => work(createRepositories(tx, this.secrets)), { timeout: 15_000, maxWait: 15_000 });
  }
}
