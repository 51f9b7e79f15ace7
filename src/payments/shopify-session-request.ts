import { z } from 'zod';
import type { ShopDomain } from '../lib/ids';
import { normalizeShopDomain } from '../lib/shop-domain';

/**
 * Shopify's session requests (payment, refund, capture, void): the headers all four share, and the
 * way validation problems are reported back. Unknown fields pass through: Shopify adds fields with
 * new API versions.
 */

export interface ShopifyRequestHeaders {
  shopDomain: ShopDomain;
  requestId: string | null;
  apiVersion: string;
}

export type RequestProblem = { status: number; code: string; message: string; details?: string[] };

export function readShopifyHeaders(headers: Record<string, string | string[] | undefined>): { ok: true; value: ShopifyRequestHeaders } | { ok: false; problem: RequestProblem } {
  const get = (name: string) => {
    const value = headers[name];
    return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
  };
  const shopHeader = get('shopify-shop-domain');
  const shopDomain = normalizeShopDomain(shopHeader);
  const apiVersion = get('shopify-api-version');
  const details: string[] = [];
  if (!shopHeader) details.push('Shopify-Shop-Domain header: required');
  else if (!shopDomain) details.push('Shopify-Shop-Domain header: must be a *.myshopify.com domain');
  if (!apiVersion) details.push('Shopify-Api-Version header: required');
  else if (!/^(\d{4}-\d{2}|unstable)$/.test(apiVersion)) details.push('Shopify-Api-Version header: must look like 2026-10');
  if (details.length > 0) return { ok: false, problem: invalidRequest(details) };
  return { ok: true, value: { shopDomain: shopDomain!, requestId: get('shopify-request-id') ?? null, apiVersion: apiVersion! } };
}

export function invalidRequest(details: string[]): RequestProblem {
  return { status: 400, code: 'invalid_request', message: `Invalid request: ${details.join('; ')}`, details };
}

export function describeZodError(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`);
}

export const decimalAmount = z.string({ message: 'must be a decimal string such as "10.00"' }).regex(/^\d+(\.\d+)?$/, 'must be a decimal string such as "10.00"');
export const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD');
export const isoDateTime = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time' });
