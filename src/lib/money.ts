/**
 * Money is integer minor units (cents for USD) everywhere inside the app. Shopify sends decimal
 * strings; they are parsed digit by digit, never through a float.
 */

/** ISO 4217 minor-unit digits for the currencies whose exponent is not 2. */
const MINOR_UNIT_DIGITS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0,
  VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
};

export function minorUnitDigits(currency: string): number {
  return MINOR_UNIT_DIGITS[currency] ?? 2;
}

export type ParseAmountResult =
  | { ok: true; minor: number }
  | { ok: false; reason: string };

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * Parses Shopify's decimal amount ("123.00", "5", "0.5") into minor units of `currency`.
 * Refuses signs, exponents, separators other than ".", more precision than the currency has
 * (unless the extra digits are zeros), and values beyond what a JS number holds exactly.
 */
export function parseDecimalAmount(text: string, currency: string): ParseAmountResult {
  const match = DECIMAL.exec(text);
  if (!match) return { ok: false, reason: `"${text}" is not a decimal amount like "123.45"` };
  const digits = minorUnitDigits(currency);
  const whole = match[1]!;
  const fraction = match[2] ?? '';
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > digits) {
    return { ok: false, reason: `"${text}" has more decimal places than ${currency} allows (${digits})` };
  }
  const minorText = (whole + significant.padEnd(digits, '0')).replace(/^0+(?=\d)/, '');
  const minor = BigInt(minorText);
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: `"${text}" is too large` };
  return { ok: true, minor: Number(minor) };
}

/** Minor units as Shopify's plain decimal string (12345 cents → "123.45"): the inverse of parseDecimalAmount. */
export function toDecimalString(minor: number, currency: string): string {
  const digits = minorUnitDigits(currency);
  const negative = minor < 0;
  const text = Math.abs(minor).toString().padStart(digits + 1, '0');
  const formatted = digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  return negative ? `-${formatted}` : formatted;
}

/** The one way the app shows money to people: "123.45 USD". */
export function formatMoney(minor: number, currency: string): string {
  return `${toDecimalString(minor, currency)} ${currency}`;
}

/** Converts a BigInt column to a number, refusing values a JS number cannot hold exactly. */
export function toSafeNumber(value: bigint | number): number {
  if (typeof value === 'number') return value;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`amount ${value} does not fit in a safe integer`);
  }
  return Number(value);
}
