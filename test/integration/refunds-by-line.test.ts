import { payAndReturn, visit } from '../support/buyer';
import { eventually, useHarness } from '../support/harness';

/**
 * Refunds by line (issue 11.4): a refund made in Shopify's admin for chosen lines reaches Flex by
 * line item, the amount spread over those lines with leftover cents round-robin; without the order's
 * refund it goes by amount, with the reason; never more than a line has left, under concurrency.
 */
describe('refunds by line', () => {
  const { h, shop } = useHarness({ orderWebhooks: true, tuning: { cartWaitMs: 3_000, refundLinesWaitMs: 1_500 } });

  let variants: { thermometer: string; sunglasses: string };
  beforeAll(async () => {
    h.flex.setProductEligibility({ gtin: '00036000291452' }, 'auto_substantiation');
    const make = (title: string, price: string, barcode: string) => String(h.shopify.createProduct(shop.domain, { title, variants: [{ price, barcode }] }).product.variants[0]!.id).split('/').pop()!;
    variants = { thermometer: make('Digital Thermometer', '10.00', '00036000291452'), sunglasses: make('Sunglasses', '20.00', '00098765432109') };
    await eventually(async () => (await h.prisma.catalogVariant.count({ where: { shop: { domain: shop.domain }, mode: 'LIVE', flexPriceId: { not: null }, shopifyVariantId: { in: Object.values(variants) } } })) === 2, 30_000, 'products synced');
    await eventually(async () => h.shopify.webPixel(shop.domain), 15_000, 'the cart pixel activated');
  });

  /** A paid sale of 3 thermometers and 1 pair of sunglasses, its Shopify order and its Flex checkout. */
  async function paidOrder() {
    const run = await h.shopify.runCheckout(shop.domain, { lines: [{ variantId: variants.thermometer, quantity: 3 }, { variantId: variants.sunglasses, quantity: 1 }] });
    const toFlex = await visit((run.session!.body as { redirect_url: string }).redirect_url);
    await payAndReturn(toFlex.location!, 'hsa_fsa');
    const order = await h.shopify.waitForOrder(run.session!.session.id, { timeoutMs: 15_000 });
    const payment = await h.prisma.paymentSession.findFirstOrThrow({ where: { shopifyId: run.session!.session.id } });
    expect(payment.cartSource).toBe('CART');
    return { order, payment, checkoutId: payment.flexCheckoutSessionId! };
  }
  const lineOf = (order: Awaited<ReturnType<typeof paidOrder>>['order'], variantId: string) => order.lines.find((l) => String(l.variantId) === variantId)!;
  const flexRefundsOf = (checkoutId: string) => h.flex.refunds({ checkoutSessionId: checkoutId }) as Array<Record<string, any>>;

  it('a refund of chosen lines goes to Flex by line, the amount spread over them, cents round-robin', async () => {
    const { order, checkoutId } = await paidOrder();
    const result = await h.shopify.refundOrderLines(shop.domain, order.id, {
      lines: [{ lineItemId: lineOf(order, variants.thermometer).id, quantity: 1 }, { lineItemId: lineOf(order, variants.sunglasses).id, quantity: 1 }],
    });
    expect((await h.shopify.waitForFollowUpSession(result.session.session.id, { timeoutMs: 15_000 })).status).toBe('resolved');
    const [refund] = flexRefundsOf(checkoutId);
    expect(refund!.amount).toBe(result.amountCents);
    const lines = refund!.line_items as Array<{ price: string; amount_refunded: number }>;
    expect(lines).toHaveLength(2);
    expect(lines.reduce((sum, l) => sum + l.amount_refunded, 0)).toBe(result.amountCents);
    // In proportion to what Shopify gave back for each line (1 : 2), whole cents.
    expect(Math.abs(lines[1]!.amount_refunded - 2 * lines[0]!.amount_refunded)).toBeLessThanOrEqual(2);
    const refundRow = await h.prisma.refundSession.findFirstOrThrow({ where: { shopifyId: result.session.session.id } });
    expect(refundRow.linesReason).toBeNull();
    expect((refundRow.lineBreakdown as { lines: unknown[] }).lines).toHaveLength(2);
  });

  it('without the order’s refund (its webhook lost) the refund goes by amount, with the reason on the timeline', async () => {
    const { order, payment, checkoutId } = await paidOrder();
    h.shopify.faults.dropWebhooks({ topic: 'refunds/create' });
    const result = await h.shopify.refundOrderLines(shop.domain, order.id, { lines: [{ lineItemId: lineOf(order, variants.thermometer).id, quantity: 1 }] });
    expect((await h.shopify.waitForFollowUpSession(result.session.session.id, { timeoutMs: 20_000 })).status).toBe('resolved');
    expect(flexRefundsOf(checkoutId)[0]!.line_items).toEqual([]);
    const refundRow = await h.prisma.refundSession.findFirstOrThrow({ where: { shopifyId: result.session.session.id } });
    expect(refundRow.linesReason).toBe('order_refund_not_found');
    const events = await h.prisma.paymentEvent.findMany({ where: { paymentSessionId: payment.id, type: 'refund_lines_decided' } });
    expect(events.map((e) => (e.detail as Record<string, unknown>).reason)).toEqual(['order_refund_not_found']);
  });

  it('two refunds of the same line at once: the second, more than the line has left, is refused and Flex never sees it', async () => {
    const { order, checkoutId } = await paidOrder();
    const sunglasses = lineOf(order, variants.sunglasses);
    // Shopify reports two refunds of the whole line (say, a double-clicked admin action replayed).
    const refundBody = (id: number) => ({
      id,
      order_id: order.id,
      refund_line_items: [{ quantity: 1, subtotal: '20.00', total_tax: '0.00', line_item: { variant_id: Number(variants.sunglasses) } }],
      transactions: [{ kind: 'refund', status: 'pending', amount: '20.00', currency: 'USD', payment_id: order.transactions[0]!.paymentId }],
      order_adjustments: [],
    });
    expect((await h.shopify.sendWebhook(shop.domain, 'refunds/create', refundBody(990001))).status).toBe(200);
    expect((await h.shopify.sendWebhook(shop.domain, 'refunds/create', refundBody(990002))).status).toBe(200);
    const paymentId = order.transactions[0]!.paymentId!;
    const [a, b] = await Promise.all([
      h.shopify.sendRefundSession(shop.domain, { paymentId, amount: '20.00' }),
      h.shopify.sendRefundSession(shop.domain, { paymentId, amount: '20.00' }),
    ]);
    const outcomes = await Promise.all([a, b].map((s) => h.shopify.waitForFollowUpSession(s.session.id, { timeoutMs: 20_000 })));
    expect(outcomes.map((o) => o.status).sort()).toEqual(['rejected', 'resolved']);
    const refunds = flexRefundsOf(checkoutId);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]!.line_items).toEqual([expect.objectContaining({ amount_refunded: 2000 })]);
    const rejected = await h.prisma.refundSession.findFirstOrThrow({ where: { shopifyId: { in: [a.session.id, b.session.id] }, status: 'REJECTED' } });
    expect(rejected.rejectionMessage).toMatch(/Sunglasses.*left to refund/);
    expect(sunglasses.quantity).toBe(1);
  });
});
