import { z } from 'zod';
import type { Secret } from '../lib/secret';
import type { AdminOutcome, MetafieldInput, ShopifyAdminClient } from './admin-api-client';

export type { MetafieldInput } from './admin-api-client';

/**
 * The Admin API calls of order sync and write-back: documents (Shopify's real field names, checked
 * by the simulator against its schema), their estimated costs, and what the app reads of the answers.
 */

export const ORDER_GID_PREFIX = 'gid://shopify/Order/';

const moneyBag = z.object({ shopMoney: z.object({ amount: z.string(), currencyCode: z.string() }) });

const transactionSchema = z.looseObject({
  id: z.string(),
  kind: z.string(),
  status: z.string(),
  gateway: z.string().nullish(),
  paymentId: z.string().nullish(),
  amountSet: moneyBag,
});

const orderSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  test: z.boolean(),
  createdAt: z.string(),
  currencyCode: z.string(),
  totalPriceSet: moneyBag,
  paymentGatewayNames: z.array(z.string()),
  transactions: z.array(transactionSchema),
  lineItems: z.object({
    nodes: z.array(
      z.looseObject({
        id: z.string(),
        name: z.string(),
        quantity: z.number().int(),
        sku: z.string().nullish(),
        variant: z.object({ id: z.string() }).nullish(),
        originalTotalSet: moneyBag,
        // Every discount on the line, its own and its share of the order's (discountedTotalSet leaves
        // the order's out), so the line's total after all of them is comparable with what Flex was sent.
        discountAllocations: z.array(z.object({ allocatedAmountSet: moneyBag })),
      }),
    ),
    pageInfo: z.object({ hasNextPage: z.boolean() }),
  }),
});
export type AdminOrder = z.infer<typeof orderSchema>;
export type AdminOrderTransaction = z.infer<typeof transactionSchema>;

/** The order with what links it to a payment (its transactions' payment ids) and its lines. */
const ORDER_QUERY = `query FlexOrder($id: ID!) {
  order(id: $id) {
    id name test createdAt currencyCode paymentGatewayNames
    totalPriceSet { shopMoney { amount currencyCode } }
    transactions(first: 20) { id kind status gateway paymentId amountSet { shopMoney { amount currencyCode } } }
    lineItems(first: 50) {
      nodes { id name quantity sku variant { id } originalTotalSet { shopMoney { amount currencyCode } } discountAllocations { allocatedAmountSet { shopMoney { amount currencyCode } } } }
      pageInfo { hasNextPage }
    }
  }
}`;

const orderPageSchema = z.object({
  orders: z.object({
    nodes: z.array(z.looseObject({ id: z.string(), createdAt: z.string(), transactions: z.array(z.looseObject({ kind: z.string(), paymentId: z.string().nullish() })) })),
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullish() }),
  }),
});
export type OrderPage = z.infer<typeof orderPageSchema>['orders'];

/**
 * Orders created since a time, oldest first, with their transactions' payment ids: the poller's scan.
 * `created_at` is in Shopify's documented order search syntax; `payment_id:` is not (README).
 */
