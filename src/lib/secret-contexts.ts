/**
 * The context each stored secret is sealed under (SecretBox's additional authenticated data): the
 * row and column it belongs to. One list, because whatever re-encrypts secrets (`secrets:rotate`)
 * must build exactly the context the code that stores them used.
 */
export const secretContexts = {
  flexApiKey: (shopId: string, mode: string) => `shop:${shopId}:flex-${mode.toLowerCase()}-api-key`,
  flexWebhookSecret: (shopId: string, mode: string) => `shop:${shopId}:flex-${mode.toLowerCase()}-webhook-secret`,
  shopifySessionToken: (sessionId: string, field: 'access-token' | 'refresh-token') => `shopify-session:${sessionId}:${field}`,
};
