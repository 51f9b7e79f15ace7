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
