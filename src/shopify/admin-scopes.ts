/**
 * The Admin API access scopes the app asks for (OAuth, and `[access_scopes]` in shopify.app.toml):
 * orders, to find the order each Flex payment became and write on it what Flex did (README "Orders").
 * The payments scopes come with the payments extension and are not asked for.
 */
export const ADMIN_API_SCOPES = ['read_orders', 'write_orders'] as const;

/** Whether a granted scope list ("read_orders,write_orders") covers every scope the app needs; `write_x` implies `read_x`. */
export function coversAdminScopes(granted: string): boolean {
  const have = new Set(granted.split(',').map((s) => s.trim()).filter(Boolean));
  return ADMIN_API_SCOPES.every((scope) => have.has(scope) || (scope.startsWith('read_') && have.has(`write_${scope.slice('read_'.length)}`)));
}
