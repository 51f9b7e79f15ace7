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

const sessionState = (type: 'RefundSession' | 'CaptureSession' | 'VoidSession') => `
  id
  state {
    __typename
    ... on ${type}StateResolved { code }
    ... on ${type}StateRejected { code reason merchantMessage }
  }
`;

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
  refundSessionResolve: `mutation RefundSessionResolve($id: ID!) {
    refundSessionResolve(id: $id) {
      refundSession { ${sessionState('RefundSession')} }
      userErrors { field message code }
    }
  }`,
  refundSessionReject: `mutation RefundSessionReject($id: ID!, $reason: RefundSessionRejectionReasonInput!) {
    refundSessionReject(id: $id, reason: $reason) {
      refundSession { ${sessionState('RefundSession')} }
      userErrors { field message code }
    }
  }`,
  captureSessionResolve: `mutation CaptureSessionResolve($id: ID!) {
    captureSessionResolve(id: $id) {
      captureSession { ${sessionState('CaptureSession')} }
      userErrors { field message code }
    }
  }`,
  captureSessionReject: `mutation CaptureSessionReject($id: ID!, $reason: CaptureSessionRejectionReasonInput!) {
    captureSessionReject(id: $id, reason: $reason) {
      captureSession { ${sessionState('CaptureSession')} }
      userErrors { field message code }
    }
  }`,
  voidSessionResolve: `mutation VoidSessionResolve($id: ID!) {
    voidSessionResolve(id: $id) {
      voidSession { ${sessionState('VoidSession')} }
      userErrors { field message code }
    }
  }`,
  voidSessionReject: `mutation VoidSessionReject($id: ID!, $reason: VoidSessionRejectionReasonInput!) {
    voidSessionReject(id: $id, reason: $reason) {
      voidSession { ${sessionState('VoidSession')} }
      userErrors { field message code }
    }
  }`,
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
