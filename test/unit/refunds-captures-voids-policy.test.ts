import { captureRefusal } from '../../src/payments/capture/capture-policy';
import type { PaymentBalance } from '../../src/db/repositories/payment-ledger';
import type { PaymentSessionRecord } from '../../src/db/repositories/payment-sessions';
import { refundRefusal } from '../../src/payments/refund/refund-policy';
import { voidRefusal } from '../../src/payments/void/void-policy';

const now = new Date('2026-11-23T12:00:00Z');
const sale = { shopifyId: 'pay_1', amountMinor: 10000, currency: 'USD', kind: 'SALE', status: 'RESOLVED', authorizationExpiresAt: null } as PaymentSessionRecord;
const auth = { ...sale, kind: 'AUTHORIZATION', authorizationExpiresAt: new Date(now.getTime() + 60_000) } as PaymentSessionRecord;
const balance = (fields: Partial<PaymentBalance> = {}): PaymentBalance => ({
  capturedMinor: 0,
  captureCommittedMinor: 0,
  finalCaptureTaken: false,
  refundCommittedMinor: 0,
  refundedMinor: 0,
  voidCommitted: false,
  ...fields,
});

describe('refundRefusal', () => {
  it('allows refunds up to exactly what was captured, counting those pending or on their way', () => {
    expect(refundRefusal(sale, balance({ capturedMinor: 10000, refundCommittedMinor: 6000 }), 4000)).toBeNull();
    expect(refundRefusal(sale, balance({ capturedMinor: 10000, refundCommittedMinor: 6000 }), 4001)).toBe(
      'Refund of 40.01 USD refused: only 40.00 USD of this payment can still be refunded (100.00 USD captured, 60.00 USD already refunded or being refunded).',
    );
  });

  it('refuses payments that are not resolved, and authorizations nothing was captured of', () => {
    expect(refundRefusal({ ...sale, status: 'PENDING' }, balance({ capturedMinor: 0 }), 1)).toMatch(/was not completed in Flex \(it is pending\)/);
    expect(refundRefusal(auth, balance({ capturedMinor: 0 }), 1)).toMatch(/Nothing of payment pay_1 was captured/);
  });
});

describe('captureRefusal', () => {
  it('allows a capture of what remains, before the expiry', () => {
    expect(captureRefusal(auth, balance(), 10000, now)).toBeNull();
    expect(captureRefusal(auth, balance(), 10001, now)).toEqual({ code: 'PROCESSING_ERROR', merchantMessage: 'Capture of 100.01 USD refused: only 100.00 USD of this authorization remains to capture.' });
  });

  it('rejects AUTHORIZATION_EXPIRED from the expiry instant on', () => {
    const expired = { ...auth, authorizationExpiresAt: now } as PaymentSessionRecord;
    expect(captureRefusal(expired, balance(), 100, now)?.code).toBe('AUTHORIZATION_EXPIRED');
    expect(captureRefusal(expired, balance(), 100, new Date(now.getTime() - 1))).toBeNull();
  });

  it('rejects sales, voided or already captured authorizations', () => {
    expect(captureRefusal(sale, balance(), 100, now)?.merchantMessage).toMatch(/was a sale/);
    expect(captureRefusal(auth, balance({ voidCommitted: true }), 100, now)?.merchantMessage).toMatch(/was voided/);
    expect(captureRefusal(auth, balance({ captureCommittedMinor: 4000, finalCaptureTaken: true }), 100, now)?.merchantMessage).toMatch(/already captured \(40\.00 USD\)/);
  });
});

describe('voidRefusal', () => {
  it('voids only resolved authorizations with nothing captured or being captured', () => {
    expect(voidRefusal(auth, balance())).toBeNull();
    expect(voidRefusal(auth, balance({ captureCommittedMinor: 1 }))).toMatch(/0\.01 USD of authorization pay_1 was already captured/);
    expect(voidRefusal(sale, balance())).toMatch(/was a sale/);
    expect(voidRefusal({ ...auth, status: 'CHECKOUT_CREATED' } as PaymentSessionRecord, balance())).toMatch(/not completed in Flex/);
  });
});
