import type { RefundSessionRecord } from '../../db/repositories/refund-sessions';
import type { FlexRefund } from '../../flex/flex-types';
import { formatMoney } from '../../lib/money';
import { flexReason, type FlexOperation } from '../operation/flex-operation-job';
import { REFUND_REJECTION_CODE } from './refund-policy';
import { REFUND_METADATA_KEY, type RefundOutcomes } from './refund-outcomes';

/**
 * A refund in Flex: `POST /v1/checkout/sessions/{id}/refund` with the amount in cents and our refund
 * id in refund_metadata (as Flex's own plugin does), so the refund can be found among the checkout
 * session's refunds when an answer was lost. Flex takes it as pending; the outcomes (webhooks and the
 * poller) follow it to its end.
 */
export function flexRefund(outcomes: RefundOutcomes): FlexOperation<RefundSessionRecord, FlexRefund[]> {
  return {
    kind: 'refund',
    load: (repos, id) => repos.refunds.findById(id),
    async lookUp(target, refund) {
      const all = await target.flex.listRefundsForCheckoutSession(target.checkoutSessionId);
      const ours = all.filter((r) => r.metadata?.[REFUND_METADATA_KEY] === refund.id);
      return ours.length > 0 ? ours : undefined;
    },
    call(target, refund, idempotencyKey) {
      return target.flex.refundCheckoutSession(
        target.checkoutSessionId,
        {
          amount: refund.amountMinor,
          refund_metadata: {
            [REFUND_METADATA_KEY]: refund.id,
            shopify_refund_session_id: refund.shopifyId,
            shopify_refund_session_gid: refund.gid,
            shopify_payment_session_id: target.payment.shopifyId,
            shopify_shop_domain: target.shopDomain,
          },
        },
        idempotencyKey,
      );
    },
    async record(tx, refund, flexRefunds, { evidence }) {
      await outcomes.recordFlexRefunds(tx, refund, flexRefunds, evidence);
    },
    refusal(error, refund) {
      return {
        code: REFUND_REJECTION_CODE,
        merchantMessage: `Flex refused the refund of ${formatMoney(refund.amountMinor, refund.currency)}: ${flexReason(error)}. No money was returned to the buyer.`,
      };
    },
    summarize: (flexRefunds) => ({ flexRefundIds: flexRefunds.map((r) => r.refund_id) }),
  };
}
