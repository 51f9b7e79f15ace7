// The subset of Shopify's Admin GraphQL API a payments app uses for catalog sync, the web pixel,
// metafields and orders. Every type, field, argument and enum value below carries Shopify's real name
// (shopify.dev/docs/api/admin-graphql, versions 2025-01 … 2026-10; the parts modelled here did not
// change between them), so a document Shopify would refuse fails validation here too. Enums list only
// the values the simulator can produce or accept, all of them real.
import { buildSchema, GraphQLError, GraphQLScalarType, GraphQLSchema, Kind, type ValueNode } from 'graphql';

const CONNECTION_ARGS = 'first: Int, after: String, last: Int, before: String, reverse: Boolean = false';

function connection(type: string): string {
  return `
type ${type}Connection { edges: [${type}Edge!]! nodes: [${type}!]! pageInfo: PageInfo! }
type ${type}Edge { cursor: String! node: ${type}! }`;
}

export const ADMIN_SDL = `
"""An ISO-8601 encoded UTC date time string."""
scalar DateTime
"""An RFC 3986 compliant absolute URL."""
scalar URL
"""A JSON object or a JSON-encoded string."""
scalar JSON
"""A monetary value string without a currency symbol or code, e.g. "12.5" (ProductVariant.price since 2024-04)."""
scalar Money
"""A signed decimal number serialized as a string, e.g. "29.99"."""
scalar Decimal
"""An HTML string."""
scalar HTML
"""An unsigned 64-bit integer serialized as a string."""
scalar UnsignedInt64

interface Node { id: ID! }
interface LegacyInteroperability { legacyResourceId: UnsignedInt64! }

interface HasMetafields {
  metafield(namespace: String, key: String!): Metafield
  metafields(${CONNECTION_ARGS}, namespace: String, keys: [String!]): MetafieldConnection!
}

type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }

type Count { count: Int! precision: CountPrecision! }
enum CountPrecision { AT_LEAST EXACT }

type Query {
  shop: Shop!
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]!
  product(id: ID!): Product
  products(${CONNECTION_ARGS}, sortKey: ProductSortKeys = ID, query: String, savedSearchId: ID): ProductConnection!
  productsCount(query: String, limit: Int = 10000): Count
  productVariant(id: ID!): ProductVariant
  productVariants(${CONNECTION_ARGS}, sortKey: ProductVariantSortKeys = ID, query: String, savedSearchId: ID): ProductVariantConnection!
  productVariantsCount(query: String, limit: Int = 10000): Count
  order(id: ID!): Order
  orders(${CONNECTION_ARGS}, sortKey: OrderSortKeys = PROCESSED_AT, query: String, savedSearchId: ID): OrderConnection!
  ordersCount(query: String, limit: Int = 10000): Count
  webPixel(id: ID): WebPixel
  metafieldDefinitions(${CONNECTION_ARGS}, ownerType: MetafieldOwnerType!, namespace: String, key: String, sortKey: MetafieldDefinitionSortKeys = ID, query: String): MetafieldDefinitionConnection!
}

type Mutation {
  webPixelCreate(webPixel: WebPixelInput!): WebPixelCreatePayload
  webPixelUpdate(id: ID!, webPixel: WebPixelInput!): WebPixelUpdatePayload
  webPixelDelete(id: ID!): WebPixelDeletePayload
  metafieldsSet(metafields: [MetafieldsSetInput!]!): MetafieldsSetPayload
  metafieldDefinitionCreate(definition: MetafieldDefinitionInput!): MetafieldDefinitionCreatePayload
  tagsAdd(id: ID!, tags: [String!]!): TagsAddPayload
  tagsRemove(id: ID!, tags: [String!]!): TagsRemovePayload
  orderUpdate(input: OrderInput!): OrderUpdatePayload
}

type UserError { field: [String!] message: String! }

enum CurrencyCode { AUD CAD CHF EUR GBP JPY MXN NZD USD }
type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }

type Shop implements Node & HasMetafields {
  id: ID!
  name: String!
  email: String!
  myshopifyDomain: String!
  currencyCode: CurrencyCode!
  metafield(namespace: String, key: String!): Metafield
  metafields(${CONNECTION_ARGS}, namespace: String, keys: [String!]): MetafieldConnection!
}

enum ProductStatus { ACTIVE ARCHIVED DRAFT }
enum ProductSortKeys { CREATED_AT ID INVENTORY_TOTAL PRODUCT_TYPE PUBLISHED_AT RELEVANCE TITLE UPDATED_AT VENDOR }
enum ProductVariantSortKeys { FULL_TITLE ID INVENTORY_LEVELS_AVAILABLE INVENTORY_MANAGEMENT INVENTORY_POLICY INVENTORY_QUANTITY NAME POPULAR POSITION RELEVANCE SKU TITLE }

type Product implements Node & HasMetafields & LegacyInteroperability {
  id: ID!
  legacyResourceId: UnsignedInt64!
  title: String!
  handle: String!
  description(truncateAt: Int): String!
  descriptionHtml: HTML!
  onlineStoreUrl: URL
  status: ProductStatus!
  vendor: String!
  productType: String!
  tags: [String!]!
  createdAt: DateTime!
  updatedAt: DateTime!
  publishedAt: DateTime
  variantsCount: Count
  variants(${CONNECTION_ARGS}, sortKey: ProductVariantSortKeys = POSITION): ProductVariantConnection!
  metafield(namespace: String, key: String!): Metafield
  metafields(${CONNECTION_ARGS}, namespace: String, keys: [String!]): MetafieldConnection!
}
${connection('Product')}

type ProductVariant implements Node & HasMetafields & LegacyInteroperability {
  id: ID!
  legacyResourceId: UnsignedInt64!
  title: String!
  displayName: String!
  sku: String
  barcode: String
  price: Money!
  compareAtPrice: Money
  position: Int!
  taxable: Boolean!
  createdAt: DateTime!
  updatedAt: DateTime!
  product: Product!
  metafield(namespace: String, key: String!): Metafield
  metafields(${CONNECTION_ARGS}, namespace: String, keys: [String!]): MetafieldConnection!
}
${connection('ProductVariant')}

type WebPixel implements Node { id: ID! settings: JSON! }
input WebPixelInput { settings: JSON! }
enum ErrorsWebPixelUserErrorCode { BLANK INVALID_CONFIGURATION_JSON INVALID_RUNTIME_CONTEXT INVALID_SETTINGS INVALID_SETTINGS_DEFINITION NO_EXTENSION NOT_FOUND TAKEN UNEXPECTED_ERROR UNABLE_TO_DELETE @deprecated(reason: "Use UNEXPECTED_ERROR instead.") }
type ErrorsWebPixelUserError { code: ErrorsWebPixelUserErrorCode field: [String!] message: String! }
type WebPixelCreatePayload { userErrors: [ErrorsWebPixelUserError!]! webPixel: WebPixel }
type WebPixelUpdatePayload { userErrors: [ErrorsWebPixelUserError!]! webPixel: WebPixel }
type WebPixelDeletePayload { deletedWebPixelId: ID userErrors: [ErrorsWebPixelUserError!]! }

enum MetafieldOwnerType { API_PERMISSION ARTICLE BLOG COLLECTION COMPANY COMPANY_LOCATION CUSTOMER DRAFTORDER LOCATION MARKET ORDER PAGE PRODUCT PRODUCTVARIANT SHOP }
type Metafield implements Node & LegacyInteroperability {
  id: ID!
  legacyResourceId: UnsignedInt64!
  namespace: String!
  key: String!
  value: String!
  jsonValue: JSON!
  type: String!
  compareDigest: String!
  ownerType: MetafieldOwnerType!
  owner: HasMetafields!
  createdAt: DateTime!
  updatedAt: DateTime!
}
${connection('Metafield')}
input MetafieldsSetInput { ownerId: ID! namespace: String key: String! value: String! type: String compareDigest: String }
enum MetafieldsSetUserErrorCode { APP_NOT_AUTHORIZED BLANK CAPABILITY_VIOLATION INCLUSION INTERNAL_ERROR INVALID INVALID_COMPARE_DIGEST INVALID_TYPE INVALID_VALUE LESS_THAN_OR_EQUAL_TO PRESENT STALE_OBJECT TAKEN TOO_LONG TOO_SHORT }
type MetafieldsSetUserError { code: MetafieldsSetUserErrorCode elementIndex: Int field: [String!] message: String! }
type MetafieldsSetPayload { metafields: [Metafield!] userErrors: [MetafieldsSetUserError!]! }

enum MetafieldDefinitionSortKeys { ID NAME PINNED_POSITION RELEVANCE }
type MetafieldDefinitionType { name: String! category: String! }
type MetafieldDefinition implements Node {
  id: ID!
  name: String!
  namespace: String!
  key: String!
  description: String
  ownerType: MetafieldOwnerType!
  type: MetafieldDefinitionType!
  pinnedPosition: Int
  access: MetafieldAccess!
}
enum MetafieldAdminAccess { MERCHANT_READ MERCHANT_READ_WRITE PRIVATE PUBLIC_READ PUBLIC_READ_WRITE }
enum MetafieldStorefrontAccess { NONE PUBLIC_READ }
type MetafieldAccess { admin: MetafieldAdminAccess storefront: MetafieldStorefrontAccess }
enum MetafieldAdminAccessInput { MERCHANT_READ MERCHANT_READ_WRITE }
enum MetafieldStorefrontAccessInput { NONE PUBLIC_READ }
input MetafieldAccessInput { admin: MetafieldAdminAccessInput storefront: MetafieldStorefrontAccessInput }
${connection('MetafieldDefinition')}
input MetafieldDefinitionValidationInput { name: String! value: String! }
input MetafieldDefinitionInput {
  namespace: String
  key: String!
  name: String!
  description: String
  ownerType: MetafieldOwnerType!
  type: String!
  validations: [MetafieldDefinitionValidationInput!]
  pin: Boolean = false
  access: MetafieldAccessInput
}
enum MetafieldDefinitionCreateUserErrorCode { BLANK DUPLICATE_OPTION INCLUSION INVALID INVALID_CHARACTER INVALID_OPTION LIMIT_EXCEEDED PINNED_LIMIT_REACHED PRESENT RESERVED_NAMESPACE_KEY TAKEN TOO_LONG TOO_SHORT UNSTRUCTURED_ALREADY_EXISTS }
type MetafieldDefinitionCreateUserError { code: MetafieldDefinitionCreateUserErrorCode elementIndex: Int field: [String!] message: String! }
type MetafieldDefinitionCreatePayload { createdDefinition: MetafieldDefinition userErrors: [MetafieldDefinitionCreateUserError!]! }

type TagsAddPayload { node: Node userErrors: [UserError!]! }
type TagsRemovePayload { node: Node userErrors: [UserError!]! }

enum OrderSortKeys { CREATED_AT CUSTOMER_NAME DESTINATION FINANCIAL_STATUS FULFILLMENT_STATUS ID ORDER_NUMBER PO_NUMBER PROCESSED_AT RELEVANCE TOTAL_ITEMS_QUANTITY TOTAL_PRICE UPDATED_AT }
enum OrderDisplayFinancialStatus { AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED }
enum OrderTransactionKind { AUTHORIZATION CAPTURE CHANGE EMV_AUTHORIZATION REFUND SALE SUGGESTED_REFUND VOID }
enum OrderTransactionStatus { AWAITING_RESPONSE ERROR FAILURE PENDING SUCCESS UNKNOWN }
enum RefundLineItemRestockType { CANCEL LEGACY_RESTOCK NO_RESTOCK RETURN }

type Attribute { key: String! value: String }
input AttributeInput { key: String! value: String! }
input OrderInput { id: ID! note: String tags: [String!] email: String customAttributes: [AttributeInput!] poNumber: String }
type OrderUpdatePayload { order: Order userErrors: [UserError!]! }

type Order implements Node & HasMetafields & LegacyInteroperability {
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  note: String
  tags: [String!]!
  email: String
  poNumber: String
  customAttributes: [Attribute!]!
  test: Boolean!
  closed: Boolean!
  createdAt: DateTime!
  updatedAt: DateTime!
  processedAt: DateTime!
  cancelledAt: DateTime
  currencyCode: CurrencyCode!
  displayFinancialStatus: OrderDisplayFinancialStatus
  paymentGatewayNames: [String!]!
  subtotalPriceSet: MoneyBag
  totalPriceSet: MoneyBag!
  totalTaxSet: MoneyBag
  totalDiscountsSet: MoneyBag
  totalShippingPriceSet: MoneyBag!
  totalRefundedSet: MoneyBag!
  totalReceivedSet: MoneyBag!
  totalOutstandingSet: MoneyBag!
  currentTotalPriceSet: MoneyBag!
  lineItems(${CONNECTION_ARGS}): LineItemConnection!
  shippingLines(${CONNECTION_ARGS}, includeRemovals: Boolean = false): ShippingLineConnection!
  transactions(first: Int, capturable: Boolean, manuallyResolvable: Boolean): [OrderTransaction!]!
  refunds(first: Int): [Refund!]!
  metafield(namespace: String, key: String!): Metafield
  metafields(${CONNECTION_ARGS}, namespace: String, keys: [String!]): MetafieldConnection!
}
${connection('Order')}

type TaxLine { priceSet: MoneyBag! rate: Float ratePercentage: Float title: String! channelLiable: Boolean }
type DiscountAllocation { allocatedAmountSet: MoneyBag! }

type LineItem implements Node {
  id: ID!
  name: String!
  title: String!
  variantTitle: String
  sku: String
  vendor: String
  quantity: Int!
  currentQuantity: Int!
  refundableQuantity: Int!
  variant: ProductVariant
  product: Product
  originalUnitPriceSet: MoneyBag!
  discountedUnitPriceSet: MoneyBag!
  discountedUnitPriceAfterAllDiscountsSet: MoneyBag!
  originalTotalSet: MoneyBag!
  discountedTotalSet: MoneyBag!
  totalDiscountSet: MoneyBag!
  discountAllocations: [DiscountAllocation!]!
  taxLines(first: Int): [TaxLine!]!
  taxable: Boolean!
}
${connection('LineItem')}

type ShippingLine { id: ID title: String! code: String originalPriceSet: MoneyBag! discountedPriceSet: MoneyBag! }
${connection('ShippingLine')}

type OrderTransaction implements Node {
  id: ID!
  kind: OrderTransactionKind!
  status: OrderTransactionStatus!
  gateway: String
  formattedGateway: String
  paymentId: String
  amountSet: MoneyBag!
  parentTransaction: OrderTransaction
  test: Boolean!
  createdAt: DateTime!
  processedAt: DateTime
  authorizationExpiresAt: DateTime
  errorCode: String
}
${connection('OrderTransaction')}

type Refund implements Node & LegacyInteroperability {
  id: ID!
  legacyResourceId: UnsignedInt64!
  createdAt: DateTime
  updatedAt: DateTime!
  note: String
  order: Order!
  totalRefundedSet: MoneyBag!
  refundLineItems(${CONNECTION_ARGS}): RefundLineItemConnection!
  transactions(${CONNECTION_ARGS}): OrderTransactionConnection!
}

type RefundLineItem {
  id: ID!
  lineItem: LineItem!
  quantity: Int!
  restockType: RefundLineItemRestockType!
  restocked: Boolean!
  priceSet: MoneyBag!
  subtotalSet: MoneyBag!
  totalTaxSet: MoneyBag!
}
${connection('RefundLineItem')}
`;

