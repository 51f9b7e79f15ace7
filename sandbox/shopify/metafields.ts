// Metafields and metafield definitions on products, variants and orders: the value types a payments
// app writes (shopify.dev, "Metafield types" list), their validation, and `metafieldsSet`'s rules
// (at most 25 per call, all or nothing, `compareDigest` for optimistic locking).
import { createHash } from 'node:crypto';

export const METAFIELD_GID = 'gid://shopify/Metafield/';
export const METAFIELD_DEFINITION_GID = 'gid://shopify/MetafieldDefinition/';
export const METAFIELDS_SET_LIMIT = 25;

/** The app's API client id, as Shopify puts it into the app's reserved namespaces (`app--{id}`). */
export const APP_CLIENT_ID = 580111;
/** What an omitted namespace means: the app's reserved namespace (shopify.dev: "All APIs default to $app"). */
export const APP_NAMESPACE = `app--${APP_CLIENT_ID}`;

/**
 * Shopify's reserved prefix (shopify.dev, "Ownership"): `$app` becomes `app--{client id}` and
 * `$app:name` becomes `app--{client id}--name`, so only this app can create definitions or write
 * values there. An omitted namespace is `$app`. Anything else is taken as given.
 */
export function resolveNamespace(namespace: string | null | undefined): string {
  if (namespace === null || namespace === undefined || namespace === '$app') return APP_NAMESPACE;
  if (namespace.startsWith('$app:')) return `${APP_NAMESPACE}--${namespace.slice('$app:'.length)}`;
  return namespace;
}

/** A namespace reserved to an app (`app--{id}` or `app--{id}--…`). */
export function isAppReserved(namespace: string): boolean {
  return /^app--\d+(--|$)/.test(namespace);
}

/** MetafieldAdminAccess values (the input takes only the MERCHANT_ ones). */
export type AdminAccess = 'MERCHANT_READ' | 'MERCHANT_READ_WRITE' | 'PRIVATE' | 'PUBLIC_READ' | 'PUBLIC_READ_WRITE';

export type OwnerType = 'PRODUCT' | 'PRODUCTVARIANT' | 'ORDER' | 'SHOP';

export interface MetafieldRecord {
  id: number;
  shop: string;
  ownerId: string;
  ownerType: OwnerType;
  namespace: string;
  key: string;
  type: string;
  value: string;
  createdAt: string;
  updatedAt: string;
}

export interface MetafieldDefinitionRecord {
  id: number;
  shop: string;
  ownerType: OwnerType;
  namespace: string;
  key: string;
  name: string;
  description: string | null;
  type: string;
  pinnedPosition: number | null;
  /**
   * Who may see the definition's metafields in the admin. In an app's reserved namespace a definition
   * made without `access` is PRIVATE here (UNVERIFIED: shopify.dev says values in a reserved
   * namespace are private to the app until a definition grants access, not which default a
   * definition gets), so an app that wants merchants to see them must say so; elsewhere PUBLIC_READ_WRITE.
   */
  adminAccess: AdminAccess;
  storefrontAccess: 'NONE' | 'PUBLIC_READ';
}

/** Types and their category (MetafieldDefinitionType.category). */
export const METAFIELD_TYPES: Record<string, string> = {
  single_line_text_field: 'TEXT',
  multi_line_text_field: 'TEXT',
  number_integer: 'NUMBER',
  number_decimal: 'NUMBER',
  boolean: 'TRUE_FALSE',
  json: 'JSON',
  money: 'MEASUREMENT',
  date_time: 'DATE_TIME',
  url: 'URL',
  'list.single_line_text_field': 'TEXT',
};

