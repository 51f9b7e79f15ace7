import { setTimeout as sleep } from 'node:timers/promises';
import type { ShopifySimulator } from '../../sandbox/shopify';
import { payOnFlexPage, visit } from './buyer';

/**
 * Clients that do what Shopify, Flex and a buyer's browser do when the app is briefly unavailable
 * (a 503 while its database is away, a connection refused by an instance that died): try again,
 * with the same ids, until it answers.
 */

export const PATIENCE_MS = 60_000;

/** Repeats `attempt` while the answer is 502 or 503, there is none, or `again` says so. */
export async function untilAnswered<T extends { status: number }>(attempt: (retry: boolean) => Promise<T>, label: string, again = (_answer: T) => false): Promise<T> {
  const deadline = Date.now() + PATIENCE_MS;
  for (let retry = false; ; retry = true) {
    const answer = await attempt(retry).catch(() => undefined);
    if (answer && answer.status !== 503 && answer.status !== 502 && !again(answer)) return answer;
    if (Date.now() > deadline) throw new Error(`${label}: still ${answer?.status ?? 'unanswered'} after ${PATIENCE_MS} ms`);
    await sleep(100);
  }
}

type SentPayment = Awaited<ReturnType<ShopifySimulator['sendPaymentSession']>>;

/**
 * Shopify sends a payment session (again, with the same id, until it is taken), the buyer opens the
 * pay page (following its refresh while another request holds the checkout), pays on Flex and comes
 * back. `first` is an attempt already made.
 */
export async function patientPayment(shopify: ShopifySimulator, shopDomain: string, amount: string, first?: SentPayment) {
  let sent = first;
  const created = await untilAnswered(async (retry) => {
    sent = retry || !sent ? await shopify.sendPaymentSession(shopDomain, { amount, ...(sent ? { id: sent.session.id } : {}) }) : sent;
    return sent;
  }, `payment session ${amount}`);
  if (created.status !== 201) throw new Error(`payment session ${amount}: ${created.status} ${JSON.stringify(created.body)}`);
  const payUrl = (created.body as { redirect_url: string }).redirect_url;
  const toFlex = await untilAnswered(() => visit(payUrl), 'pay page', (answer) => answer.status === 200 && answer.body.includes('http-equiv="refresh"'));
  if (toFlex.status !== 303 || !toFlex.location) throw new Error(`pay page: ${toFlex.status}`);
  const paid = await payOnFlexPage(toFlex.location, 'hsa_fsa');
  if (paid.status !== 303 || !paid.location) throw new Error(`Flex page: ${paid.status}`);
  const back = await untilAnswered(() => visit(paid.location!), 'return from Flex');
  if (back.status !== 200 && back.status !== 303) throw new Error(`return from Flex: ${back.status}`);
  return { session: created.session, checkoutId: new URL(toFlex.location).pathname.split('/').pop()! };
}

/** Shopify sends a refund session until the app takes it (the same id each time). */
export async function patientRefund(shopify: ShopifySimulator, shopDomain: string, paymentId: string, amount: string) {
  let sent: Awaited<ReturnType<ShopifySimulator['sendRefundSession']>> | undefined;
  const answered = await untilAnswered(async () => {
    sent = await shopify.sendRefundSession(shopDomain, { paymentId, amount, ...(sent ? { id: sent.session.id } : {}) });
    return sent;
  }, `refund ${amount}`);
  if (answered.status !== 201) throw new Error(`refund ${amount}: ${answered.status} ${JSON.stringify(answered.body)}`);
  return answered.session;
}
