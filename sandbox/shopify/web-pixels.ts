// The app's web pixel extension as Shopify knows it: its shopify.extension.toml (settings definition,
// customer privacy), and the per-shop web pixel records that webPixelCreate/webPixelUpdate manage.
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const WEB_PIXEL_GID = 'gid://shopify/WebPixel/';

/**
 * Where the app's pixel lives: the repository's own extension, run by the pixel runtime from its
 * sources (from `sandbox/shopify/` under ts, from `dist/sandbox/shopify/` once built).
 */
export const DEFAULT_PIXEL_EXTENSION_DIR =
  [path.resolve(__dirname, '../../extensions/flex-cart-pixel'), path.resolve(__dirname, '../../../extensions/flex-cart-pixel')].find((dir) =>
    existsSync(path.join(dir, 'shopify.extension.toml')),
  ) ?? path.resolve(__dirname, '../../extensions/flex-cart-pixel');

export interface PixelSettingsField {
  key: string;
  name: string;
  type: string;
  validations: Array<{ name: string; value: string }>;
}

export interface PixelExtensionConfig {
  dir: string;
  name: string;
  type: string;
  runtimeContext: string;
  customerPrivacy: { analytics: boolean; marketing: boolean; preferences: boolean; saleOfData: string };
  fields: PixelSettingsField[];
}

export interface WebPixelRecord {
  shop: string;
  id: number;
  gid: string;
  /** The settings as given (a JSON string, as Shopify stores and returns them). */
  settings: string;
  createdAt: string;
  updatedAt: string;
}

/**
 * The few TOML forms a shopify.extension.toml uses: `[table]` headers, `key = value` with strings,
 * booleans, numbers, and arrays of strings or of inline tables of strings.
 */
export function parseToml(text: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let table = root;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = stripComment(lines[i]!).trim();
    if (!line) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      table = root;
      for (const part of header[1]!.split('.').map((p) => p.trim())) {
        table[part] ??= {};
        table = table[part] as Record<string, unknown>;
      }
      continue;
    }
    // Arrays may span lines.
    while (line.includes('[') && count(line, '[') > count(line, ']') && i + 1 < lines.length) {
      line += ` ${stripComment(lines[++i]!).trim()}`;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`TOML: cannot read line ${i + 1}: ${line}`);
    table[line.slice(0, eq).trim()] = parseValue(line.slice(eq + 1).trim());
  }
  return root;
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}

function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    if (line[i] === '#' && !quoted) return line.slice(0, i);
  }
  return line;
}

function parseValue(raw: string): unknown {
  if (raw.startsWith('"')) return JSON.parse(raw);
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (raw.startsWith('[')) {
    const inner = raw.slice(1, -1).trim();
    if (!inner) return [];
    return splitTop(inner).map((item) => {
      if (item.startsWith('{')) {
        return Object.fromEntries(splitTop(item.slice(1, -1)).map((pair) => {
          const eq = pair.indexOf('=');
          return [pair.slice(0, eq).trim(), parseValue(pair.slice(eq + 1).trim())];
        }));
      }
      return parseValue(item);
    });
  }
  throw new Error(`TOML: unsupported value ${raw}`);
}

function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    if (!quoted && (char === '{' || char === '[')) depth++;
    if (!quoted && (char === '}' || char === ']')) depth--;
    if (!quoted && depth === 0 && char === ',') {
      if (current.trim()) parts.push(current.trim());
      current = '';
      continue;
    }
    current += char;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

export function loadPixelExtensionConfig(dir: string = DEFAULT_PIXEL_EXTENSION_DIR): PixelExtensionConfig {
  const toml = parseToml(readFileSync(path.join(dir, 'shopify.extension.toml'), 'utf8'));
  const privacy = (toml.customer_privacy ?? {}) as Record<string, unknown>;
  const settings = (toml.settings ?? {}) as { fields?: Record<string, Record<string, unknown>> };
  return {
    dir,
    name: String(toml.name ?? ''),
    type: String(toml.type ?? ''),
    runtimeContext: String(toml.runtime_context ?? ''),
    customerPrivacy: {
      analytics: privacy.analytics === true,
      marketing: privacy.marketing === true,
      preferences: privacy.preferences === true,
      saleOfData: String(privacy.sale_of_data ?? 'disabled'),
    },
    fields: Object.entries(settings.fields ?? {}).map(([key, field]) => ({
      key,
      name: String(field.name ?? key),
      type: String(field.type ?? 'single_line_text_field'),
      validations: ((field.validations as Array<{ name: string; value: string }> | undefined) ?? []).map((v) => ({ name: String(v.name), value: String(v.value) })),
    })),
  };
}