/** Why `value` is not a valid `type` value, or null. */
export function valueProblem(type: string, value: string): string | null {
  switch (type) {
    case 'single_line_text_field':
      return /[\r\n]/.test(value) ? 'Value must be a single line text string.' : null;
    case 'multi_line_text_field':
      return null;
    case 'number_integer':
      return /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? null : 'Value must be an integer.';
    case 'number_decimal':
      return /^-?\d+(\.\d+)?$/.test(value) ? null : 'Value must be a decimal.';
    case 'boolean':
      return value === 'true' || value === 'false' ? null : 'Value must be true or false.';
    case 'json':
      try {
        JSON.parse(value);
        return null;
      } catch {
        return 'Value is invalid JSON.';
      }
    case 'money': {
      try {
        const money = JSON.parse(value) as { amount?: unknown; currency_code?: unknown };
        if (typeof money.amount !== 'string' || !/^-?\d+(\.\d+)?$/.test(money.amount)) return 'Value must have an amount as a decimal string.';
        if (typeof money.currency_code !== 'string' || !/^[A-Z]{3}$/.test(money.currency_code)) return 'Value must have a currency_code.';
        return null;
      } catch {
        return 'Value is invalid JSON.';
      }
    }
    case 'date_time':
      return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?/.test(value) && !Number.isNaN(Date.parse(value)) ? null : 'Value must be in "YYYY-MM-DDTHH:MM:SS" format.';
    case 'url':
      return /^(https?|mailto|sms|tel):/.test(value) && URL.canParse(value) ? null : 'Value must be a valid URL.';
    case 'list.single_line_text_field':
      try {
        const list = JSON.parse(value) as unknown;
        return Array.isArray(list) && list.every((v) => typeof v === 'string') ? null : 'Value must be an array of strings.';
      } catch {
        return 'Value is invalid JSON.';
      }
    default:
      return null;
  }
}

/** `Metafield.jsonValue`: the value as JSON of its type. */
export function jsonValue(type: string, value: string): unknown {
  switch (type) {
    case 'number_integer':
    case 'number_decimal':
      return Number(value);
    case 'boolean':
      return value === 'true';
    case 'json':
    case 'money':
    case 'list.single_line_text_field':
      return JSON.parse(value);
    default:
      return value;
  }
}

export function compareDigest(record: MetafieldRecord): string {
  return createHash('sha256').update(`${record.id}:${record.updatedAt}:${record.value}`).digest('hex');
}

export class Metafields {
  private readonly records = new Map<string, MetafieldRecord>();
  private readonly definitions: MetafieldDefinitionRecord[] = [];
  private nextId = 28_000_000_000_000;

  constructor(private readonly now: () => Date) {}

  private static key(shop: string, ownerId: string, namespace: string, key: string): string {
    return `${shop} ${ownerId} ${namespace} ${key}`;
  }

  find(shop: string, ownerId: string, namespace: string, key: string): MetafieldRecord | undefined {
    return this.records.get(Metafields.key(shop, ownerId, namespace, key));
  }

  byId(shop: string, id: number): MetafieldRecord | undefined {
    return [...this.records.values()].find((m) => m.shop === shop && m.id === id);
  }

  of(shop: string, ownerId: string): MetafieldRecord[] {
    return [...this.records.values()].filter((m) => m.shop === shop && m.ownerId === ownerId);
  }

  set(shop: string, input: { ownerId: string; ownerType: OwnerType; namespace: string; key: string; type: string; value: string }): MetafieldRecord {
    const existing = this.find(shop, input.ownerId, input.namespace, input.key);
    const at = this.now().toISOString();
    if (existing) {
      existing.value = input.value;
      existing.type = input.type;
      existing.updatedAt = at;
      return existing;
    }
    const record: MetafieldRecord = { id: this.nextId++, shop, ...input, createdAt: at, updatedAt: at };
    this.records.set(Metafields.key(shop, input.ownerId, input.namespace, input.key), record);
    return record;
  }

  definition(shop: string, ownerType: OwnerType, namespace: string, key: string): MetafieldDefinitionRecord | undefined {
    return this.definitions.find((d) => d.shop === shop && d.ownerType === ownerType && d.namespace === namespace && d.key === key);
  }

  listDefinitions(shop: string, ownerType: string): MetafieldDefinitionRecord[] {
    return this.definitions.filter((d) => d.shop === shop && d.ownerType === ownerType);
  }

  addDefinition(record: Omit<MetafieldDefinitionRecord, 'id'>): MetafieldDefinitionRecord {
    const created = { ...record, id: this.nextId++ };
    this.definitions.push(created);
    return created;
  }

  /**
   * What the merchant sees in the admin on an owner: metafields that have a definition the merchant
   * may read (pinned ones first, as the admin shows them), with the definition's name.
   */
  visibleToMerchant(shop: string, ownerId: string): Array<{ definition: MetafieldDefinitionRecord; metafield: MetafieldRecord }> {
    return this.of(shop, ownerId)
      .flatMap((metafield) => {
        const definition = this.definition(shop, metafield.ownerType, metafield.namespace, metafield.key);
        return definition && definition.adminAccess !== 'PRIVATE' ? [{ definition, metafield }] : [];
      })
      .sort((a, b) => (a.definition.pinnedPosition ?? Infinity) - (b.definition.pinnedPosition ?? Infinity));
  }
}
