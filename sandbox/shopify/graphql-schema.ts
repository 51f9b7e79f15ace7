// The Payments Apps GraphQL schema, one per API version. Enum values differ between versions, and a
// document that uses a value its version does not have must fail validation exactly like on Shopify,
// so the SDL is generated per version instead of being one permissive schema.
import { buildSchema, GraphQLError, GraphQLScalarType, GraphQLSchema, Kind, type ValueNode } from 'graphql';

export const KNOWN_API_VERSIONS = [
  '2025-01',
  '2025-04',
  '2025-07',
  '2025-10',
  '2026-01',
  '2026-04',
  '2026-07',
  '2026-10',
  'unstable',
] as const;

/** Versions served when the simulator is not told otherwise (`unstable` only on request). */
export const DEFAULT_SUPPORTED_VERSIONS: readonly string[] = KNOWN_API_VERSIONS.filter((v) => v !== 'unstable');

const BASE_REJECTED_REASONS = [
  'AUTHENTICATION_FAILED',
  'CARD_DECLINED',
  'CONFIRMATION_REJECTED',
  'EXPIRED_CARD',
  'INCORRECT_ADDRESS',
  'INCORRECT_CVC',
  'INCORRECT_NUMBER',
  'INCORRECT_PIN',
  'INCORRECT_ZIP',
  'INVALID_CVC',
  'INVALID_EXPIRY_DATE',
  'INVALID_NUMBER',
  'PROCESSING_ERROR',
  'RISKY',
];

const REJECTED_REASONS_ADDED_2026_07 = [
  'AMOUNT_TOO_LARGE',
  'AMOUNT_TOO_SMALL',
  'AUTHENTICATION_REQUIRED',
  'CALL_ISSUER',
  'CANCELLED_PAYMENT',
  'CARD_TESTING',
  'DO_NOT_HONOR',
  'FRAUD_SUSPECTED',
  'HIGH_RISK_FRAUD_SUSPECTED',
  'INSTRUMENT_DECLINED',
  'INSUFFICIENT_FUNDS',
  'INVALID_AMOUNT',
  'INVALID_CURRENCY',
  'INVALID_PAYMENT_METHOD',
  'INVALID_PURCHASE_TYPE',
  'INVALID_REQUEST',
  'MERCHANT_ACCOUNT_ERROR',
  'MERCHANT_RULE',
  'PAYMENT_METHOD_UNSUPPORTED',
  'PICK_UP_CARD',
  'RETRY_DECLINED',
  'TRANSACTION_LIMIT_EXCEEDED',
];

export interface VersionFeatures {
  version: string;
  rejectedReasons: string[];
  pendingReasons: string[];
  stateCodes: string[];
  /** `PaymentSessionRejectionReasonInput.source` (NETWORK | PROVIDER) exists from 2026-04. */
  rejectionSource: boolean;
  /** `RISKY` is still accepted but marked deprecated from 2025-10. */
  riskyDeprecated: boolean;
  /** `PaymentSessionStateBuyerActionRequired` and its state code exist from 2025-07. */
  buyerActionRequiredState: boolean;
}

/** `unstable` sorts after every dated version. */
export function versionAtLeast(version: string, minimum: string): boolean {
  if (version === 'unstable') return true;
  return version >= minimum;
}

export function isKnownApiVersion(version: string): boolean {
  return (KNOWN_API_VERSIONS as readonly string[]).includes(version);
}

export function versionFeatures(version: string): VersionFeatures {
  const rejectedReasons = [...BASE_REJECTED_REASONS];
  if (versionAtLeast(version, '2026-07')) rejectedReasons.push(...REJECTED_REASONS_ADDED_2026_07);
  const pendingReasons = ['BUYER_ACTION_REQUIRED', 'NETWORK_ACTION_REQUIRED', 'PARTNER_ACTION_REQUIRED'];
  const stateCodes = ['RESOLVED', 'REJECTED', 'PENDING', 'REDIRECTING', 'CONFIRMING'];
  if (versionAtLeast(version, '2025-07')) {
    pendingReasons.push('MERCHANT_ACTION_REQUIRED');
    stateCodes.push('BUYER_ACTION_REQUIRED');
  }
  return {
    version,
    rejectedReasons: rejectedReasons.sort(),
    pendingReasons,
    stateCodes,
    rejectionSource: versionAtLeast(version, '2026-04'),
    riskyDeprecated: versionAtLeast(version, '2025-10'),
    buyerActionRequiredState: versionAtLeast(version, '2025-07'),
  };
}

function enumBlock(name: string, values: string[], deprecated: Record<string, string> = {}): string {
  const lines = values.map((v) => (deprecated[v] ? `  ${v} @deprecated(reason: ${JSON.stringify(deprecated[v])})` : `  ${v}`));
  return `enum ${name} {\n${lines.join('\n')}\n}`;
}