export type SettingsProblem = { code: 'INVALID_CONFIGURATION_JSON' | 'INVALID_SETTINGS' | 'BLANK'; message: string };

/**
 * Checks webPixelCreate/Update settings against the extension's settings definition: a JSON object
 * (or a JSON-encoded string of one) with exactly the declared fields, each of its declared type and
 * validations. Returns the settings as a JSON string, or the problem.
 */
export function checkPixelSettings(config: PixelExtensionConfig, input: unknown): { settings: string } | SettingsProblem {
  let value = input;
  if (input === null || input === undefined || input === '') return { code: 'BLANK', message: "Settings can't be blank" };
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      return { code: 'INVALID_CONFIGURATION_JSON', message: 'Settings is not a valid JSON' };
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { code: 'INVALID_SETTINGS', message: 'Settings must be a JSON object' };
  }
  const settings = value as Record<string, unknown>;
  const declared = new Set(config.fields.map((f) => f.key));
  for (const key of Object.keys(settings)) {
    if (!declared.has(key)) return { code: 'INVALID_SETTINGS', message: `Settings field ${key} is not in the settings definition` };
  }
  for (const field of config.fields) {
    const v = settings[field.key];
    if (v === undefined || v === null) return { code: 'INVALID_SETTINGS', message: `Settings field ${field.key} is required` };
    const problem = fieldProblem(field, v);
    if (problem) return { code: 'INVALID_SETTINGS', message: `Settings field ${field.key} ${problem}` };
  }
  return { settings: JSON.stringify(settings) };
}

function fieldProblem(field: PixelSettingsField, value: unknown): string | null {
  switch (field.type) {
    case 'single_line_text_field':
    case 'multi_line_text_field':
      if (typeof value !== 'string') return 'must be a string';
      if (field.type === 'single_line_text_field' && /[\r\n]/.test(value)) return 'must be a single line';
      for (const v of field.validations) {
        if (v.name === 'min' && value.length < Number(v.value)) return `must be at least ${v.value} characters`;
        if (v.name === 'max' && value.length > Number(v.value)) return `must be at most ${v.value} characters`;
        if (v.name === 'regex' && !new RegExp(v.value).test(value)) return `must match ${v.value}`;
      }
      return null;
    case 'number_integer':
      return Number.isInteger(typeof value === 'string' ? Number(value) : value) ? null : 'must be an integer';
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false' ? null : 'must be a boolean';
    default:
      return null;
  }
}

/** One web pixel per shop and app, as on Shopify (a second webPixelCreate is TAKEN). */
export class WebPixels {
  private readonly byShop = new Map<string, WebPixelRecord>();

  constructor(private readonly now: () => Date) {}

  get(shop: string): WebPixelRecord | undefined {
    return this.byShop.get(shop);
  }

  create(shop: string, settings: string): WebPixelRecord {
    const at = this.now().toISOString();
    const id = randomInt(100_000_000, 999_999_999);
    const record = { shop, id, gid: WEB_PIXEL_GID + id, settings, createdAt: at, updatedAt: at };
    this.byShop.set(shop, record);
    return record;
  }

  update(record: WebPixelRecord, settings: string): WebPixelRecord {
    record.settings = settings;
    record.updatedAt = this.now().toISOString();
    return record;
  }

  delete(shop: string): WebPixelRecord | undefined {
    const record = this.byShop.get(shop);
    this.byShop.delete(shop);
    return record;
  }

  list(): WebPixelRecord[] {
    return [...this.byShop.values()];
  }
}
