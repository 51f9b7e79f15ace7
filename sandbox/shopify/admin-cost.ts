// Calculated query cost and the leaky bucket of the Admin GraphQL API (shopify.dev, "GraphQL Admin
// API rate limits"): scalars and enums cost 0, objects 1, a connection 2 plus its page size (`first`
// or `last`) times the cost of one node, a mutation 10. The requested cost is computed before
// execution from the page sizes asked for; the actual cost after, from what came back (a null object
// or a short page costs less), and the difference is refunded to the bucket. A query over the single
// query limit (1000) is refused with MAX_COST_EXCEEDED; one the bucket cannot pay for now, with THROTTLED.
import {
  getNamedType,
  isCompositeType,
  isListType,
  isNonNullType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  valueFromAST,
} from 'graphql';

export const MUTATION_COST = 10;
export const MAX_SINGLE_QUERY_COST = 1000;

export interface ThrottleSettings {
  maximumAvailable: number;
  restoreRate: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = { maximumAvailable: 1000, restoreRate: 50 };

export interface CostExtension {
  requestedQueryCost: number;
  actualQueryCost: number | null;
  throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };
}

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

function isConnection(type: GraphQLOutputType): boolean {
  return getNamedType(type).name.endsWith('Connection');
}

function argument(field: GraphQLField<unknown, unknown>, node: FieldNode, name: string, walk: Walk): unknown {
  const arg = node.arguments?.find((a) => a.name.value === name);
  const def = field.args.find((a) => a.name === name);
  if (!arg || !def) return undefined;
  return valueFromAST(arg.value, def.type, walk.variables);
}

function fieldsOf(set: SelectionSetNode, walk: Walk): FieldNode[] {
  const out: FieldNode[] = [];
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) out.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) out.push(...fieldsOf(selection.selectionSet, walk));
    else {
      const fragment = walk.fragments.get(selection.name.value);
      if (fragment) out.push(...fieldsOf(fragment.selectionSet, walk));
    }
  }
  return out;
}

function fieldDef(parent: GraphQLCompositeType, name: string) {
  if ('getFields' in parent) return parent.getFields()[name];
  return undefined;
}

/**
 * Cost of a selection on `parent`. With `data` (the response object at this level) it is the actual
 * cost, otherwise the requested one. Fields of union/interface members count through their inline
 * fragments; the few unions here are small enough that summing them does not matter.
 */
function selectionCost(set: SelectionSetNode, parent: GraphQLCompositeType, walk: Walk, data?: Record<string, unknown> | null): number {
  let total = 0;
  for (const node of fieldsOf(set, walk)) {
    if (node.name.value === '__typename') continue;
    const def = fieldDef(parent, node.name.value);
    if (!def || !node.selectionSet) continue;
    const named = getNamedType(def.type);
    if (!isCompositeType(named)) continue;
    const key = node.alias?.value ?? node.name.value;
    const value = data === undefined ? undefined : (data?.[key] as unknown);
    if (isConnection(def.type)) {
      const size = Number(argument(def, node, 'first', walk) ?? argument(def, node, 'last', walk) ?? 0);
      total += 2 + connectionCost(node.selectionSet, named, walk, size, data === undefined ? undefined : (value as Record<string, unknown> | null));
    } else if (isListType(isNonNullType(def.type) ? def.type.ofType : def.type)) {
      // Plain lists (Order.transactions, Order.refunds): each element is an object.
      if (data === undefined) {
        const size = Number(argument(def, node, 'first', walk) ?? 1) || 1;
        total += size * (1 + selectionCost(node.selectionSet, named, walk));
      } else {
        for (const item of (value as Array<Record<string, unknown>> | null) ?? []) total += 1 + selectionCost(node.selectionSet, named, walk, item);
      }
    } else if (data === undefined) {
      total += 1 + selectionCost(node.selectionSet, named, walk);
    } else if (value !== null && value !== undefined) {
      total += 1 + selectionCost(node.selectionSet, named, walk, value as Record<string, unknown>);
    }
  }
  return total;
}

