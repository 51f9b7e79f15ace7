/**
 * Flex takes US dollars only: its own WooCommerce plugin offers Flex to USD stores only, and every
 * amount in its API is in cents of the account's currency (reference flex-api.md §1).
 */
const FLEX_CURRENCIES: ReadonlySet<string> = new Set(['USD']);

export function flexAcceptsCurrency(currency: string): boolean {
  return FLEX_CURRENCIES.has(currency);
}
