import type { VoidSessionRecord } from '../../db/repositories/void-sessions';
import { reportOperationResolved } from '../report-to-shopify';
import { flexReason, type FlexOperation } from '../operation/flex-operation-job';
import { VOID_REJECTION_CODE } from './void-policy';

/**
 * A void in Flex: `POST /v1/checkout/sessions/{id}/cancel` releases the authorization, then
 * voidSessionResolve. Canceling an already canceled session answers it unchanged (so an unknown
 * outcome is simply retried), and a canceled checkout session is what a lost answer leaves behind. `already_captured` and other refusals →
 * voidSessionReject with Flex's reason.
 */
export const flexVoid: FlexOperation<VoidSessionRecord, { flexStatus: string }> = {
  kind: 'void',
  repeatable: true,
  load: (repos, id) => repos.voids.findById(id),
  async lookUp(target) {
    const checkout = await target.flex.getCheckoutSession(target.checkoutSessionId);
    return checkout.status === 'canceled' ? { flexStatus: checkout.status } : undefined;
  },
  async call(target, _voidSession, idempotencyKey) {
    const checkout = await target.flex.cancelCheckoutSession(target.checkoutSessionId, idempotencyKey);
    return { flexStatus: checkout.status };
  },
  async record(tx, voidSession, { flexStatus }, { now }) {
    if (!(await tx.voids.succeed(voidSession.id, now))) return;
    await tx.payments.addEvent(voidSession.paymentSessionId, 'void_succeeded', { flexStatus, voidSessionId: voidSession.id });
    await reportOperationResolved(tx.jobs, 'void', voidSession, now);
  },
  refusal(error) {
    return {
      code: VOID_REJECTION_CODE,
      merchantMessage:
        error.code === 'already_captured'
          ? 'Flex refused to void the authorization: money was already captured; refund it instead.'
          : `Flex refused to void the authorization: ${flexReason(error)}.`,
    };
  },
  summarize: ({ flexStatus }) => ({ flexStatus }),
};