/** A connection's edges/nodes: `size` times one node; pageInfo and cursors are free. */
function connectionCost(
  set: SelectionSetNode,
  connectionType: GraphQLCompositeType,
  walk: Walk,
  size: number,
  data: Record<string, unknown> | null | undefined,
): number {
  const nodeType = fieldDef(connectionType, 'nodes');
  const named = nodeType ? (getNamedType(nodeType.type) as GraphQLCompositeType) : undefined;
  if (!named) return 0;
  let perNodeSets: SelectionSetNode[] = [];
  const edgeSets: Array<{ key: string; set: SelectionSetNode }> = [];
  const nodeSets: Array<{ key: string; set: SelectionSetNode }> = [];
  for (const node of fieldsOf(set, walk)) {
    const key = node.alias?.value ?? node.name.value;
    if (node.name.value === 'nodes' && node.selectionSet) nodeSets.push({ key, set: node.selectionSet });
    if (node.name.value === 'edges' && node.selectionSet) {
      for (const inner of fieldsOf(node.selectionSet, walk)) {
        if (inner.name.value === 'node' && inner.selectionSet) edgeSets.push({ key: `${key}\u0000${inner.alias?.value ?? 'node'}`, set: inner.selectionSet });
      }
    }
  }
  perNodeSets = [...nodeSets.map((n) => n.set), ...edgeSets.map((e) => e.set)];
  if (data === undefined) {
    return size * perNodeSets.reduce((sum, s) => sum + 1 + selectionCost(s, named, walk), 0);
  }
  if (data === null) return 0;
  let total = 0;
  for (const { key, set: nodeSet } of nodeSets) {
    for (const item of (data[key] as Array<Record<string, unknown>> | undefined) ?? []) total += 1 + selectionCost(nodeSet, named, walk, item);
  }
  for (const { key, set: nodeSet } of edgeSets) {
    const [edgesKey, nodeKey] = key.split('\u0000') as [string, string];
    for (const edge of (data[edgesKey] as Array<Record<string, unknown>> | undefined) ?? []) {
      total += 1 + selectionCost(nodeSet, named, walk, edge[nodeKey] as Record<string, unknown>);
    }
  }
  return total;
}

function operation(document: DocumentNode, operationName: string | null): OperationDefinitionNode | undefined {
  const ops = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return operationName ? ops.find((o) => o.name?.value === operationName) : ops[0];
}

function walkOf(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null): Walk {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  return { schema, fragments, variables: variables ?? {} };
}

/** Requested cost (before execution) or, with `data`, actual cost (after). */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null,
  variables: Record<string, unknown> | null,
  data?: Record<string, unknown> | null,
): number {
  const op = operation(document, operationName);
  if (!op) return 0;
  const walk = walkOf(schema, document, variables);
  if (op.operation === 'mutation') {
    // A mutation costs 10 whatever it returns (plus any connection it selects on its payload).
    const root = schema.getMutationType()!;
    let total = 0;
    for (const node of fieldsOf(op.selectionSet, walk)) {
      if (node.name.value === '__typename') continue;
      const def = fieldDef(root, node.name.value);
      const named = def ? getNamedType(def.type) : undefined;
      const payload = data === undefined ? undefined : ((data?.[node.alias?.value ?? node.name.value] as Record<string, unknown> | null) ?? null);
      total += MUTATION_COST;
      if (named && isCompositeType(named) && node.selectionSet) {
        total += connectionsOnly(node.selectionSet, named, walk, payload);
      }
    }
    return total;
  }
  return selectionCost(op.selectionSet, schema.getQueryType()!, walk, data);
}

// Payload objects of a mutation are covered by its flat 10; only connections add to it.
function connectionsOnly(set: SelectionSetNode, parent: GraphQLCompositeType, walk: Walk, data: Record<string, unknown> | null | undefined): number {
  const full = selectionCost(set, parent, walk, data);
  const objects = objectCount(set, parent, walk, data);
  return Math.max(0, full - objects);
}

