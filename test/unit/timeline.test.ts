import { humanize, timelineEntry } from '../../src/merchant/timeline';

describe('payment timeline labels', () => {
  const at = new Date('2026-01-01T00:00:00Z');

  it('gives known events a sentence', () => {
    expect(timelineEntry({ type: 'decided_reject', detail: { source: 'FLEX_WEBHOOK', code: 'INSUFFICIENT_FUNDS', merchantMessage: 'Card declined' }, createdAt: at })).toMatchObject({
      label: 'Payment declined',
      detail: 'INSUFFICIENT_FUNDS · Card declined · because Flex notified the app',
      tone: 'critical',
    });
  });

  it('renders event types it has never seen readably', () => {
    expect(humanize('refund_requested')).toBe('Refund requested');
    expect(humanize('capture.succeeded')).toBe('Capture succeeded');
    expect(humanize('voidSessionResolved')).toBe('Void session resolved');
    expect(timelineEntry({ type: 'refund_failed', detail: { amountMinor: 1234, currency: 'USD', reason: 'expired card', nested: { x: 1 } }, createdAt: at })).toMatchObject({
      label: 'Refund failed',
      detail: 'amount 12.34 USD · reason: expired card',
      tone: 'critical',
    });
    expect(timelineEntry({ type: 'capture_succeeded', detail: null, createdAt: at })).toMatchObject({ label: 'Capture succeeded', detail: null, tone: 'success' });
  });
});
