import { ELIGIBILITY_KEYWORD_RULES, normalizeGtin, normalizeName } from './assumptions';
import { ELIGIBILITIES, type Eligibility, type ProductRec } from './types';

// HSA/FSA eligibility, judged by the sandbox as Flex judges it: per product, from its GTIN/UPC,
// name, description and URL. Tests decide the answer for chosen products through a registry (the
// stand-in for the SIGIS list and Flex's own reviews); everything else falls back to keyword rules.
// Order: an `hsa_fsa_eligibility` the client sent, then the registry by GTIN/UPC, then by name,
// then the keyword rules, else `not_eligible`.

export interface EligibilityMatch {
  /** Any GTIN-8/12/13/14; compared as GTIN-14 (see `normalizeGtin`). */
  gtin?: string;
  /** A UPC-A (12 digits); the same code space as `gtin`. */
  upc?: string;
  /** The product's exact name, compared case-insensitively. */
  name?: string;
}

export interface EligibilityVerdict {
  eligibility: Eligibility;
  rationale: string;
}

interface RegistryEntry {
  eligibility: Eligibility;
  rationale: string | null;
}

const LABEL: Record<Eligibility, string> = {
  not_eligible: 'not eligible',
  auto_substantiation: 'eligible by auto-substantiation',
  private_label: 'eligible as a private-label equivalent',
  vision: 'eligible as vision care',
  prescription: 'eligible with a prescription',
  letter_of_medical_necessity: 'eligible with a letter of medical necessity',
};

function keywordPattern(keywords: string[]): RegExp {
  const alternatives = keywords
    .map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '[\\s-]+'))
    // Longest first, so the longest phrase that fits is the one reported.
    .sort((a, b) => b.length - a.length);
  return new RegExp(`\\b(?:${alternatives.join('|')})(?:e?s)?\\b`, 'i');
}

const RULES = ELIGIBILITY_KEYWORD_RULES.map((rule) => ({ ...rule, pattern: keywordPattern(rule.keywords) }));

function urlWords(url: string): string {
  try {
    const parsed = new URL(url);
    return decodeURIComponent(parsed.pathname).replace(/[/_.+-]+/g, ' ');
  } catch {
    return url.replace(/[/_.+-]+/g, ' ');
  }
}

/** The product's codes as GTIN-14, in the order they are consulted. */
function codesOf(product: ProductRec): Array<{ field: string; code: string }> {
  const out: Array<{ field: string; code: string }> = [];
  for (const [field, value] of [
    ['GTIN', product.gtin],
    ['UPC', product.upcCode],
    ['reference GTIN', product.referenceGtin],
  ] as const) {
    const code = normalizeGtin(value);
    if (code && !out.some((c) => c.code === code)) out.push({ field, code });
  }
  return out;
}

export function checkEligibility(value: unknown): Eligibility {
  if (typeof value !== 'string' || !(ELIGIBILITIES as readonly string[]).includes(value)) {
    throw new RangeError(`eligibility must be one of ${ELIGIBILITIES.join(', ')}, got ${String(value)}`);
  }
  return value as Eligibility;
}

/**
 * The classifier and its registry. Products are indexed by their codes and names, so a registry
 * change re-judges exactly the products it concerns (of every account), without a scan.
 */
export class EligibilityClassifier {
  private readonly byCode = new Map<string, RegistryEntry>();
  private readonly byName = new Map<string, RegistryEntry>();
  private readonly productsByCode = new Map<string, Set<ProductRec>>();
  private readonly productsByName = new Map<string, Set<ProductRec>>();

  /** Decides the answer for products with this GTIN/UPC or name; returns the products re-judged. */
  set(match: EligibilityMatch, eligibility: Eligibility, rationale?: string | null): ProductRec[] {
    checkEligibility(eligibility);
    const codes = [match.gtin, match.upc].filter((c): c is string => c !== undefined && c !== null);
    if (codes.length === 0 && (match.name === undefined || match.name.trim() === '')) {
      throw new RangeError('setProductEligibility needs a gtin, upc or name');
    }
    const entry: RegistryEntry = { eligibility, rationale: rationale ?? null };
    const touched = new Set<ProductRec>();
    for (const raw of codes) {
      const code = normalizeGtin(raw);
      if (!code) throw new RangeError(`"${raw}" is not a GTIN/UPC of 8, 12, 13 or 14 digits`);
      this.byCode.set(code, entry);
      for (const p of this.productsByCode.get(code) ?? []) touched.add(p);
    }
    if (match.name !== undefined && match.name.trim() !== '') {
      const name = normalizeName(match.name);
      this.byName.set(name, entry);
      for (const p of this.productsByName.get(name) ?? []) touched.add(p);
    }
    return this.rejudge(touched);
  }

