-- paymentsAppConfigure now has an outbox job kind of its own (src/merchant/payments-app-configuration.ts),
-- apart from the session mutations that report outcomes to Shopify. Jobs written before keep working.
UPDATE "Job"
SET kind = 'shopify.payments-app-configure',
    payload = jsonb_build_object(
      'shopId', payload->'shopId',
      'ready', COALESCE(payload->'variables'->'ready', 'false'::jsonb),
      'externalHandle', COALESCE(payload->'variables'->'externalHandle', 'null'::jsonb))
WHERE kind = 'shopify.payments-mutation' AND "subjectType" = 'shop';
