import type { CaptureSessionRecord } from '../../db/repositories/capture-sessions';
import type { FlexCheckoutSession } from '../../flex/flex-types';
import { formatMoney } from '../../lib/money';
import { reportOperationResolved } from '../report-to-shopify';
import { flexReason, type FlexOperation } from '../operation/flex-operation-job';

/** The key our capture session id travels under in Flex's capture_metadata. */
export const CAPTURE_METADATA_KEY = 'capture_id';

/**
 * A capture in Flex: `POST /v1/checkout/sessions/{id}/capture` with the amount, final_capture and
 * our capture id in capture_metadata, then captureSessionResolve. The capture is found among the
 * checkout session's captures by that id when an answer was lost. `authorization_expired` →
 * AUTHORIZATION_EXPIRED; any other refusal → PROCESSING_ERROR with Flex's reason.
 */
export const flexCapture: FlexOperation<CaptureSessionRecord, { flexCaptureId: string | null }> = {
  kind: 'capture',
  load: (repos, id) => repos.captures.findById(id),
  async lookUp(target, capture) {
    const flexCaptureId = captureIdIn(await target.flex.getCheckoutSession(target.checkoutSessionId), capture.id);
    return flexCaptureId === undefined ? undefined : { flexCaptureId };
  },
  async call(target, capture, idempotencyKey) {
    const checkout = await target.flex.captureCheckoutSession(
      target.checkoutSessionId,
      {
        amount: capture.amountMinor,
        final_capture: capture.finalCapture,
        capture_metadata: { [CAPTURE_METADATA_KEY]: capture.id, shopify_capture_session_id: capture.shopifyId, shopify_capture_session_gid: capture.gid },
      },
      idempotencyKey,
    );
    return { flexCaptureId: captureIdIn(checkout, capture.id) ?? null };
  },
  async record(tx, capture, { flexCaptureId }, { now }) {
    if (!(await tx.captures.succeed(capture.id, flexCaptureId, now))) return;
    await tx.payments.addEvent(capture.paymentSessionId, 'capture_succeeded', {
      amountMinor: capture.amountMinor,
      currency: capture.currency,
      finalCapture: capture.finalCapture,
      flexCaptureId,
      captureSessionId: capture.id,
    });
    await reportOperationResolved(tx.jobs, 'capture', capture, now);
  },
  refusal(error, capture) {
    return error.code === 'authorization_expired'
      ? { code: 'AUTHORIZATION_EXPIRED', merchantMessage: 'The authorization expired and Flex released the hold; it can no longer be captured.' }
      : { code: 'PROCESSING_ERROR', merchantMessage: `Flex refused to capture ${formatMoney(capture.amountMinor, capture.currency)}: ${flexReason(error)}.` };
  },
  summarize: ({ flexCaptureId }) => ({ flexCaptureId }),
};

/** The id of the capture in `checkout` that carries our capture session id, if there is one. */
function captureIdIn(checkout: FlexCheckoutSession, captureSessionId: string): string | undefined {
  for (const item of checkout.captures ?? []) {
    if (!item || typeof item !== 'object') continue;
    const capture = item as { capture_id?: unknown; metadata?: Record<string, unknown> | null };
    if (capture.metadata?.[CAPTURE_METADATA_KEY] === captureSessionId && typeof capture.capture_id === 'string') return capture.capture_id;
  }
  return undefined;
}
