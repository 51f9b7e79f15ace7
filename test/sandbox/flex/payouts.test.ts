// Money after the buyer: fees on each charge, balance transactions, and payouts on the sandbox clock.
import { FlexSandbox } from '../../../sandbox/flex';
import { FlexTestBed, sleep, type Json } from './helpers';

const t = new FlexTestBed();
const { call } = t;

const DAY = 86_400;
/** UTC midnight `days` after the current sandbox day, as the ISO string the API shows. */
const midnight = (days: number) => new Date((Math.floor(t.flex.now() / DAY) + days) * DAY * 1000).toISOString();

interface Store {
  accountId: string;
  key: string;
  thermometer: string; // $25.00, auto-substantiation
  massager: string; // $80.00, letter of medical necessity
  sunglasses: string; // $15.00, not eligible
}

async function store(live = false): Promise<Store> {
  const account = t.flex.createAccount({ name: 'Ledger Store' });
  const key = live ? account.liveKey : account.testKey;
  return {
    accountId: account.accountId,
    key,
    thermometer: (await t.product(key, { name: 'Thermometer' }, 2500)).priceId,
    massager: (await t.product(key, { name: 'Massage chair' }, 8000)).priceId,
    sunglasses: (await t.product(key, { name: 'Sunglasses' }, 1500)).priceId,
  };
}

async function checkout(s: Store, lineItems: Json[], extra: Json = {}): Promise<string> {
  const res = await call(s.key, 'POST', '/v1/checkout/sessions', {
    checkout_session: { line_items: lineItems, success_url: 'https://shop.example/ok', client_reference_id: `order-${Math.random()}`, metadata: { shop: 'demo' }, ...extra },
  });
  expect(res.status).toBe(200);
  return res.body.checkout_session.checkout_session_id;
}

const intents = (id: string) => t.flex.checkoutSession(id).payment_intents as Json[];
const ledger = async (s: Store, query = '') => (await call(s.key, 'GET', `/v1/balance_transactions${query}`)).body.balance_transactions as Json[];