function objectCount(set: SelectionSetNode, parent: GraphQLCompositeType, walk: Walk, data: Record<string, unknown> | null | undefined): number {
  let count = 0;
  for (const node of fieldsOf(set, walk)) {
    const def = fieldDef(parent, node.name.value);
    if (!def || !node.selectionSet || isConnection(def.type)) continue;
    const named = getNamedType(def.type);
    if (!isCompositeType(named)) continue;
    const value = data === undefined ? undefined : (data?.[node.alias?.value ?? node.name.value] as Record<string, unknown> | Array<Record<string, unknown>> | null);
    if (data !== undefined && (value === null || value === undefined)) continue;
    if (Array.isArray(value)) {
      for (const item of value) count += 1 + objectCount(node.selectionSet, named, walk, item);
    } else {
      count += 1 + objectCount(node.selectionSet, named, walk, value as Record<string, unknown> | undefined);
    }
  }
  return count;
}

/** One leaky bucket per shop (and app): refills continuously at `restoreRate` points per second. */
export class CostBuckets {
  private readonly buckets = new Map<string, { available: number; at: number; settings: ThrottleSettings }>();

  constructor(
    private defaults: ThrottleSettings,
    private readonly now: () => number,
  ) {}

  private bucket(shop: string) {
    let bucket = this.buckets.get(shop);
    const now = this.now();
    if (!bucket) {
      bucket = { available: this.defaults.maximumAvailable, at: now, settings: { ...this.defaults } };
      this.buckets.set(shop, bucket);
    }
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    bucket.available = Math.min(bucket.settings.maximumAvailable, bucket.available + elapsed * bucket.settings.restoreRate);
    bucket.at = now;
    return bucket;
  }

  /** Changes a shop's bucket (or, without a shop, the defaults for every bucket not yet set). */
  configure(shop: string | undefined, settings: Partial<ThrottleSettings> & { currentlyAvailable?: number }): void {
    if (!shop) {
      this.defaults = { ...this.defaults, ...pick(settings) };
      for (const key of [...this.buckets.keys()]) this.configure(key, settings);
      return;
    }
    const bucket = this.bucket(shop);
    bucket.settings = { ...bucket.settings, ...pick(settings) };
    bucket.available = Math.min(bucket.settings.maximumAvailable, settings.currentlyAvailable ?? bucket.available);
  }

  /** Takes `cost` points if the bucket has them. */
  take(shop: string, cost: number): boolean {
    const bucket = this.bucket(shop);
    if (bucket.available < cost) return false;
    bucket.available -= cost;
    return true;
  }

  refund(shop: string, points: number): void {
    const bucket = this.bucket(shop);
    bucket.available = Math.min(bucket.settings.maximumAvailable, bucket.available + points);
  }

  status(shop: string): CostExtension['throttleStatus'] {
    const bucket = this.bucket(shop);
    return {
      maximumAvailable: bucket.settings.maximumAvailable,
      currentlyAvailable: Math.floor(bucket.available),
      restoreRate: bucket.settings.restoreRate,
    };
  }
}

function pick(settings: Partial<ThrottleSettings>): Partial<ThrottleSettings> {
  const out: Partial<ThrottleSettings> = {};
  if (settings.maximumAvailable !== undefined) out.maximumAvailable = settings.maximumAvailable;
  if (settings.restoreRate !== undefined) out.restoreRate = settings.restoreRate;
  return out;
}

/** Shopify's wording (captured responses): the message, code, cost and maxCost. */
export function maxCostExceededBody(cost: number, throttleStatus: CostExtension['throttleStatus']) {
  return {
    errors: [
      {
        message: `Query cost is ${cost}, which exceeds the single query max cost limit (${MAX_SINGLE_QUERY_COST}).

See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the
cost of a query is calculated.

To query larger amounts of data with fewer limits, bulk operations should be used instead.
See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.
`,
        extensions: { code: 'MAX_COST_EXCEEDED', cost, maxCost: MAX_SINGLE_QUERY_COST, documentation: 'https://shopify.dev/api/usage/rate-limits' },
      },
    ],
    extensions: { cost: { requestedQueryCost: cost, actualQueryCost: null, throttleStatus } },
  };
}

export function throttledBody(cost: number, throttleStatus: CostExtension['throttleStatus']) {
  return {
    errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
    extensions: { cost: { requestedQueryCost: cost, actualQueryCost: null, throttleStatus } },
  };
}