const ORDERS_SINCE_QUERY = `query FlexOrdersSince($query: String!, $after: String) {
  orders(first: 25, after: $after, sortKey: CREATED_AT, query: $query) {
    nodes { id createdAt transactions(first: 5) { kind paymentId } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const noteSchema = z.object({ order: z.object({ id: z.string(), note: z.string().nullable(), tags: z.array(z.string()), updatedAt: z.string() }).nullable() });
const NOTE_QUERY = `query FlexOrderNote($id: ID!) { order(id: $id) { id note tags updatedAt } }`;

const userErrorsSchema = z.array(z.looseObject({ field: z.array(z.string()).nullish(), message: z.string(), code: z.string().nullish() }));
export type AdminUserError = z.infer<typeof userErrorsSchema>[number];

const DEFINITION_CREATE = `mutation FlexMetafieldDefinition($definition: MetafieldDefinitionInput!) {
  metafieldDefinitionCreate(definition: $definition) { createdDefinition { id } userErrors { field message code } }
}`;
const METAFIELDS_SET = `mutation FlexOrderMetafields($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { metafields { key } userErrors { field message code } }
}`;
const TAGS_ADD = `mutation FlexOrderTags($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }`;
const NOTE_UPDATE = `mutation FlexOrderNoteUpdate($input: OrderInput!) { orderUpdate(input: $input) { order { id note } userErrors { field message } } }`;

/** Shopify's costs (shopify.dev): a mutation 10, an object 1, a connection 2 + its page. Estimates until Shopify says. */
const MUTATION_COST = 10;

export interface MetafieldDefinitionInput {
  namespace: string;
  key: string;
  name: string;
  description: string;
  type: string;
  ownerType: 'ORDER';
  pin: boolean;
  access: { admin: 'MERCHANT_READ' | 'MERCHANT_READ_WRITE' };
}


export type MutationResult = { ok: true } | { ok: false; userErrors: AdminUserError[] };

/** One shop's orders through the Admin API. */
export class ShopifyOrdersApi {
  constructor(private readonly client: ShopifyAdminClient) {}

  async order(shopDomain: string, token: Secret, orderGid: string): Promise<AdminOutcome<AdminOrder | null>> {
    const outcome = await this.client.request(shopDomain, token, ORDER_QUERY, { id: orderGid }, 160);
    return parsed(outcome, z.object({ order: orderSchema.nullable() }), (d) => d.order);
  }

  async ordersCreatedSince(shopDomain: string, token: Secret, since: Date, after: string | null): Promise<AdminOutcome<OrderPage>> {
    const query = `created_at:>='${since.toISOString()}'`;
    const outcome = await this.client.request(shopDomain, token, ORDERS_SINCE_QUERY, { query, after }, 160);
    return parsed(outcome, orderPageSchema, (d) => d.orders);
  }

  async noteAndTags(shopDomain: string, token: Secret, orderGid: string): Promise<AdminOutcome<z.infer<typeof noteSchema>['order']>> {
    const outcome = await this.client.request(shopDomain, token, NOTE_QUERY, { id: orderGid }, 1);
    return parsed(outcome, noteSchema, (d) => d.order);
  }

  /** TAKEN (already defined, by an earlier run) counts as done. */
  async createMetafieldDefinition(shopDomain: string, token: Secret, definition: MetafieldDefinitionInput): Promise<AdminOutcome<MutationResult>> {
    const outcome = await this.client.request(shopDomain, token, DEFINITION_CREATE, { definition }, MUTATION_COST);
    return mutationResult(outcome, 'metafieldDefinitionCreate', (errors) => errors.every((e) => e.code === 'TAKEN'));
  }

  async setMetafields(shopDomain: string, token: Secret, metafields: MetafieldInput[]): Promise<AdminOutcome<MutationResult>> {
    const outcome = await this.client.request(shopDomain, token, METAFIELDS_SET, { metafields }, MUTATION_COST);
    return mutationResult(outcome, 'metafieldsSet');
  }

  /** Adds to the order's tags; Shopify merges them with what is there. */
  async addTags(shopDomain: string, token: Secret, orderGid: string, tags: string[]): Promise<AdminOutcome<MutationResult>> {
    const outcome = await this.client.request(shopDomain, token, TAGS_ADD, { id: orderGid, tags }, MUTATION_COST);
    return mutationResult(outcome, 'tagsAdd');
  }

  /** Replaces the note (orderUpdate has no append): the caller writes back what it read, plus its line. */
  async replaceNote(shopDomain: string, token: Secret, orderGid: string, note: string): Promise<AdminOutcome<MutationResult>> {
    const outcome = await this.client.request(shopDomain, token, NOTE_UPDATE, { input: { id: orderGid, note } }, MUTATION_COST);
    return mutationResult(outcome, 'orderUpdate');
  }
}

function parsed<S extends z.ZodType, T>(outcome: AdminOutcome<Record<string, unknown>>, schema: S, pick: (data: z.infer<S>) => T): AdminOutcome<T> {
  if (outcome.kind !== 'data') return outcome;
  const result = schema.safeParse(outcome.data);
  // A body that is not what the document asks for: Shopify changed, or a proxy answered. Retried.
  if (!result.success) return { kind: 'retry', reason: `Shopify's answer did not have the expected shape: ${result.error.issues[0]?.message ?? ''}` };
  return { kind: 'data', data: pick(result.data) };
}

function mutationResult(outcome: AdminOutcome<Record<string, unknown>>, field: string, harmless: (errors: AdminUserError[]) => boolean = () => false): AdminOutcome<MutationResult> {
  if (outcome.kind !== 'data') return outcome;
  const payload = z.object({ userErrors: userErrorsSchema }).safeParse(outcome.data[field]);
  if (!payload.success) return { kind: 'retry', reason: `Shopify answered without data.${field}` };
  const errors = payload.data.userErrors;
  return { kind: 'data', data: errors.length === 0 || harmless(errors) ? { ok: true } : { ok: false, userErrors: errors } };
}

/** The number of an order gid (`gid://shopify/Order/123` → "123"), or null for anything else. */
export function orderIdOf(gid: string): string | null {
  return gid.startsWith(ORDER_GID_PREFIX) && /^\d+$/.test(gid.slice(ORDER_GID_PREFIX.length)) ? gid.slice(ORDER_GID_PREFIX.length) : null;
}
