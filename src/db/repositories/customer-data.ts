import { Prisma, type PaymentSession } from '@prisma/client';
import type { DbClient } from '../db-client';

/** Who a compliance webhook is about. */
export interface CustomerIdentity {
  email: string | null;
  phone: string | null;
}

/**
 * The personal data the app holds, found and removed for Shopify's compliance webhooks. Personal
 * data lives in a payment's `customer` (and the same object inside `rawRequest`: email, phone,
 * addresses) and in the Flex webhook events of its checkout (Flex echoes the buyer details it was
 * given). Money records (amounts, states, ids, timelines) carry none and are kept.
 */
export class CustomerDataRepository {
  constructor(private readonly db: DbClient) {}

  /**
   * A customer's payments in a shop. Matched on the email address (case-insensitive); on the phone
   * number (digits only) only when the request carries no email. Shopify's order ids cannot be
   * matched: a payment session is made before its order exists.
   */
  async paymentsOfCustomer(shopId: string, customer: CustomerIdentity): Promise<PaymentSession[]> {
    let ids: Array<{ id: string }>;
    if (customer.email) {
      ids = await this.db.$queryRaw<Array<{ id: string }>>`
        SELECT id::text AS id FROM "PaymentSession"
        WHERE "shopId" = ${shopId}::uuid AND lower(customer->>'email') = lower(${customer.email})`;
    } else if (customer.phone && digits(customer.phone).length >= 7) {
      ids = await this.db.$queryRaw<Array<{ id: string }>>`
        SELECT id::text AS id FROM "PaymentSession"
        WHERE "shopId" = ${shopId}::uuid AND regexp_replace(coalesce(customer->>'phone_number', ''), '[^0-9]', '', 'g') = ${digits(customer.phone)}`;
    } else {
      return [];
    }
    if (ids.length === 0) return [];
    return this.db.paymentSession.findMany({ where: { id: { in: ids.map((r) => r.id) } }, orderBy: { createdAt: 'asc' } });
  }

  /** Removes the buyer's details from these payments, keeping everything about the money. */
  async scrubPayments(payments: PaymentSession[]): Promise<void> {
    for (const payment of payments) {
      const raw = payment.rawRequest;
      const rawRequest = raw && typeof raw === 'object' && !Array.isArray(raw) ? { ...raw, customer: null } : {};
      await this.db.paymentSession.update({ where: { id: payment.id }, data: { customer: Prisma.DbNull, rawRequest } });
    }
    const checkoutIds = payments.map((p) => p.flexCheckoutSessionId).filter((id): id is string => id !== null);
    if (checkoutIds.length === 0) return;
    const shopIds = [...new Set(payments.map((p) => p.shopId))];
    // Flex events name their checkout session (or the payment intents' session) somewhere in the body.
    await this.db.$executeRaw`
      UPDATE "FlexWebhookDelivery"
      SET payload = jsonb_build_object('event_id', payload->'event_id', 'event_type', payload->'event_type', 'redacted', true)
      WHERE "shopId" = ANY(${shopIds}::uuid[])
        AND EXISTS (SELECT 1 FROM unnest(${checkoutIds}::text[]) AS cs(id) WHERE strpos(payload::text, cs.id) > 0)`;
  }

  /** Deletes everything the app holds for a shop (shop/redact). */
  async deleteShop(shopId: string, shopDomain: string): Promise<void> {
    await this.db.job.deleteMany({ where: { shopId } });
    await this.db.flexWebhookDelivery.deleteMany({ where: { shopId } });
    await this.deleteSessionsOf(shopDomain);
    // Cascades to Flex connections, catalog prices, payments and their timelines.
    await this.db.shop.delete({ where: { id: shopId } });
  }

  /** The shop's Shopify sessions: the offline token, and OAuth states in flight. */
  async deleteSessionsOf(shopDomain: string): Promise<number> {
    const { count } = await this.db.session.deleteMany({ where: { shop: shopDomain } });
    return count;
  }
}

function digits(text: string): string {
  return text.replace(/[^0-9]/g, '');
}