describe('fees', () => {
  it('takes 2.9 % + 30¢ per card charge by default, on the intent and in a payment balance transaction', async () => {
    const s = await store();
    const id = await checkout(s, [{ price: s.thermometer, quantity: 2 }, { price: s.sunglasses }]);
    t.flex.pay(id, 'hsa_fsa');
    const [pi] = intents(id);
    // round(6500 × 2.9 %) = 189 (half up), + 30
    expect(pi).toMatchObject({ transaction_fee: 219, application_fee_amount: 219, letter_fee_amount: 0 });
    const [bt] = await ledger(s);
    expect(bt).toEqual({
      balance_transaction_id: expect.stringMatching(/^fbt_/),
      amount: 6500,
      fee: 219,
      net: 6281,
      status: 'pending',
      available_on: midnight(2),
      created_at: expect.any(String),
      exchange_rate: null,
      type: 'payment',
      reporting_category: 'charge',
      checkout_session_id: id,
      client_reference_id: t.flex.checkoutSession(id).client_reference_id,
      flex_payment_intent_id: pi.payment_intent_id,
      source_id: pi.latest_charge,
      payout_id: null,
      transaction_fee_amount: 219,
      interchange_fee_amount: 0,
      lmn_fee_amount: 0,
      dispute_fee_amount: 0,
      card_type: 'hsa_fsa',
      card_network: 'visa',
      currency: 'usd',
      mid: null,
      description: null,
      metadata: { shop: 'demo' },
      test_mode: true,
    });
  });

  it('charges each card of a split its own fee, and the letter fee on the HSA/FSA card when the cart needs a letter', async () => {
    const s = await store();
    const id = await checkout(s, [{ price: s.massager }, { price: s.sunglasses }]);
    t.flex.pay(id, 'split'); // HSA/FSA 8000, card 1500
    expect(intents(id).map((pi) => [pi.payment_card_type, pi.amount, pi.transaction_fee, pi.letter_fee_amount, pi.application_fee_amount])).toEqual([
      ['hsa_fsa', 8000, 232 + 30, 500, 232 + 30 + 500],
      ['primary', 1500, 44 + 30, 0, 44 + 30],
    ]);
    expect((await ledger(s, '?type=payment')).map((bt) => [bt.card_type, bt.lmn_fee_amount, bt.fee, bt.net])).toEqual([
      ['primary', 0, 74, 1426],
      ['hsa_fsa', 500, 762, 7238],
    ]);
    // Paid by regular card alone, nobody substantiates with a letter: no letter fee.
    const byCard = await checkout(s, [{ price: s.massager }]);
    t.flex.pay(byCard, 'card');
    expect(intents(byCard)[0]).toMatchObject({ letter_fee_amount: 0, transaction_fee: 262 });
  });

  it('takes fees as money is captured, the fixed part once per intent', async () => {
    const s = await store();
    const id = await checkout(s, [{ price: s.thermometer, quantity: 2 }, { price: s.sunglasses }], { capture_method: 'manual' });
    t.flex.pay(id, 'hsa_fsa');
    expect(intents(id)[0]).toMatchObject({ transaction_fee: null, application_fee_amount: null, letter_fee_amount: 0 });
    expect(await ledger(s)).toEqual([]);
    const capture = (body: Json) => call(s.key, 'POST', `/v1/checkout/sessions/${id}/capture`, { checkout_session: body });
    expect((await capture({ amount: 1000, final_capture: false })).status).toBe(200);
    expect(intents(id)[0].transaction_fee).toBe(29 + 30);
    expect((await capture({ amount: 5500 })).status).toBe(200);
    expect(intents(id)[0].transaction_fee).toBe(29 + 30 + 160);
    expect((await ledger(s)).map((bt) => [bt.amount, bt.fee])).toEqual([
      [5500, 160],
      [1000, 59],
    ]);
  });

  it('follows the configured schedule, HSA/FSA rates apart', async () => {
    const s = await store();
    const set = await t.control('POST', '/fees', { transactionPercent: 3.5, transactionFixed: 0, interchangePercent: 1, hsaFsa: { transactionPercent: 1.5, transactionFixed: 10 } });
    expect(set.body).toMatchObject({ transactionPercent: 3.5, transactionFixed: 0, interchangePercent: 1, letterFee: 500, hsaFsa: { transactionPercent: 1.5, transactionFixed: 10 } });
    expect((await t.control('POST', '/fees', { transactionFixed: -1 })).status).toBe(400);
    const id = await checkout(s, [{ price: s.thermometer, quantity: 4 }, { price: s.sunglasses }]);
    t.flex.pay(id, 'split'); // HSA/FSA 10000, card 1500
    expect(intents(id).map((pi) => pi.transaction_fee)).toEqual([150 + 10 + 100, 53 + 15]);
    expect((await ledger(s)).map((bt) => [bt.card_type, bt.transaction_fee_amount, bt.interchange_fee_amount])).toEqual([
      ['primary', 53, 15],
      ['hsa_fsa', 160, 100],
    ]);

    // An `hsaFsa` given replaces the overrides as a whole.
    expect(t.flex.setFeeSchedule({ hsaFsa: {} }).hsaFsa).toEqual({});
    const other = await new FlexSandbox({ fees: { transactionPercent: 0, transactionFixed: 0, letterFee: 0 } }).start();
    try {
      expect(other.feeSchedule).toMatchObject({ transactionPercent: 0, transactionFixed: 0, letterFee: 0, interchangePercent: 0 });
      expect(() => new FlexSandbox({ fees: { transactionPercent: -1 } })).toThrow(/non-negative/);
    } finally {
      await other.stop();
    }
  });
});

