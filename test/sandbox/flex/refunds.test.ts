// Refunds: allocation HSA/FSA card first, asynchronous settling, webhooks.
import { FlexTestBed, sleep, type Json, type Shop } from './helpers';

const t = new FlexTestBed();
const { call, makeShop, createSession, getSession } = t;

describe('refunds', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await makeShop();
  });
  const paid = async (outcome: 'hsa_fsa' | 'split' = 'split') => {
    const session = await createSession(shop);
    t.flex.pay(session.checkout_session_id, outcome);
    return session.checkout_session_id as string;
  };
  const refund = (id: string, body: Json = {}) => call(shop.key, 'POST', `/v1/checkout/sessions/${id}/refund`, { checkout_session: body });

  it('creates a pending refund that settles to succeeded, with webhooks', async () => {
    const id = await paid('hsa_fsa');
    await t.flex.waitForDeliveries();
    t.receiver.received.length = 0;
    const res = await refund(id, { amount: 1000, refund_metadata: { refund_id: 'gid://shopify/Refund/9' } });
    expect(res.status).toBe(200);
    expect(res.body.refunds).toHaveLength(1);
    const created = res.body.refunds[0];
    expect(created).toMatchObject({
      amount: 1000,
      status: 'pending',
      checkout_session_id: id,
      metadata: { refund_id: 'gid://shopify/Refund/9' },
      test_mode: true,
    });
    expect(created.refund_id).toMatch(/^fre_/);
    expect(typeof created.created_at).toBe('string');

    await sleep(60);
    await t.flex.waitForDeliveries();
    const settled = await call(shop.key, 'GET', `/v1/refunds/${created.refund_id}`);
    expect(settled.body.refund.status).toBe('succeeded');
    expect(t.receiver.received.map((r) => r.body.event_type)).toEqual(['refund.created', 'refund.updated', 'charge.refund.updated']);
    expect(t.receiver.ofType('refund.updated')[0].body.object.refund).toMatchObject({ refund_id: created.refund_id, status: 'succeeded' });
    const session = await getSession(shop, id);
    expect(session.amount_refunded).toBe(1000);
    expect(session.refunds.map((r: Json) => r.refund_id)).toEqual([created.refund_id]);
  });

  it('allocates HSA/FSA card first, whatever the items', async () => {
    const id = await paid('split'); // HSA/FSA 5000, card 1500
    const preview = await call(shop.key, 'POST', `/v1/checkout/sessions/${id}/refund_allocation`, {
      checkout_session: { line_items: [{ price: shop.plainPrice, amount_to_refund: 1500 }] },
    });
    expect(preview.body.allocations.map((a: Json) => a.amount)).toEqual([1500, 0]);
    const first = await refund(id, { amount: 4000 });
    expect(first.body.refunds[0].items.map((i: Json) => i.amount_refunded)).toEqual([4000]);
    const second = await refund(id, { amount: 2000 });
    const intents = t.flex.checkoutSession(id).payment_intents as Json[];
    expect(second.body.refunds[0].items).toEqual([
      { payment_intent: intents[0].payment_intent_id, payment_method_id: intents[0].payment_method, amount_refunded: 1000 },
      { payment_intent: intents[1].payment_intent_id, payment_method_id: intents[1].payment_method, amount_refunded: 1000 },
    ]);
    const over = await refund(id, { amount: 501 });
    expect(over.status).toBe(422);
    expect(over.body.detail[0].type).toBe('amount_exceeds_refundable');
    const rest = await refund(id);
    expect(rest.body.refunds[0].amount).toBe(500);
    expect((await refund(id)).body.detail[0].type).toBe('amount_exceeds_refundable');
  });

  it('refunds by line item: each line gives back at most what was paid for it, and the refund says which lines', async () => {
    const id = await paid('split'); // two eligible at 2500, one plain at 1500
    const first = await refund(id, { line_items: [{ price: shop.plainPrice, amount_to_refund: 1000 }] });
    expect(first.status).toBe(200);
    const line = (await call(shop.key, 'GET', `/v1/checkout/sessions/${id}/line_items`)).body.line_items.find((l: Json) => l.price.price_id === shop.plainPrice);
    expect(first.body.refunds[0]).toMatchObject({ amount: 1000, line_items: [{ line_item_id: line.line_item_id, price: shop.plainPrice, amount_refunded: 1000 }] });
    // 1500 paid for the line, 1000 already refunded from it: 501 is too much for it, whatever is left in total.
    const over = await refund(id, { line_items: [{ price: shop.plainPrice, amount_to_refund: 501 }] });
    expect(over.status).toBe(422);
    expect(over.body.detail[0].type).toBe('amount_exceeds_refundable');
    const rest = await refund(id, { line_items: [{ price: shop.plainPrice, amount_to_refund: 500 }, { price: shop.eligiblePrice, amount_to_refund: 2500 }] });
    expect(rest.status).toBe(200);
    expect(rest.body.refunds[0].amount).toBe(3000);
    // A refund by amount says no lines.
    expect((await refund(id, { amount: 100 })).body.refunds[0].line_items).toEqual([]);
  });

  it('gives a failed refund back to refundable (manual settling)', async () => {
    t.flex.setRefundBehaviour('manual');
    const id = await paid('hsa_fsa');
    const created = (await refund(id)).body.refunds[0];
    await sleep(60);
    expect((await call(shop.key, 'GET', `/v1/refunds/${created.refund_id}`)).body.refund.status).toBe('pending');
    expect((await refund(id, { amount: 1 })).status).toBe(422);
    const settle = await fetch(`${t.flex.url}/__sandbox/refunds/${created.refund_id}/settle`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'failed' }),
    });
    expect(settle.status).toBe(200);
    expect((await getSession(shop, id)).amount_refunded).toBe(0);
    expect((await refund(id, { amount: 6500 })).status).toBe(200);
    expect(() => t.flex.settleRefund(created.refund_id, 'succeeded')).toThrow(/already failed/);
    const listed = await call(shop.key, 'GET', `/v1/refunds?checkout_session=${id}`);
    expect(listed.body.refunds.map((r: Json) => r.status)).toEqual(['pending', 'failed']);
  });

  it('refuses refunds of sessions that are not complete', async () => {
    const session = await createSession(shop);
    const res = await refund(session.checkout_session_id, { amount: 100 });
    expect(res.status).toBe(422);
    expect(res.body.detail[0].type).toBe('checkout_session_not_complete');
  });
});
