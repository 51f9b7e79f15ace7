// Flex cart pixel (strict web pixel). At each checkout step it posts the cart to the app, which joins
// it to the payment session that follows (the session request has no cart). The body is a contract
// with the app: {"v":1,"shop","key","event":{id,name,seq,timestamp,location,checkout:{…}}} — see
// sandbox/shopify/README.md, "Web pixel". No buyer PII: no email, phone, addresses or customer.
//
// Sent as text/plain so that the cross-origin POST is a "simple request" (no CORS preflight) and with
// keepalive so that it survives the page moving on; no credentials.
import { register } from '@shopify/web-pixels-extension';

// The checkout steps before the payment session request, and the one after the order exists.
const CHECKOUT_EVENTS = [
  'checkout_started',
  'checkout_contact_info_submitted',
  'checkout_address_info_submitted',
  'checkout_shipping_info_submitted',
  'payment_info_submitted',
  'checkout_completed',
] as const;

interface Money {
  amount: number;
  currencyCode: string;
}

// Only what the app needs, copied field by field so that nothing else (PII) can slip through.
function money(value: Money | null | undefined): Money | null {
  return value ? { amount: value.amount, currencyCode: value.currencyCode } : null;
}

function cartOf(checkout: any) {
  return {
    token: checkout?.token ?? null,
    currencyCode: checkout?.currencyCode ?? null,
    totalPrice: money(checkout?.totalPrice),
    subtotalPrice: money(checkout?.subtotalPrice),
    totalTax: money(checkout?.totalTax),
    shippingLine: checkout?.shippingLine ? { price: money(checkout.shippingLine.price) } : null,
    discountsAmount: money(checkout?.discountsAmount),
    lineItems: (checkout?.lineItems ?? []).map((line: any) => ({
      id: line?.id ?? null,
      quantity: line?.quantity ?? 0,
      title: line?.title ?? null,
      finalLinePrice: money(line?.finalLinePrice),
      variant: line?.variant
        ? {
            id: line.variant.id ?? null,
            sku: line.variant.sku ?? null,
            price: money(line.variant.price),
            product: line.variant.product ? { id: line.variant.product.id ?? null, title: line.variant.product.title ?? null } : null,
          }
        : null,
      discountAllocations: (line?.discountAllocations ?? []).map((allocation: any) => ({ amount: money(allocation?.amount) })),
    })),
  };
}

register(({ analytics, init, settings }) => {
  const endpoint = typeof settings.endpoint === 'string' ? settings.endpoint : '';
  if (!endpoint) return;
  const shop = init.data.shop.myshopifyDomain;

  for (const name of CHECKOUT_EVENTS) {
    analytics.subscribe(name, (event: any) => {
      const body = JSON.stringify({
        v: 1,
        shop,
        key: settings.shopKey,
        event: {
          id: event.id,
          name: event.name,
          seq: event.seq,
          timestamp: event.timestamp,
          location: event.context?.document?.location?.href ?? null,
          checkout: cartOf(event.data?.checkout),
        },
      });
      // A lost event is covered by the checkouts/* webhooks and the app's fallback; never throw here.
      fetch(endpoint, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body, keepalive: true }).catch(() => undefined);
    });
  }
});
