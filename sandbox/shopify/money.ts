// Money in integer cents, the way a cart's totals must add up exactly; formatted the way each of
// Shopify's surfaces prints it (REST webhooks: "12.50"; GraphQL Money/Decimal: "12.5"; pixel
// MoneyV2: the number 12.5).

export function toCents(amount: string | number): number {
  const value = typeof amount === 'number' ? amount : Number(amount);
  if (!Number.isFinite(value)) throw new Error(`Not an amount: ${JSON.stringify(amount)}`);
  return Math.round(value * 100);
}

/** REST payloads: two decimals, as a string ("12.50"). */
export function restMoney(cents: number): string {
  return (cents / 100).toFixed(2);
}

/** GraphQL `Decimal`/`Money`: a string without trailing zeros ("12.5", "12.0" for whole amounts). */
export function graphqlDecimal(cents: number): string {
  const fixed = (cents / 100).toFixed(2);
  const trimmed = fixed.replace(/0$/, '');
  return trimmed.endsWith('.') ? `${trimmed}0` : trimmed;
}

/** Pixel `MoneyV2.amount`: a number. */
export function pixelAmount(cents: number): number {
  return Math.round(cents) / 100;
}

/**
 * Splits `total` cents over `weights` in proportion, largest remainder first, so the parts add up to
 * the total exactly (how a discount or a tax amount is allocated to lines).
 */
export function allocate(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (weights.length === 0) return [];
  if (sum <= 0) return weights.map((_, i) => (i === 0 ? total : 0));
  const exact = weights.map((w) => (total * w) / sum);
  const parts = exact.map((x) => Math.floor(x));
  let rest = total - parts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, frac: x - Math.floor(x) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (rest <= 0) break;
    parts[i]! += 1;
    rest -= 1;
  }
  return parts;
}