  /** Empties the registry; the products it decided fall back to the rules. */
  clear(): ProductRec[] {
    const touched = new Set<ProductRec>();
    for (const code of this.byCode.keys()) for (const p of this.productsByCode.get(code) ?? []) touched.add(p);
    for (const name of this.byName.keys()) for (const p of this.productsByName.get(name) ?? []) touched.add(p);
    this.byCode.clear();
    this.byName.clear();
    return this.rejudge(touched);
  }

  entries(): Array<{ key: string; by: 'gtin' | 'name'; eligibility: Eligibility; rationale: string | null }> {
    return [
      ...[...this.byCode].map(([key, e]) => ({ key, by: 'gtin' as const, ...e })),
      ...[...this.byName].map(([key, e]) => ({ key, by: 'name' as const, ...e })),
    ];
  }

  classify(product: ProductRec): EligibilityVerdict {
    if (product.requestedEligibility) {
      return {
        eligibility: product.requestedEligibility,
        rationale: `Set by the client (hsa_fsa_eligibility: ${product.requestedEligibility}).`,
      };
    }
    for (const { field, code } of codesOf(product)) {
      const entry = this.byCode.get(code);
      if (entry) {
        return {
          eligibility: entry.eligibility,
          rationale: entry.rationale ?? `${field} ${code} is on the eligibility list: ${LABEL[entry.eligibility]}.`,
        };
      }
    }
    const byName = this.byName.get(normalizeName(product.name));
    if (byName) {
      return {
        eligibility: byName.eligibility,
        rationale: byName.rationale ?? `The name "${product.name}" is on the eligibility list: ${LABEL[byName.eligibility]}.`,
      };
    }
    const fields: Array<[string, string | null]> = [
      ['name', product.name],
      ['description', product.description],
      ['categories', product.categories.join(', ') || null],
      ['URL', product.url === null ? null : urlWords(product.url)],
    ];
    for (const rule of RULES) {
      for (const [field, text] of fields) {
        const found = text === null ? null : rule.pattern.exec(text);
        if (found) {
          return {
            eligibility: rule.eligibility,
            rationale: `The ${field} ${field === 'categories' ? 'mention' : 'mentions'} "${found[0].toLowerCase()}": ${rule.reason}, ${LABEL[rule.eligibility]}.`,
          };
        }
      }
    }
    return {
      eligibility: 'not_eligible',
      rationale: 'No GTIN/UPC or name on the eligibility list, and nothing in the name, description, categories or URL suggests an HSA/FSA-eligible item.',
    };
  }

  /** Classifies a new product and indexes it. */
  add(product: ProductRec): void {
    this.index(product, true);
    this.apply(product);
  }

  /** Call around a change of the product's data: `before` drops the old keys, `after` re-judges. */
  beforeChange(product: ProductRec): void {
    this.index(product, false);
  }

  afterChange(product: ProductRec): void {
    this.index(product, true);
    this.apply(product);
  }

  private apply(product: ProductRec): void {
    const verdict = this.classify(product);
    product.eligibility = verdict.eligibility;
    product.eligibilityRationale = verdict.rationale;
  }

  private rejudge(products: Set<ProductRec>): ProductRec[] {
    const changed: ProductRec[] = [];
    for (const product of products) {
      const before = `${product.eligibility}\u0000${product.eligibilityRationale}`;
      this.apply(product);
      if (`${product.eligibility}\u0000${product.eligibilityRationale}` !== before) changed.push(product);
    }
    return changed;
  }

  private index(product: ProductRec, add: boolean): void {
    const update = (map: Map<string, Set<ProductRec>>, key: string): void => {
      let set = map.get(key);
      if (add) {
        if (!set) map.set(key, (set = new Set()));
        set.add(product);
      } else if (set) {
        set.delete(product);
        if (set.size === 0) map.delete(key);
      }
    };
    for (const { code } of codesOf(product)) update(this.productsByCode, code);
    update(this.productsByName, normalizeName(product.name));
  }
}