describe('balance transactions', () => {
  it('records a succeeded refund per card it went back to, and nothing for a failed one', async () => {
    const s = await store();
    const id = await checkout(s, [{ price: s.thermometer, quantity: 2 }, { price: s.sunglasses }]);
    t.flex.pay(id, 'split'); // HSA/FSA 5000, card 1500
    // Settled when the test says, not after refundSettleDelayMs: a busy machine can take longer than that to ask.
    t.flex.setRefundBehaviour('manual');
    const refund = await call(s.key, 'POST', `/v1/checkout/sessions/${id}/refund`, { checkout_session: { amount: 5500, refund_metadata: { refund_id: 'r-1' } } });
    const refundId = refund.body.refunds[0].refund_id;
    expect(await ledger(s, '?type=payment_refund')).toEqual([]);
    t.flex.settleRefund(refundId, 'succeeded');
    const refunds = await ledger(s, '?reporting_category=refund');
    const [hsa, card] = intents(id);
    expect(refunds.map((bt) => [bt.amount, bt.fee, bt.net, bt.status, bt.source_id, bt.flex_payment_intent_id, bt.card_type]).sort()).toEqual([
      [-500, 0, -500, 'available', refundId, card.payment_intent_id, 'primary'],
      [-5000, 0, -5000, 'available', refundId, hsa.payment_intent_id, 'hsa_fsa'],
    ]);
    expect(refunds[0]).toMatchObject({ type: 'payment_refund', checkout_session_id: id, metadata: { refund_id: 'r-1' } });

    const failing = await call(s.key, 'POST', `/v1/checkout/sessions/${id}/refund`, { checkout_session: { amount: 100 } });
    t.flex.settleRefund(failing.body.refunds[0].refund_id, 'failed');
    expect(await ledger(s, '?type=payment_refund')).toHaveLength(2);
  });

  it('pages newest first with cursors and filters, each account and mode apart', async () => {
    const s = await store();
    for (let i = 0; i < 3; i++) t.flex.pay(await checkout(s, [{ price: s.sunglasses }]), 'card');
    const adjustment = t.flex.addAdjustment({ accountId: s.accountId, amount: -250, description: 'Correction' });
    const all = await ledger(s);
    expect(all.map((bt) => bt.type)).toEqual(['adjustment', 'payment', 'payment', 'payment']);
    const ids = all.map((bt) => bt.balance_transaction_id);
    expect((await ledger(s, `?limit=2&starting_after=${ids[1]}`)).map((bt) => bt.balance_transaction_id)).toEqual(ids.slice(2));
    expect((await ledger(s, `?limit=2&ending_before=${ids[3]}`)).map((bt) => bt.balance_transaction_id)).toEqual(ids.slice(1, 3));
    expect((await ledger(s, `?balance_transaction_id=${adjustment.balance_transaction_id}`)).map((bt) => bt.description)).toEqual(['Correction']);
    expect(await ledger(s, '?type=payout')).toEqual([]);
    expect((await call(s.key, 'GET', '/v1/balance_transactions?limit=101')).status).toBe(422);
    expect((await call(s.key, 'GET', '/v1/balance_transactions?limit=0')).status).toBe(422);
    const live = t.flex.accounts().find((a) => a.accountId === s.accountId)!.liveKey;
    expect((await call(live, 'GET', '/v1/balance_transactions')).body.balance_transactions).toEqual([]);
    expect((await call(t.flex.createAccount().testKey, 'GET', `/v1/balance_transactions?balance_transaction_id=${ids[0]}`)).body.balance_transactions).toEqual([]);
    expect((await call(undefined, 'GET', '/v1/balance_transactions')).status).toBe(401);
  });
});

