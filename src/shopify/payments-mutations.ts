/**
 * GraphQL documents for the Payments Apps API. Each finalizing mutation asks for the session's
 * state, so a user error can be told apart from "already finalized the same way".
 */

const PAYMENT_SESSION_FIELDS = `
  id
  state {
    __typename
    ... on PaymentSessionStateResolved { code }
    ... on PaymentSessionStateRejected { code reason merchantMessage }
    ... on PaymentSessionStatePending { code pendingReason: reason }
  }
  nextAction {
    action
    context { ... on PaymentSessionActionsRedirect { redirectUrl } }
  }
`;

/** Resolve and reject of refund, capture and void sessions differ only in their type names. */
function operationMutations<K extends 'refund' | 'capture' | 'void'>(kind: K) {
  const type = `${kind.charAt(0).toUpperCase()}${kind.slice(1)}Session`;
  const fields = `${kind}Session {
        id
        state {
          __typename
          ... on ${type}StateResolved { code }
          ... on ${type}StateRejected { code reason merchantMessage }
        }
      }
      userErrors { field message code }`;
  return {
    [`${kind}SessionResolve`]: `mutation ${type}Resolve($id: ID!) {
    ${kind}SessionResolve(id: $id) {
      ${fields}
    }
  }`,
    [`${kind}SessionReject`]: `mutation ${type}Reject($id: ID!, $reason: ${type}RejectionReasonInput!) {
    ${kind}SessionReject(id: $id, reason: $reason) {
      ${fields}
    }
  }`,
  } as Record<`${K}SessionResolve` | `${K}SessionReject`, string>;
}

export const PAYMENTS_MUTATIONS = {
  paymentSessionResolve: `mutation PaymentSessionResolve($id: ID!, $authorizationExpiresAt: DateTime) {
    paymentSessionResolve(id: $id, authorizationExpiresAt: $authorizationExpiresAt) {
      paymentSession { ${PAYMENT_SESSION_FIELDS} }
      userErrors { field message }
    }
  }`,
  paymentSessionReject: `mutation PaymentSessionReject($id: ID!, $reason: PaymentSessionRejectionReasonInput!) {
    paymentSessionReject(id: $id, reason: $reason) {
      paymentSession { ${PAYMENT_SESSION_FIELDS} }
      userErrors { field message }
    }
  }`,
  paymentSessionPending: `mutation PaymentSessionPending($id: ID!, $pendingExpiresAt: DateTime!, $reason: PaymentSessionStatePendingReason!) {
    paymentSessionPending(id: $id, pendingExpiresAt: $pendingExpiresAt, reason: $reason) {
      paymentSession { ${PAYMENT_SESSION_FIELDS} }
      userErrors { field message code }
    }
  }`,
  ...operationMutations('refund'),
  ...operationMutations('capture'),
  ...operationMutations('void'),
  paymentsAppConfigure: `mutation PaymentsAppConfigure($ready: Boolean!, $externalHandle: String) {
    paymentsAppConfigure(ready: $ready, externalHandle: $externalHandle) {
      paymentsAppConfiguration { externalHandle ready }
      userErrors { field message }
    }
  }`,
} as const;

export type PaymentsMutationName = keyof typeof PAYMENTS_MUTATIONS;

/** The object each mutation returns next to userErrors. */
export const MUTATION_SUBJECT_FIELD: Record<PaymentsMutationName, string> = {
  paymentSessionResolve: 'paymentSession',
  paymentSessionReject: 'paymentSession',
  paymentSessionPending: 'paymentSession',
  refundSessionResolve: 'refundSession',
  refundSessionReject: 'refundSession',
  captureSessionResolve: 'captureSession',
  captureSessionReject: 'captureSession',
  voidSessionResolve: 'voidSession',
  voidSessionReject: 'voidSession',
  paymentsAppConfigure: 'paymentsAppConfiguration',
};

/** The state code a mutation leaves its session in, to recognise "already done the same way". */
export const MUTATION_TARGET_STATE: Partial<Record<PaymentsMutationName, string>> = {
  paymentSessionResolve: 'RESOLVED',
  paymentSessionReject: 'REJECTED',
  paymentSessionPending: 'PENDING',
  refundSessionResolve: 'RESOLVED',
  refundSessionReject: 'REJECTED',
  captureSessionResolve: 'RESOLVED',
  captureSessionReject: 'REJECTED',
  voidSessionResolve: 'RESOLVED',
  voidSessionReject: 'REJECTED',
};
