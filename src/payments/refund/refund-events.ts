import { eventObject, type FlexEventHandler } from '../../flex/webhooks/flex-event-registry';
import { flexRefundSchema } from '../../flex/flex-types';
import { addLogContext } from '../../lib/log-context';
import { REFUND_METADATA_KEY, type RefundOutcomes } from './refund-outcomes';

/** Flex's refund events; each carries the refund as it was when the event happened. */
export const FLEX_REFUND_EVENTS = ['refund.created', 'refund.updated', 'charge.refund.updated'] as const;

/**
 * A signed refund event moves the refund session forward (pending → succeeded, failed, canceled).
 * The refund is found by its Flex id, or (when the event beats the job that recorded that id) by our
 * refund id in its metadata. Events are applied in the webhook's transaction; a late or repeated
 * one changes nothing, because a decided refund session is never decided again.
 */
export function refundEvents(outcomes: RefundOutcomes): FlexEventHandler {
  return {
    async apply({ repos, shopId, mode, event }) {
      const parsed = flexRefundSchema.safeParse(eventObject(event, 'refund'));
      if (!parsed.success) return 'unparseable_refund';
      const flexRefund = parsed.data;
      if (typeof flexRefund.test_mode === 'boolean' && flexRefund.test_mode !== (mode === 'TEST')) return 'mode_mismatch';

      let refund = await repos.refunds.findByFlexRefund(shopId, flexRefund.refund_id);
      if (!refund) {
        const ours = flexRefund.metadata?.[REFUND_METADATA_KEY];
        const candidate = typeof ours === 'string' ? await repos.refunds.findById(ours) : null;
        if (candidate && candidate.shopId === shopId) refund = candidate;
      }
      // Refunds made elsewhere (the Flex dashboard) are not ours to report.
      if (!refund) return 'unknown_refund';
      addLogContext({ paymentSessionId: refund.paymentSessionId, refundSessionId: refund.id });
      if (refund.test !== (mode === 'TEST')) return 'mode_mismatch';
      const progress = await outcomes.recordFlexRefunds(repos, refund, [flexRefund], 'webhook');
      return progress === 'resolved' || progress === 'failed' ? 'applied' : `refund_${progress}`;
    },
  };
}
