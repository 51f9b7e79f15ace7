// A subset of Shopify's search syntax for the Admin API's `query` arguments
// (shopify.dev/docs/api/usage/search-syntax): `field:value`, comparisons `field:>value`, `>=`, `<`,
// `<=`, quoted values ('…' or "…"), a trailing `*` prefix match, `-field:value` / `NOT` negation,
// terms joined by spaces or `AND`, and bare words (free text). `OR` and parentheses are not modelled.
// Unknown fields are ignored, as Shopify ignores filters it does not know.

export type Comparator = ':' | '>' | '>=' | '<' | '<=';

export interface SearchTerm {
  field: string | null;
  comparator: Comparator;
  value: string;
  negated: boolean;
}

export function parseSearchQuery(query: string | null | undefined): SearchTerm[] {
  if (!query) return [];
  const terms: SearchTerm[] = [];
  const tokens = query.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [];
  let negateNext = false;
  for (const raw of tokens) {
    if (raw === 'AND') continue;
    if (raw === 'NOT') {
      negateNext = true;
      continue;
    }
    let token = raw;
    let negated = negateNext;
    negateNext = false;
    if (token.startsWith('-')) {
      negated = true;
      token = token.slice(1);
    }
    const match = /^([a-zA-Z_.]+):(>=|<=|>|<)?(.*)$/.exec(token);
    if (match) {
      terms.push({ field: match[1]!.toLowerCase(), comparator: (match[2] as Comparator) ?? ':', value: unquote(match[3]!), negated });
    } else {
      terms.push({ field: null, comparator: ':', value: unquote(token), negated });
    }
  }
  return terms;
}

function unquote(value: string): string {
  if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
    return value.slice(1, -1);
  }
  return value;
}

/** Text comparison: case-insensitive, `*` suffix = prefix match. */
export function matchesText(actual: string | null | undefined, term: SearchTerm): boolean {
  const value = term.value.toLowerCase();
  const have = String(actual ?? '').toLowerCase();
  if (value.endsWith('*')) return have.startsWith(value.slice(0, -1));
  return have === value;
}

/** Date comparison for `updated_at:>=2026-01-01T00:00:00Z` and friends. */
export function matchesDate(actualIso: string, term: SearchTerm): boolean {
  const actual = Date.parse(actualIso);
  const wanted = Date.parse(term.value);
  if (Number.isNaN(wanted)) return true;
  return compare(actual, wanted, term.comparator);
}

export function matchesNumber(actual: number, term: SearchTerm): boolean {
  const wanted = Number(term.value);
  if (Number.isNaN(wanted)) return true;
  return compare(actual, wanted, term.comparator);
}

function compare(a: number, b: number, comparator: Comparator): boolean {
  switch (comparator) {
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    default:
      return a === b;
  }
}

/**
 * Applies the terms: `known` maps a field to its test (null result = field unknown → ignored);
 * free text goes to `freeText`.
 */
export function matchesAll<T>(
  item: T,
  terms: SearchTerm[],
  known: (field: string, term: SearchTerm, item: T) => boolean | null,
  freeText: (text: string, item: T) => boolean,
): boolean {
  for (const term of terms) {
    const result = term.field === null ? freeText(term.value.toLowerCase(), item) : known(term.field, term, item);
    if (result === null) continue;
    if (result === term.negated) return false;
  }
  return true;
}
