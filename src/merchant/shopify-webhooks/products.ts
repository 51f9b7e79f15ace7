import { z } from 'zod';
import { restProductSchema, type RestProduct } from '../../catalog/catalog-item';
import { applyProductChange, applyProductDeletion } from '../../catalog/product-webhooks';
import type { TopicHandler } from './topics';

/**
 * products/create and products/update carry the REST product; products/delete only its id. The
 * catalog sync applies them (catalog/product-webhooks.ts): written for each connected mode in the
 * delivery's transaction, pushed to Flex by an outbox job after the answer. What the delivery row
 * keeps is the product's id, title, update time and variant ids: enough to tell what was done.
 */
export function productChanged(): TopicHandler<RestProduct> {
  return {
    parse(body) {
      const parsed = restProductSchema.safeParse(body);
      if (!parsed.success) return { ok: false, problem: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') };
      const product = parsed.data;
      return { ok: true, value: product, stored: { id: product.id, title: product.title, updated_at: product.updated_at, variant_ids: product.variants.map((v) => v.id) } };
    },
    async apply(product, context) {
      return { outcome: await applyProductChange(product, context) };
    },
  };
}

const deletedSchema = z.looseObject({ id: z.number().int().positive() });

export function productDeleted(): TopicHandler<z.infer<typeof deletedSchema>> {
  return {
    parse(body) {
      const parsed = deletedSchema.safeParse(body);
      if (!parsed.success) return { ok: false, problem: 'id: a product id is required' };
      // A product payload sent under this topic would delete a product that still exists.
      if (body && typeof body === 'object' && 'variants' in body) return { ok: false, problem: 'the body has variants, which this topic does not send' };
      return { ok: true, value: parsed.data, stored: { id: parsed.data.id } };
    },
    async apply(value, context) {
      return { outcome: await applyProductDeletion(value.id, context) };
    },
  };
}
