import type { PaymentSession, Prisma } from '@prisma/client';
import { z } from 'zod';
import type { Logger } from '../../lib/logger';
import { toDecimalString, toSafeNumber } from '../../lib/money';
import { queueUninstall } from '../uninstall';
import { parseTopicBody, type TopicHandler } from '../../shopify/webhook-topic';

export type { ParsedTopic, TopicContext, TopicHandler, TopicOutcome } from '../../shopify/webhook-topic';

const customerSchema = z.looseObject({
  id: z.number().int().nullish(),
  email: z.string().nullish(),
  phone: z.string().nullish(),
});

const orderIds = z.array(z.number().int()).nullish();

const dataRequestSchema = z.looseObject({
  shop_id: z.number().int().nullish(),
  shop_domain: z.string(),
  customer: customerSchema,
  orders_requested: orderIds,
  data_request: z.looseObject({ id: z.number().int() }),
});

const customerRedactSchema = z.looseObject({
  shop_id: z.number().int().nullish(),
  shop_domain: z.string(),
  customer: customerSchema,
  orders_to_redact: orderIds,
});

const shopRedactSchema = z.looseObject({ shop_id: z.number().int().nullish(), shop_domain: z.string() });

const uninstalledSchema = z.looseObject({ id: z.number().int().nullish(), myshopify_domain: z.string() });

function sameShop(bodyDomain: string, shopDomain: string): boolean {
  return bodyDomain.trim().toLowerCase() === shopDomain;
}

/** app/uninstalled: queued, and carried out once Shopify confirms the app is no longer installed (merchant/uninstall.ts). */
export function appUninstalled(): TopicHandler<z.infer<typeof uninstalledSchema>> {
  return {
    parse(body, shopDomain) {
      const parsed = parseTopicBody(uninstalledSchema, body, ['shop_domain', 'customer', 'data_request', 'orders_to_redact']);
      if (!parsed.ok) return parsed;
      if (!sameShop(parsed.value.myshopify_domain, shopDomain)) return { ok: false, problem: 'myshopify_domain is not the shop of X-Shopify-Shop-Domain' };
      // The shop object carries the owner's name and email: keep only what identifies the shop.
      return { ok: true, value: parsed.value, stored: { id: parsed.value.id ?? null, myshopify_domain: shopDomain } };
    },
    async apply(_value, { repos, shopDomain, deliveryId, now }) {
      await queueUninstall(repos.jobs, shopDomain, deliveryId, now);
      return { outcome: 'uninstall_queued' };
    },
  };
}

/**
 * customers/data_request: compile what the app holds about the customer, for the merchant to send
 * on (Shopify asks the merchant, who has 30 days). The report is kept on the delivery row and offered
 * on the settings page.
 */
export function customersDataRequest(): TopicHandler<z.infer<typeof dataRequestSchema>> {
  return {
    parse(body, shopDomain) {
      const parsed = parseTopicBody(dataRequestSchema, body, ['orders_to_redact', 'myshopify_domain']);
      if (!parsed.ok) return parsed;
      if (!sameShop(parsed.value.shop_domain, shopDomain)) return { ok: false, problem: 'shop_domain is not the shop of X-Shopify-Shop-Domain' };
      return { ok: true, value: parsed.value, stored: parsed.value as Prisma.InputJsonValue };
    },
    async apply(value, { repos, shopDomain, now }) {
      const shop = await repos.shops.findByDomain(shopDomain);
      const identity = { email: value.customer.email ?? null, phone: value.customer.phone ?? null };
      const payments = shop ? await repos.customerData.paymentsOfCustomer(shop.id, identity) : [];
      const report = {
        generatedAt: now.toISOString(),
        shop: shopDomain,
        dataRequestId: value.data_request.id,
        customer: { id: value.customer.id ?? null, email: identity.email, phone: identity.phone },
        ordersRequested: value.orders_requested ?? [],
        matchedBy: identity.email ? 'email' : identity.phone ? 'phone' : 'nothing to match on',
        note:
          'Payments made with Flex through this app. Each carries the buyer details Shopify sent with the payment. ' +
          'Flex, as the payment processor, holds its own records of the checkout (ask Flex for those).',
        payments: payments.map(reportPayment),
      };
      return { outcome: 'report_ready', payload: { request: value as Prisma.InputJsonValue, report } };
    },
  };
}

