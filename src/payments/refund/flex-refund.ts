import type { RefundSessionRecord } from '../../db/repositories/refund-sessions';
import type { Transactor } from '../../db/transactor';
import type { RefundCheckoutSessionInput } from '../../flex/flex-client';
import type { FlexRefund } from '../../flex/flex-types';
import type { Logger } from '../../lib/logger';
import { formatMoney } from '../../lib/money';
import { flexReason, type FlexOperation } from '../operation/flex-operation-job';
import { REFUND_REJECTION_CODE } from './refund-policy';
import { decideRefundLines, REFUND_LINES_EXPLANATIONS, refundLineBreakdownSchema } from './refund-lines';
import { REFUND_METADATA_KEY, type RefundOutcomes } from './refund-outcomes';

/**
 * A refund in Flex: `POST /v1/checkout/sessions/{id}/refund`, by line when the refunded lines are
 * known (refund-lines.ts) and by amount otherwise, with our refund id in refund_metadata (as Flex's
 * own plugin does), so the refund can be found among the checkout
 * session's refunds when an answer was lost. Flex takes it as pending; the outcomes (webhooks and the
 * poller) follow it to its end.
 */
export function flexRefund(
  outcomes: RefundOutcomes,
  lines: { transactor: Transactor; logger: Logger; waitMs: number },
): FlexOperation<RefundSessionRecord, FlexRefund[]> {
  return {
    kind: 'refund',
    load: (repos, id) => repos.refunds.findById(id),
    async prepare(refund, now) {
      if (refund.linesDecidedAt) return { ready: refund };
      const decision = await lines.transactor.run(async (tx) => {
        const decided = await decideRefundLines(tx, refund, now, lines.waitMs);
        if (decided.kind === 'by_line') await tx.refunds.decideLines(refund.id, decided.breakdown, null, now);
        if (decided.kind === 'by_amount') await tx.refunds.decideLines(refund.id, null, decided.reason, now);
        if (decided.kind === 'by_line' || decided.kind === 'by_amount') {
          await tx.payments.addEvent(refund.paymentSessionId, 'refund_lines_decided', {
            refundSessionId: refund.id,
            byLine: decided.kind === 'by_line',
            lines: decided.kind === 'by_line' ? decided.breakdown.lines.length : 0,
            reason: decided.kind === 'by_amount' ? decided.reason : null,
            why: decided.kind === 'by_amount' ? REFUND_LINES_EXPLANATIONS[decided.reason] : null,
          });
        }
        return decided;
      });
      if (decision.kind === 'wait') return { wait: "waiting for Shopify's refund of the order, which says which lines", retryAfterMs: Math.min(1_000, lines.waitMs) };
      if (decision.kind === 'refuse') return { refuse: { code: REFUND_REJECTION_CODE, merchantMessage: decision.message } };
      if (decision.kind === 'by_amount') lines.logger.info({ refundSessionId: refund.id, reason: decision.reason }, 'refund goes to Flex by amount');
      return { ready: (await lines.transactor.repos.refunds.findById(refund.id)) ?? refund };
    },
    async lookUp(target, refund) {
      const all = await target.flex.listRefundsForCheckoutSession(target.checkoutSessionId);
      const ours = all.filter((r) => r.metadata?.[REFUND_METADATA_KEY] === refund.id);
      return ours.length > 0 ? ours : undefined;
    },
    call(target, refund, idempotencyKey) {
      const refund_metadata = {
        [REFUND_METADATA_KEY]: refund.id,
        shopify_refund_session_id: refund.shopifyId,
        shopify_refund_session_gid: refund.gid,
        shopify_payment_session_id: target.payment.shopifyId,
        shopify_shop_domain: target.shopDomain,
      };
      const byLine = refundLineBreakdownSchema.safeParse(refund.lineBreakdown);
      const body: RefundCheckoutSessionInput = byLine.success
        ? {
            line_items: byLine.data.lines.map((l) => ({ price: l.flexPriceId, amount_to_refund: l.amountMinor })),
            ...(byLine.data.shippingMinor > 0 ? { amount_shipping: byLine.data.shippingMinor } : {}),
            refund_metadata,
          }
        : { amount: refund.amountMinor, refund_metadata };
      return target.flex.refundCheckoutSession(target.checkoutSessionId, body, idempotencyKey);
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
