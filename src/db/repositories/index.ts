import type { SecretBox } from '../../lib/secret-box';
import type { CommitHooks, DbClient } from '../db-client';
import type { SqlRunner } from '../sql';
import { CaptureSessionRepository } from './capture-sessions';
import { CartSnapshotRepository } from './cart-snapshots';
import { CatalogSyncRepository } from './catalog-syncs';
import { CatalogVariantRepository } from './catalog-variants';
import { CustomerDataRepository } from './customer-data';
import { FlexConnectionRepository } from './flex-connections';
import { FlexWebhookDeliveryRepository } from './flex-webhook-deliveries';
import { JobRepository } from './jobs';
import { OAuthStateStore } from './oauth-states';
import { OrderRefundRepository } from './order-refunds';
import { PaymentCartRepository } from './payment-carts';
import { PaymentLedger } from './payment-ledger';
import { PaymentSessionRepository } from './payment-sessions';
import { RefundSessionRepository } from './refund-sessions';
import { ShopRepository } from './shops';
import { ShopifyOrderRepository } from './shopify-orders';
import { ShopifyWebhookDeliveryRepository } from './shopify-webhook-deliveries';
import { ReconciliationRepository } from './reconciliation';
import { VoidSessionRepository } from './void-sessions';

/** Every repository, bound to one database client: the pool, or one transaction (db/transactor.ts). */
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
  cartSnapshots: CartSnapshotRepository;
  paymentCarts: PaymentCartRepository;
  orderRefunds: OrderRefundRepository;
  shopifyOrders: ShopifyOrderRepository;
  reconciliation: ReconciliationRepository;
  /** Each shop's variants as mirrored in Flex, per mode; the synced ones price a cart (`variantsForCart`, and the pay page's cart read: `cartReadSql` in `payments.claimCheckoutCreation` or `cartSnapshots.findByTokenWithCatalog`). */
  catalog: CatalogVariantRepository;
  catalogSyncs: CatalogSyncRepository;
  /** Runs `work` once the surrounding transaction has committed (at once outside a transaction). */
  afterCommit(work: () => void): void;
}

/** `sql` runs the hot statements written as SQL: on the pg pool, or in `db`'s transaction (db/sql.ts). */
export function createRepositories(db: DbClient, sql: SqlRunner, secrets: SecretBox, hooks: CommitHooks): Repositories {
  return {
    shops: new ShopRepository(db, sql),
    flexConnections: new FlexConnectionRepository(db, sql, secrets),
    payments: new PaymentSessionRepository(db, sql, hooks),
    jobs: new JobRepository(db, sql, hooks),
    flexWebhookDeliveries: new FlexWebhookDeliveryRepository(db, sql),
    refunds: new RefundSessionRepository(db),
    captures: new CaptureSessionRepository(db),
    voids: new VoidSessionRepository(db),
    ledger: new PaymentLedger(db),
    shopifyWebhookDeliveries: new ShopifyWebhookDeliveryRepository(db, sql),
    customerData: new CustomerDataRepository(db),
    oauthStates: new OAuthStateStore(db),
    cartSnapshots: new CartSnapshotRepository(db, sql),
    paymentCarts: new PaymentCartRepository(db, sql),
    orderRefunds: new OrderRefundRepository(db),
    shopifyOrders: new ShopifyOrderRepository(db),
    reconciliation: new ReconciliationRepository(db),
    catalog: new CatalogVariantRepository(db, sql),
    catalogSyncs: new CatalogSyncRepository(db),
    afterCommit: hooks.afterCommit,
  };
}
