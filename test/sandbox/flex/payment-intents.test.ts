// Payment intents listed per checkout session (`GET /v1/payment_intents?checkout_session=`), as
// order sync reads them: one per card, the HSA/FSA card's first, each saying which card paid and how
// much; another account's or mode's session lists nothing.
import { FlexTestBed, type Json, type Shop } from './helpers';

const t = new FlexTestBed();
const { call, makeShop, createSession } = t;

describe('payment intents of a checkout session', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await makeShop({ webhook: false });
  });

  const intentsOf = async (key: string, checkoutSessionId: string) => call(key, 'GET', `/v1/payment_intents?checkout_session=${checkoutSessionId}&limit=100`);

  it('a split cart lists two intents: the HSA/FSA card for the eligible share, a regular card for the rest', async () => {
    const session = await createSession(shop);
    t.flex.pay(session.checkout_session_id, 'split');
    const listed = await intentsOf(shop.key, session.checkout_session_id);
    expect(listed.status).toBe(200);
    const intents = listed.body.payment_intents as Json[];
    expect(intents.map((pi) => [pi.payment_card_type, pi.status, pi.amount_received, pi.checkout_session_id])).toEqual(
      expect.arrayContaining([
        ['hsa_fsa', 'succeeded', 5000, session.checkout_session_id],
        ['primary', 'succeeded', 1500, session.checkout_session_id],
      ]),
    );
    expect(intents.reduce((sum, pi) => sum + pi.amount_received, 0)).toBe(session.amount_total);
  });

  it('an authorization lists what is held, not received, until it is captured', async () => {
    const session = await createSession(shop, { capture_method: 'manual' });
    t.flex.pay(session.checkout_session_id, 'hsa_fsa');
    const [held] = (await intentsOf(shop.key, session.checkout_session_id)).body.payment_intents as Json[];
    expect(held).toMatchObject({ payment_card_type: 'hsa_fsa', status: 'requires_capture', amount_capturable: 6500, amount_received: 0 });
  });

  it('lists nothing for a session of another account or of the other mode', async () => {
    const session = await createSession(shop);
    t.flex.pay(session.checkout_session_id, 'card');
    const other = await makeShop({ webhook: false });
    expect((await intentsOf(other.key, session.checkout_session_id)).body.payment_intents).toEqual([]);
    expect((await intentsOf(shop.account.liveKey, session.checkout_session_id)).body.payment_intents).toEqual([]);
    expect((await intentsOf(shop.key, session.checkout_session_id)).body.payment_intents).toEqual([expect.objectContaining({ payment_card_type: 'primary', amount_received: 6500 })]);
  });
});