/** The SDL of one API version. Only the parts a payments app uses are modelled. */
export function paymentsAppsSdl(version: string): string {
  const f = versionFeatures(version);
  const stateTypes = ['Resolved', 'Rejected', 'Pending', 'Redirecting', 'Confirming']
    .concat(f.buyerActionRequiredState ? ['BuyerActionRequired'] : [])
    .map((t) => `PaymentSessionState${t}`);
  const rejectedDeprecations: Record<string, string> = f.riskyDeprecated
    ? { RISKY: 'Use a more specific rejection reason instead.' }
    : {};
  return `
"""An ISO-8601 encoded UTC date time string, e.g. 2026-05-01T12:00:00Z."""
scalar DateTime
"""An RFC 3986 compliant absolute URL."""
scalar URL

type Query {
  publicApiVersions: [ApiVersion!]!
}

type ApiVersion {
  displayName: String!
  handle: String!
  supported: Boolean!
}

type Mutation {
  paymentSessionResolve(id: ID!, authorizationExpiresAt: DateTime, networkTransactionId: String): PaymentSessionResolvePayload
  paymentSessionReject(id: ID!, reason: PaymentSessionRejectionReasonInput!): PaymentSessionRejectPayload
  paymentSessionPending(id: ID!, pendingExpiresAt: DateTime!, reason: PaymentSessionStatePendingReason!): PaymentSessionPendingPayload
  paymentSessionRedirect(id: ID!, redirectUrl: URL!): PaymentSessionRedirectPayload
  refundSessionResolve(id: ID!): RefundSessionResolvePayload
  refundSessionReject(id: ID!, reason: RefundSessionRejectionReasonInput!): RefundSessionRejectPayload
  captureSessionResolve(id: ID!): CaptureSessionResolvePayload
  captureSessionReject(id: ID!, reason: CaptureSessionRejectionReasonInput!): CaptureSessionRejectPayload
  voidSessionResolve(id: ID!): VoidSessionResolvePayload
  voidSessionReject(id: ID!, reason: VoidSessionRejectionReasonInput!): VoidSessionRejectPayload
  paymentsAppConfigure(ready: Boolean!, externalHandle: String): PaymentsAppConfigurePayload
}

type UserError {
  field: [String!]
  message: String!
}

${enumBlock('PaymentSessionStateRejectedReason', f.rejectedReasons, rejectedDeprecations)}
${enumBlock('PaymentSessionStatePendingReason', f.pendingReasons)}
${enumBlock('PaymentSessionStateCode', f.stateCodes)}
${f.rejectionSource ? enumBlock('PaymentSessionStateRejectedSource', ['NETWORK', 'PROVIDER']) : ''}

input PaymentSessionRejectionReasonInput {
  code: PaymentSessionStateRejectedReason!
  merchantMessage: String
${f.rejectionSource ? '  source: PaymentSessionStateRejectedSource' : ''}
}

type PaymentSession {
  id: ID!
  state: PaymentSessionStates!
  nextAction: PaymentSessionNextAction
  authorizationExpiresAt: DateTime
  pendingExpiresAt: DateTime
}

interface PaymentSessionState { code: PaymentSessionStateCode! }
union PaymentSessionStates = ${stateTypes.join(' | ')}
type PaymentSessionStateResolved implements PaymentSessionState { code: PaymentSessionStateCode! }
type PaymentSessionStateRejected implements PaymentSessionState { code: PaymentSessionStateCode! reason: PaymentSessionStateRejectedReason! merchantMessage: String }
type PaymentSessionStatePending implements PaymentSessionState { code: PaymentSessionStateCode! reason: PaymentSessionStatePendingReason }
type PaymentSessionStateRedirecting implements PaymentSessionState { code: PaymentSessionStateCode! }
type PaymentSessionStateConfirming implements PaymentSessionState { code: PaymentSessionStateCode! }
${f.buyerActionRequiredState ? 'type PaymentSessionStateBuyerActionRequired implements PaymentSessionState { code: PaymentSessionStateCode! }' : ''}

${enumBlock('PaymentSessionNextActionAction', ['REDIRECT'])}
type PaymentSessionNextAction {
  action: PaymentSessionNextActionAction!
  context: PaymentSessionNextActionContext!
}
union PaymentSessionNextActionContext = PaymentSessionActionsRedirect
type PaymentSessionActionsRedirect { redirectUrl: URL! }

type PaymentSessionResolvePayload { paymentSession: PaymentSession userErrors: [UserError!]! }
type PaymentSessionRejectPayload { paymentSession: PaymentSession userErrors: [UserError!]! }

${enumBlock('PaymentSessionPendingUserErrorCode', [
  'EXPIRED_PENDING_EXPIRES_AT',
  'OUT_OF_RANGE_PENDING_EXPIRES_AT',
  'PENDING_INVALID_STATE',
  'NOT_FOUND',
  'UNSUPPORTED_PAYMENT_METHOD',
])}
type PaymentSessionPendingUserError { code: PaymentSessionPendingUserErrorCode field: [String!] message: String! }
type PaymentSessionPendingPayload { paymentSession: PaymentSession userErrors: [PaymentSessionPendingUserError!]! }

${enumBlock('PaymentSessionRedirectUserErrorCode', [
  'BUYER_ALREADY_REDIRECTED_BY_SHOPIFY',
  'INVALID_STATE_TRANSITION',
  'PAYMENT_SESSION_NOT_FOUND',
  'REDIRECT_NOT_SUPPORTED_FOR_CREDIT_CARD',
  'REDIRECT_NOT_SUPPORTED_FOR_OFFSITE',
  'REDIRECT_NOT_SUPPORTED_FOR_ONSITE',
])}
type PaymentSessionRedirectUserError { code: PaymentSessionRedirectUserErrorCode field: [String!] message: String! }
type PaymentSessionRedirectPayload { paymentSession: PaymentSession userErrors: [PaymentSessionRedirectUserError!]! }

${followUpSdl('Refund', ['PROCESSING_ERROR'])}
${followUpSdl('Capture', ['AUTHORIZATION_EXPIRED', 'PROCESSING_ERROR'])}
${followUpSdl('Void', ['PROCESSING_ERROR'])}

type PaymentsAppConfiguration { externalHandle: String ready: Boolean! }
type PaymentsAppConfigurePayload { paymentsAppConfiguration: PaymentsAppConfiguration userErrors: [UserError!]! }
`;
}

