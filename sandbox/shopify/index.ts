// Shopify simulator: a real HTTP server that behaves like Shopify towards a payments app.
// See README.md in this folder for the full API.
export { ShopifySimulator, startShopifySimulator, type StartedCheckout } from './simulator';
export type { AppConfig, ShopifySimulatorOptions } from './types';
export type { ClientTls } from './http-client';
export type { FaultRule, FaultStatus } from './faults';
export type { MutationRecord, UserErrorView } from './graphql-api';
export {
  KNOWN_API_VERSIONS,
  DEFAULT_SUPPORTED_VERSIONS,
  paymentsAppsSdl,
  schemaForVersion,
  versionFeatures,
} from './graphql-schema';
export type {
  AppAnswer,
  FollowUpKind,
  FollowUpSessionRecord,
  PaymentKind,
  PaymentSessionRecord,
  PaymentSessionStatus,
} from './payments-state';
export type {
  Customer,
  Address,
  FollowUpRequestBody,
  FollowUpSessionInput,
  PaymentSessionInput,
  PaymentSessionRequestBody,
  SentSession,
} from './session-requests';
export type { AccessTokenRecord, PaymentsAppConfigurationRecord, ShopRecord } from './shops';
export { signQuery, hostParam } from './oauth';
export { webhookSignature, type WebhookDelivery, type WebhookOptions } from './webhooks';
export type { AdminCallRecord } from './admin-api';
export { ADMIN_SDL, adminSchema } from './admin-schema';
export { DEFAULT_THROTTLE, MAX_SINGLE_QUERY_COST, queryCost, type CostExtension, type ThrottleSettings } from './admin-cost';
export {
  DEFAULT_ASSUMPTIONS,
  type Assumptions,
  type CancelUrlForm,
  type PaymentInfoTiming,
  type PixelOrigin,
  type RefundTransactionPaymentId,
} from './assumptions';
export type { ProductInput, ProductRecord, SeedCatalogInput, VariantInput, VariantRecord } from './catalog';
export { CHECKOUT_STAGES, type CartChange, type CartLineInput, type CheckoutEventName, type CheckoutInput, type CheckoutRecord } from './checkouts';
export {
  defaultCheckoutSteps,
  type CheckoutRun,
  type CheckoutStep,
  type ProductChange,
  type RefundLinesOptions,
  type RefundLinesResult,
  type RunCheckoutInput,
} from './commerce';
export type { OrderLineRecord, OrderRecord, OrderTransactionRecord, RefundRecord } from './orders';
export type { PixelRequestRecord } from './pixel-runtime';
export type { WebhookEventRecord, WebhookFaultRule } from './webhook-dispatch';
export { parseToml, type WebPixelRecord } from './web-pixels';