describe('payouts', () => {
  it('pays out what became available at each UTC midnight the sandbox clock passes', async () => {
    const s = await store();
    const id = await checkout(s, [{ price: s.thermometer, quantity: 2 }, { price: s.sunglasses }]);
    t.flex.pay(id, 'split'); // fees 175 and 74: net 4825 + 1426
    await call(s.key, 'POST', `/v1/checkout/sessions/${id}/refund`, { checkout_session: { amount: 1000 } });
    await sleep(60);
    expect((await call(s.key, 'GET', '/v1/payouts')).body.payouts).toEqual([]);

    // Next midnight: only the refund is available, and a negative payout is never made.
    t.flex.advanceClock(DAY);
    expect((await call(s.key, 'GET', '/v1/payouts')).body.payouts).toEqual([]);
    t.flex.advanceClock(DAY);
    const [payout] = (await call(s.key, 'GET', '/v1/payouts')).body.payouts;
    expect(payout).toEqual({
      payout_id: expect.stringMatching(/^fpo_/),
      status: 'in_transit',
      amount: 4825 + 1426 - 1000,
      arrival_date: midnight(1),
      created_at: midnight(0),
      source_type: 'card',
      test_mode: true,
    });
    const included = await ledger(s, `?payout_id=${payout.payout_id}`);
    expect(included.map((bt) => [bt.type, bt.net, bt.status])).toEqual([
      ['payout', -5251, 'available'],
      ['payment_refund', -1000, 'available'],
      ['payment', 1426, 'available'],
      ['payment', 4825, 'available'],
    ]);
    expect(included.every((bt) => bt.payout_id === payout.payout_id)).toBe(true);
    expect(included[0]).toMatchObject({ amount: -5251, fee: 0, source_id: payout.payout_id, reporting_category: 'payout' });

    t.flex.advanceClock(DAY);
    expect((await call(s.key, 'GET', `/v1/payouts/${payout.payout_id}`)).body.payout).toMatchObject({ payout_id: payout.payout_id, status: 'paid' });
    expect((await call(t.flex.createAccount().testKey, 'GET', `/v1/payouts/${payout.payout_id}`)).status).toBe(404);
    // Nothing left to pay out.
    t.flex.advanceClock(3 * DAY);
    expect((await call(s.key, 'GET', '/v1/payouts')).body.payouts).toHaveLength(1);
  });

  it('pays out on demand, and adjustments count', async () => {
    const s = await store();
    t.flex.setPayoutSchedule({ availableAfterDays: 0, automatic: false });
    t.flex.pay(await checkout(s, [{ price: s.thermometer, quantity: 4 }]), 'hsa_fsa'); // 10000 - 320
    const dispute = await t.control('POST', '/adjustments', { accountId: s.accountId, amount: -2500, disputeFee: 1500, reportingCategory: 'dispute', metadata: { dispute: 'dp_1' } });
    expect(dispute.body.balance_transaction).toMatchObject({ type: 'adjustment', reporting_category: 'dispute', amount: -2500, fee: 1500, net: -4000, dispute_fee_amount: 1500, card_type: null, card_network: null });
    expect((await t.control('POST', '/adjustments', { accountId: s.accountId, amount: 0 })).status).toBe(400);

    const run = await t.control('POST', '/payouts/run', { accountId: s.accountId, testMode: true });
    expect(run.body.payouts).toHaveLength(1);
    expect(run.body.payouts[0]).toMatchObject({ amount: 9680 - 4000, status: 'in_transit', created_at: expect.any(String) });
    expect(t.flex.runPayouts({ accountId: s.accountId })).toEqual([]);
    expect(t.flex.payouts({ accountId: s.accountId }).map((p) => p.payout_id)).toEqual([run.body.payouts[0].payout_id]);
    expect((await t.control('GET', `/balance-transactions?accountId=${s.accountId}&payoutId=${run.body.payouts[0].payout_id}`)).body.balance_transactions).toHaveLength(3);
    // Automatic payouts are off: passing midnight makes none.
    t.flex.pay(await checkout(s, [{ price: s.sunglasses }]), 'card');
    t.flex.advanceClock(2 * DAY);
    expect(t.flex.payouts({ accountId: s.accountId })).toHaveLength(1);
  });

  it('lists payouts by date, id and page, each mode apart', async () => {
    const s = await store();
    const live = await store(true);
    t.flex.setPayoutSchedule({ availableAfterDays: 0, automatic: false });
    const made: string[] = [];
    for (let day = 0; day < 3; day++) {
      t.flex.pay(await checkout(s, [{ price: s.sunglasses }]), 'card');
      made.push(t.flex.runPayouts({ accountId: s.accountId, testMode: true })[0].payout_id as string);
      t.flex.advanceClock(DAY);
    }
    t.flex.pay(await checkout(live, [{ price: live.sunglasses }]), 'card');
    t.flex.runPayouts({ accountId: live.accountId });
    const list = async (query: string) => ((await call(s.key, 'GET', `/v1/payouts${query}`)).body.payouts as Json[]).map((p) => p.payout_id);
    const newest = [...made].reverse();
    expect(await list('')).toEqual(newest);
    expect(await list('?limit=1')).toEqual(newest.slice(0, 1));
    expect(await list(`?limit=1&starting_after=${newest[0]}`)).toEqual(newest.slice(1, 2));
    expect(await list(`?payout_id=${made[1]}`)).toEqual([made[1]]);
    const createdOf = t.flex.payouts({ accountId: s.accountId }).map((p) => p.created_at as string).reverse();
    expect(await list(`?start_date=${encodeURIComponent(createdOf[1])}`)).toEqual(newest.slice(0, 2));
    expect(await list(`?end_date=${encodeURIComponent(createdOf[1])}`)).toEqual([made[0]]);
    expect(await list(`?start_date=${createdOf[1].slice(0, 10)}&end_date=${createdOf[2].slice(0, 10)}`)).toEqual([made[1]]);
    expect((await call(s.key, 'GET', '/v1/payouts?start_date=yesterday')).body.detail[0]).toMatchObject({ loc: ['query', 'start_date'] });
    expect((await call(live.key, 'GET', '/v1/payouts')).body.payouts.map((p: Json) => p.test_mode)).toEqual([false]);
  });
});