/** customers/redact: the customer's details leave the stored payments; the money records stay. */
export function customersRedact(): TopicHandler<z.infer<typeof customerRedactSchema>> {
  return {
    parse(body, shopDomain) {
      const parsed = parseTopicBody(customerRedactSchema, body, ['data_request', 'orders_requested', 'myshopify_domain']);
      if (!parsed.ok) return parsed;
      if (!sameShop(parsed.value.shop_domain, shopDomain)) return { ok: false, problem: 'shop_domain is not the shop of X-Shopify-Shop-Domain' };
      // Never store the personal data of a request to erase it.
      const stored = { shop_id: parsed.value.shop_id ?? null, shop_domain: shopDomain, customer: { id: parsed.value.customer.id ?? null }, orders_to_redact: parsed.value.orders_to_redact ?? [] };
      return { ok: true, value: parsed.value, stored };
    },
    async apply(value, { repos, shopDomain }) {
      const shop = await repos.shops.findByDomain(shopDomain);
      const identity = { email: value.customer.email ?? null, phone: value.customer.phone ?? null };
      const payments = shop ? await repos.customerData.paymentsOfCustomer(shop.id, identity) : [];
      await repos.customerData.scrubPayments(payments);
      const reports = await repos.shopifyWebhookDeliveries.redactDataRequestsOf(shopDomain, identity.email, value.customer.id ?? null);
      return { outcome: payments.length + reports > 0 ? 'customer_redacted' : 'nothing_held', payload: { result: { paymentsRedacted: payments.length, reportsRedacted: reports } } };
    },
  };
}

/**
 * shop/redact (48 hours after uninstall): everything the app holds for the shop is deleted. An
 * installed shop is left alone: Shopify does not send this to an installed app, so it can only be a
 * replay.
 */
export function shopRedact(deps: { logger: Logger }): TopicHandler<z.infer<typeof shopRedactSchema>> {
  return {
    parse(body, shopDomain) {
      const parsed = parseTopicBody(shopRedactSchema, body, ['customer', 'orders_to_redact', 'orders_requested', 'data_request', 'myshopify_domain']);
      if (!parsed.ok) return parsed;
      if (!sameShop(parsed.value.shop_domain, shopDomain)) return { ok: false, problem: 'shop_domain is not the shop of X-Shopify-Shop-Domain' };
      return { ok: true, value: parsed.value, stored: { shop_id: parsed.value.shop_id ?? null, shop_domain: shopDomain } };
    },
    async apply(_value, { repos, shopDomain, deliveryId }) {
      const shop = await repos.shops.findByDomain(shopDomain);
      if (shop?.status === 'ACTIVE') {
        deps.logger.warn({ shop: shopDomain }, 'shop/redact for a shop that has the app installed; nothing deleted');
        return { outcome: 'skipped_shop_installed' };
      }
      if (shop) await repos.customerData.deleteShop(shop.id, shopDomain);
      else await repos.customerData.deleteSessionsOf(shopDomain);
      const deliveriesScrubbed = await repos.shopifyWebhookDeliveries.scrubAllForShop(shopDomain, deliveryId);
      deps.logger.info({ shop: shopDomain, deliveriesScrubbed }, 'shop data deleted');
      return { outcome: shop ? 'shop_data_deleted' : 'nothing_held' };
    },
  };
}

function reportPayment(p: PaymentSession): Prisma.InputJsonObject {
  return {
    shopifyPaymentSessionId: p.shopifyId,
    shopifyPaymentSessionGid: p.gid,
    createdAt: p.createdAt.toISOString(),
    amount: toDecimalString(toSafeNumber(p.amountMinor), p.currency),
    currency: p.currency,
    kind: p.kind,
    test: p.test,
    status: p.status,
    flexCheckoutSessionId: p.flexCheckoutSessionId,
    customer: (p.customer ?? null) as Prisma.InputJsonValue | null,
  };
}