function parseDateTime(value: unknown): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw new GraphQLError(`Argument isn't a valid ISO-8601 DateTime: ${JSON.stringify(value)}`);
  }
  return new Date(value).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function literalValue(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.BOOLEAN:
      return node.value;
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map(literalValue);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literalValue(f.value)]));
    default:
      return undefined;
  }
}

// buildSchema leaves custom scalars as pass-through; give the ones with a format Shopify's strictness.
function tightenScalars(schema: GraphQLSchema): GraphQLSchema {
  const set = (name: string, parse: (value: unknown) => unknown, serialize: (value: unknown) => unknown = (v) => v) => {
    Object.assign(schema.getType(name) as GraphQLScalarType, {
      parseValue: parse,
      parseLiteral: (node: ValueNode) => parse(literalValue(node)),
      serialize,
    });
  };
  set('DateTime', parseDateTime);
  set('URL', (v) => {
    if (typeof v !== 'string' || !URL.canParse(v)) throw new GraphQLError(`Argument isn't a valid URL: ${JSON.stringify(v)}`);
    return v;
  });
  set('JSON', (v) => v);
  set('Money', (v) => String(v));
  set('Decimal', (v) => String(v));
  set('UnsignedInt64', (v) => String(v), (v) => String(v));
  return schema;
}

let cached: GraphQLSchema | undefined;

export function adminSchema(): GraphQLSchema {
  cached ??= tightenScalars(buildSchema(ADMIN_SDL));
  return cached;
}
