import type { Transactor } from '../db/transactor';
import type { ShopDomain } from '../lib/ids';
import { DATA_REQUEST_TOPIC } from '../db/repositories/shopify-webhook-deliveries';

/** The report compiled for a customers/data_request, for the shop it was sent to and nobody else. */
export class DataRequestReports {
  constructor(private readonly deps: { transactor: Transactor }) {}

  async find(shopDomain: ShopDomain, id: string): Promise<{ id: string; report: unknown } | null> {
    const delivery = await this.deps.transactor.repos.shopifyWebhookDeliveries.findById(id);
    const payload = delivery?.payload as { report?: unknown } | null | undefined;
    // Another shop's request is "not found", exactly like one that does not exist.
    if (!delivery || delivery.shopDomain !== shopDomain || delivery.topic !== DATA_REQUEST_TOPIC || !payload?.report) return null;
    return { id: delivery.id, report: payload.report };
  }
}