/**
 * Refund, capture and void sessions share one shape; only the rejection codes differ. The input
 * enum (`…StatusReasonRejectionCode`) and the state's `reason` enum (`…StateRejectedReason`) are
 * distinct types on Shopify, with the same values.
 */
function followUpSdl(kind: 'Refund' | 'Capture' | 'Void', rejectionCodes: string[]): string {
  const upper = kind.toUpperCase();
  return `
${enumBlock(`${kind}SessionStatusReasonRejectionCode`, rejectionCodes)}
${enumBlock(`${kind}SessionStateRejectedReason`, rejectionCodes)}
${enumBlock(`${kind}SessionStateCode`, ['REJECTED', 'RESOLVED'])}
input ${kind}SessionRejectionReasonInput { code: ${kind}SessionStatusReasonRejectionCode! merchantMessage: String }
type ${kind}Session { id: ID! state: ${kind}SessionStates! }
interface ${kind}SessionState { code: ${kind}SessionStateCode! }
union ${kind}SessionStates = ${kind}SessionStateResolved | ${kind}SessionStateRejected
type ${kind}SessionStateResolved implements ${kind}SessionState { code: ${kind}SessionStateCode! }
type ${kind}SessionStateRejected implements ${kind}SessionState { code: ${kind}SessionStateCode! reason: ${kind}SessionStateRejectedReason! merchantMessage: String }
${enumBlock(`${kind}SessionResolveUserErrorCode`, [`${upper}_SESSION_INVALID_STATE`, `${upper}_SESSION_NOT_FOUND`])}
${enumBlock(`${kind}SessionRejectUserErrorCode`, [`${upper}_SESSION_INVALID_STATE`, `${upper}_SESSION_NOT_FOUND`])}
type ${kind}SessionResolveUserError { code: ${kind}SessionResolveUserErrorCode field: [String!] message: String! }
type ${kind}SessionRejectUserError { code: ${kind}SessionRejectUserErrorCode field: [String!] message: String! }
type ${kind}SessionResolvePayload { ${kind.toLowerCase()}Session: ${kind}Session userErrors: [${kind}SessionResolveUserError!]! }
type ${kind}SessionRejectPayload { ${kind.toLowerCase()}Session: ${kind}Session userErrors: [${kind}SessionRejectUserError!]! }
`;
}

/** Shopify prints DateTime without milliseconds: 2026-05-01T12:00:00Z. */
export function formatDateTime(value: Date | string | number): string {
  return new Date(value).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function parseDateTime(value: unknown): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new GraphQLError(`Argument isn't a valid ISO-8601 DateTime: ${JSON.stringify(value)}`);
  }
  return formatDateTime(value);
}

function parseUrl(value: unknown): string {
  if (typeof value !== 'string' || !URL.canParse(value)) {
    throw new GraphQLError(`Argument isn't a valid URL: ${JSON.stringify(value)}`);
  }
  return value;
}

function literalString(node: ValueNode): unknown {
  return node.kind === Kind.STRING ? node.value : undefined;
}

// buildSchema leaves custom scalars as pass-through; give them Shopify's strictness.
function tightenScalars(schema: GraphQLSchema): GraphQLSchema {
  const scalars: Array<[string, (value: unknown) => string]> = [
    ['DateTime', parseDateTime],
    ['URL', parseUrl],
  ];
  for (const [name, parse] of scalars) {
    const type = schema.getType(name) as GraphQLScalarType;
    Object.assign(type, {
      parseValue: parse,
      parseLiteral: (node: ValueNode) => parse(literalString(node)),
      serialize: (value: unknown) => value,
    });
  }
  return schema;
}

const schemaCache = new Map<string, GraphQLSchema>();

export function schemaForVersion(version: string): GraphQLSchema {
  let schema = schemaCache.get(version);
  if (!schema) {
    schema = tightenScalars(buildSchema(paymentsAppsSdl(version)));
    schemaCache.set(version, schema);
  }
  return schema;
}
