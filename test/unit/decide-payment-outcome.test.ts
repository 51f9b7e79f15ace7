import type { FlexCheckoutSession } from '../../src/flex/flex-types';
import { decidePaymentOutcome, DEFAULT_AUTHORIZATION_LIFETIME_MS } from '../../src/payments/payment/decide-payment-outcome';
import type { PaymentSessionRecord } from '../../src/db/repositories/payment-sessions';
import { rejectionCodeForDecline } from '../../src/shopify/rejection-reasons';

const now = new Date('2026-11-23T12:00:00Z');
const payment = { amountMinor: 12300, currency: 'USD', kind: 'SALE' } as PaymentSessionRecord;
const checkout = (fields: Partial<FlexCheckoutSession>): FlexCheckoutSession => ({ checkout_session_id: 'fcs_1', status: 'open', amount_total: 12300, ...fields }) as FlexCheckoutSession;
const decide = (c: FlexCheckoutSession, _source: 'BUYER_RETURN' | 'FLEX_WEBHOOK' | 'RECONCILER' | 'BUYER_CANCEL' = 'FLEX_WEBHOOK', p = payment, apiVersion = '2026-10') =>
  decidePaymentOutcome({ payment: p, checkout: c, now, apiVersion });

describe('decidePaymentOutcome', () => {
  it('resolves a complete sale', () => {
    expect(decide(checkout({ status: 'complete' }))).toEqual({ type: 'resolve', authorizationExpiresAt: null });
  });

  it('accepts more than the amount (an LMN fee) but never less', () => {
    expect(decide(checkout({ status: 'complete', amount_total: 13300 })).type).toBe('resolve');
    expect(decide(checkout({ status: 'complete', amount_total: 12299 })).type).toBe('needs_attention');
  });

  it('resolves an authorization with the earliest expiry Flex gives, or 7 days', () => {
    const auth = { ...payment, kind: 'AUTHORIZATION' } as PaymentSessionRecord;
    const at = Math.floor(now.getTime() / 1000) + 3600;
    const withExpiry = checkout({
      status: 'complete',
      payment_intents: [
        { payment_intent_id: 'fpi_1', status: 'requires_capture', authorization_expires_at: at + 100 },
        { payment_intent_id: 'fpi_2', status: 'requires_capture', authorization_expires_at: at },
      ],
    });
    expect(decide(withExpiry, 'FLEX_WEBHOOK', auth)).toEqual({ type: 'resolve', authorizationExpiresAt: new Date(at * 1000) });
    expect(decide(checkout({ status: 'complete' }), 'FLEX_WEBHOOK', auth)).toEqual({ type: 'resolve', authorizationExpiresAt: new Date(now.getTime() + DEFAULT_AUTHORIZATION_LIFETIME_MS) });
  });

  it('waits on an open checkout, even when the buyer opens the success URL, unless money is in progress at Flex', () => {
    expect(decide(checkout({ status: 'open' }), 'RECONCILER').type).toBe('wait');
    expect(decide(checkout({ status: 'open' }), 'BUYER_CANCEL').type).toBe('wait');
    expect(decide(checkout({ status: 'open' }), 'BUYER_RETURN').type).toBe('wait');
    const intent = (status: string) => ({ payment_intent_id: 'fpi_1', status }) as never;
    expect(decide(checkout({ status: 'open', payment_intents: [intent('requires_payment_method')] }), 'BUYER_RETURN').type).toBe('wait');
    expect(decide(checkout({ status: 'open', payment_intents: [intent('canceled')] }), 'BUYER_RETURN').type).toBe('wait');
    expect(decide(checkout({ status: 'open', payment_intents: [intent('processing')] }), 'BUYER_RETURN').type).toBe('pending');
    expect(decide(checkout({ status: 'open', payment_intents: [intent('requires_capture')] }), 'RECONCILER').type).toBe('pending');
    expect(decide(checkout({ status: 'paid' }), 'BUYER_RETURN').type).toBe('pending');
    expect(decide(checkout({ status: 'paid' }), 'RECONCILER').type).toBe('pending');
  });

  it('rejects an expired or canceled checkout, with the decline reason when there is one', () => {
    expect(decide(checkout({ status: 'expired' }))).toMatchObject({ type: 'reject', code: 'PROCESSING_ERROR' });
    expect(decide(checkout({ status: 'open', expires_at: Math.floor(now.getTime() / 1000) - 1 }), 'RECONCILER')).toMatchObject({ type: 'reject', code: 'PROCESSING_ERROR' });
    const declined = checkout({
      status: 'canceled',
      payment_intents: [{ payment_intent_id: 'fpi_1', status: 'canceled', last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds' } }],
    });
    expect(decide(declined)).toMatchObject({ type: 'reject', code: 'INSUFFICIENT_FUNDS' });
    // Older API versions do not know INSUFFICIENT_FUNDS: the code must be one the version accepts.
    expect(decide(declined, 'FLEX_WEBHOOK', payment, '2025-10')).toMatchObject({ type: 'reject', code: 'CARD_DECLINED' });
  });

  it('waits on a status it does not know', () => {
    expect(decide(checkout({ status: 'something_new' })).type).toBe('wait');
  });
});

describe('rejectionCodeForDecline', () => {
  it('only ever returns codes the API version has', () => {
    expect(rejectionCodeForDecline('do_not_honor', '2026-07')).toBe('DO_NOT_HONOR');
    expect(rejectionCodeForDecline('do_not_honor', '2026-04')).toBe('CARD_DECLINED');
    expect(rejectionCodeForDecline('expired_card', '2025-10')).toBe('EXPIRED_CARD');
    expect(rejectionCodeForDecline(undefined, '2025-10')).toBe('CARD_DECLINED');
    expect(rejectionCodeForDecline('never_heard_of_it', '2026-10')).toBe('CARD_DECLINED');
  });
});
