// POST /payments_apps/api/:version/graphql.json — authentication, faults, validation against the
// version's schema, execution, and the record of every call.
import type { Request, Response } from 'express';
import {
  execute,
  GraphQLError,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { RATE_LIMITED_BODY, SERVER_ERROR_BODIES, THROTTLED_BODY, type FaultStatus, type Faults } from './faults';
import { schemaForVersion, versionFeatures, type VersionFeatures } from './graphql-schema';
import type {
  FollowUpKind,
  FollowUpSessionRecord,
  MutationOutcome,
  PaymentSessionRecord,
  PaymentsState,
  RuleViolation,
} from './payments-state';
import type { ShopRegistry } from './shops';

export interface UserErrorView {
  field: string[] | null;
  message: string;
  code?: string;
}

/** One GraphQL call as the simulator saw it. */
export interface MutationRecord {
  at: string;
  /** The token's shop; null when the token was not accepted. */
  shop: string | null;
  version: string;
  /** The (first) root field, e.g. `paymentSessionResolve`; null when the document could not be parsed. */
  name: string | null;
  /** Every root field of the document. */
  fields: string[];
  /** Arguments of the first root field after coercion (inline literals included), null if not executed. */
  args: Record<string, unknown> | null;
  query: string | null;
  variables: Record<string, unknown> | null;
  /** null while a 'timeout' fault holds the request. */
  httpStatus: number | null;
  response: unknown;
  userErrors: UserErrorView[];
  /** True for anything but a 200 without top-level errors. */
  failed: boolean;
  /** The injected fault, if any. */
  fault?: FaultStatus;
}

export interface GraphqlApiContext {
  shops: ShopRegistry;
  state: PaymentsState;
  faults: Faults;
  mutations: MutationRecord[];
  supportedVersions(): readonly string[];
  publicUrl(): string;
  now(): Date;
  /** Requests held by a 'timeout' fault, released by stop(). */
  heldResponses: Set<Response>;
  onRecord(record: MutationRecord): void;
}

interface CallRecord {
  field: string;
  args: Record<string, unknown>;
  userErrors: UserErrorView[];
}

interface ResolverContext {
  shop: string;
  features: VersionFeatures;
  calls: CallRecord[];
}

export const INVALID_TOKEN_BODY = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };

const SUCCESS_COST = {
  requestedQueryCost: 10,
  actualQueryCost: 10,
  throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 990, restoreRate: 50 },
};

export function graphqlHandler(api: GraphqlApiContext) {
  return (req: Request, res: Response): void => {
    const version = String(req.params.version);
    const token = req.get('X-Shopify-Access-Token');
    const tokenRecord = api.shops.activeToken(token);
    const record: MutationRecord = {
      at: api.now().toISOString(),
      shop: tokenRecord?.shop ?? null,
      version,
      name: null,
      fields: [],
      args: null,
      query: null,
      variables: null,
      httpStatus: null,
      response: null,
      userErrors: [],
      failed: true,
    };
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.httpStatus = status;
      record.response = body;
      api.mutations.push(record);
      api.onRecord(record);
      res.status(status).set(headers).json(body);
    };

    if (!api.supportedVersions().includes(version)) return reply(404, { errors: 'Not Found' });

    // Read the document before authenticating so that even refused calls are recorded by name.
    const request = readGraphqlRequest(req.body, req.get('Content-Type'));
    let document: DocumentNode | undefined;
    let syntaxError: GraphQLError | undefined;
    if (!('error' in request)) {
      record.query = request.query;
      record.variables = request.variables;
      try {
        document = parse(request.query);
        record.fields = rootFieldNames(document, request.operationName);
        record.name = record.fields[0] ?? null;
      } catch (error) {
        syntaxError = toGraphqlError(error);
      }
    }

    // On Shopify the shop is the hostname; here the app may say it with ?shop=. A token used for
    // another shop's URL is refused like any unknown token.
    const shopInUrl = typeof req.query.shop === 'string' ? req.query.shop.toLowerCase() : undefined;
    if (!tokenRecord || (shopInUrl && shopInUrl !== tokenRecord.shop)) {
      record.shop = null;
      return reply(401, INVALID_TOKEN_BODY);
    }
    if ('error' in request) return reply(request.status, request.body);
    if (!document) return reply(200, { errors: [syntaxError!.toJSON()] });

    const fault = api.faults.take(record.fields);
    if (fault) {
      record.fault = fault.status;
      if (fault.status === 'timeout') {
        // Never answered: the client's own timeout has to fire. stop() releases it.
        api.mutations.push(record);
        api.onRecord(record);
        api.heldResponses.add(res);
        res.on('close', () => api.heldResponses.delete(res));
        return;
      }
      if (fault.status === 'throttled') return reply(200, THROTTLED_BODY);
      if (fault.status === 429) {
        return reply(429, RATE_LIMITED_BODY, { 'Retry-After': (fault.retryAfterSeconds ?? 2).toFixed(1) });
      }
      return reply(fault.status, SERVER_ERROR_BODIES[fault.status]);
    }

    const schema = schemaForVersion(version);
    const validationErrors = validate(schema, document);
    if (validationErrors.length > 0) return reply(200, { errors: validationErrors.map((e) => e.toJSON()) });

    const context: ResolverContext = { shop: tokenRecord.shop, features: versionFeatures(version), calls: [] };
    const result = execute({
      schema,
      document,
      rootValue: rootResolvers(api),
      contextValue: context,
      variableValues: request.variables ?? undefined,
      operationName: request.operationName ?? undefined,
    }) as ExecutionResult;
    record.args = context.calls[0]?.args ?? null;
    record.userErrors = context.calls.flatMap((c) => c.userErrors);
    const body: Record<string, unknown> = {};
    if (result.errors?.length) body.errors = result.errors.map((e) => e.toJSON());
    if (result.data !== undefined) body.data = result.data;
    body.extensions = { cost: SUCCESS_COST };
    record.failed = Boolean(result.errors?.length);
    reply(200, body);
  };
}

export type GraphqlRequest =
  | { query: string; variables: Record<string, unknown> | null; operationName: string | null }
  | { error: true; status: number; body: unknown };

// The route reads the body as text so that even malformed calls are recorded.
export function readGraphqlRequest(raw: unknown, contentType: string | undefined): GraphqlRequest {
  const text = typeof raw === 'string' ? raw : '';
  if (contentType?.includes('application/graphql')) {
    return text.trim() ? { query: text, variables: null, operationName: null } : noQuery();
  }
  let json: unknown;
  try {
    json = text.trim() ? JSON.parse(text) : {};
  } catch {
    return { error: true, status: 400, body: { errors: 'Bad Request: the request body is not valid JSON' } };
  }
  const body = (json ?? {}) as { query?: unknown; variables?: unknown; operationName?: unknown };
  if (typeof body.query !== 'string' || !body.query.trim()) return noQuery();
  let variables = body.variables;
  if (typeof variables === 'string') {
    try {
      variables = JSON.parse(variables);
    } catch {
      variables = null;
    }
  }
  return {
    query: body.query,
    variables: variables && typeof variables === 'object' ? (variables as Record<string, unknown>) : null,
    operationName: typeof body.operationName === 'string' ? body.operationName : null,
  };
}

function noQuery(): GraphqlRequest {
  return { error: true, status: 200, body: { errors: [{ message: 'No query string was present' }] } };
}

export function toGraphqlError(error: unknown): GraphQLError {
  return error instanceof GraphQLError ? error : new GraphQLError(String(error));
}

export function rootFieldNames(document: DocumentNode, operationName: string | null): string[] {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  if (!operation) return [];
  const names: string[] = [];
  const walk = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) names.push(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet);
    }
  };
  walk(operation.selectionSet);
  return names;
}

/** Where Shopify would send the buyer next, on the simulator's own checkout pages. */
export function checkoutUrls(publicUrl: string, session: { id: string; group: string }) {
  const base = `${publicUrl}/checkouts/${encodeURIComponent(session.group)}`;
  const id = encodeURIComponent(session.id);
  return {
    thankYou: `${base}/thank-you?payment_session=${id}`,
    processing: `${base}/processing?payment_session=${id}`,
    error: (code: string) => `${base}?payment_error=${encodeURIComponent(code)}`,
    cancel: `${base}/cancel`,
  };
}

function rootResolvers(api: GraphqlApiContext) {
  const FOLLOW_UP_TYPES: Record<FollowUpKind, string> = { refund: 'Refund', capture: 'Capture', void: 'Void' };

  const paymentView = (session: PaymentSessionRecord | null, ctx: ResolverContext) => {
    if (!session) return null;
    const urls = checkoutUrls(api.publicUrl(), session);
    let state: Record<string, unknown>;
    let redirectUrl: string | null = null;
    switch (session.status) {
      case 'resolved':
        state = { __typename: 'PaymentSessionStateResolved', code: 'RESOLVED' };
        redirectUrl = urls.thankYou;
        break;
      case 'rejected': {
        // A reason recorded through a newer version must still serialize in an older one.
        const code = session.rejection!.code;
        const reason = ctx.features.rejectedReasons.includes(code) ? code : 'PROCESSING_ERROR';
        state = {
          __typename: 'PaymentSessionStateRejected',
          code: 'REJECTED',
          reason,
          merchantMessage: session.rejection!.merchantMessage,
        };
        redirectUrl = urls.error(code);
        break;
      }
      case 'pending': {
        const reason = session.pending!.reason;
        state = {
          __typename: 'PaymentSessionStatePending',
          code: 'PENDING',
          reason: ctx.features.pendingReasons.includes(reason) ? reason : 'PARTNER_ACTION_REQUIRED',
        };
        redirectUrl = urls.processing;
        break;
      }
      default:
        state = { __typename: 'PaymentSessionStateRedirecting', code: 'REDIRECTING' };
    }
    return {
      id: session.gid,
      state,
      nextAction: redirectUrl
        ? { action: 'REDIRECT', context: { __typename: 'PaymentSessionActionsRedirect', redirectUrl } }
        : null,
      authorizationExpiresAt: session.authorizationExpiresAt,
      pendingExpiresAt: session.pending?.expiresAt ?? null,
    };
  };

  const followUpView = (kind: FollowUpKind, session: FollowUpSessionRecord | null) => {
    if (!session) return null;
    const typeName = FOLLOW_UP_TYPES[kind];
    const state =
      session.status === 'rejected'
        ? {
            __typename: `${typeName}SessionStateRejected`,
            code: 'REJECTED',
            reason: session.rejection!.code,
            merchantMessage: session.rejection!.merchantMessage,
          }
        : { __typename: `${typeName}SessionStateResolved`, code: 'RESOLVED' };
    return { id: session.gid, state };
  };

  const userErrors = <T>(outcome: MutationOutcome<T>, codes?: Partial<Record<RuleViolation, string>>): UserErrorView[] => {
    if (!outcome.violation) return [];
    const { kind, message, field } = outcome.violation;
    const code = codes?.[kind];
    return [{ field, message, ...(code ? { code } : {}) }];
  };

  const track = (ctx: ResolverContext, field: string, args: Record<string, unknown>, errors: UserErrorView[]) => {
    ctx.calls.push({ field, args, userErrors: errors });
    return errors;
  };

  const followUpResolvers = (kind: FollowUpKind) => {
    const upper = kind.toUpperCase();
    const codes = { not_found: `${upper}_SESSION_NOT_FOUND`, invalid_state: `${upper}_SESSION_INVALID_STATE` };
    const payloadKey = `${kind}Session`;
    return {
      [`${kind}SessionResolve`]: (args: { id: string }, ctx: ResolverContext) => {
        const outcome = api.state.resolveFollowUp(kind, ctx.shop, args.id);
        return {
          [payloadKey]: followUpView(kind, outcome.session),
          userErrors: track(ctx, `${kind}SessionResolve`, args, userErrors(outcome, codes)),
        };
      },
      [`${kind}SessionReject`]: (
        args: { id: string; reason: { code: string; merchantMessage?: string | null } },
        ctx: ResolverContext,
      ) => {
        const outcome = api.state.rejectFollowUp(kind, ctx.shop, args.id, args.reason);
        return {
          [payloadKey]: followUpView(kind, outcome.session),
          userErrors: track(ctx, `${kind}SessionReject`, args, userErrors(outcome, codes)),
        };
      },
    };
  };

  return {
    publicApiVersions: (_args: unknown, ctx: ResolverContext) => {
      track(ctx, 'publicApiVersions', {}, []);
      const versions = api.supportedVersions();
      const latest = versions.filter((v) => v !== 'unstable').at(-1);
      return versions.map((handle) => ({
        handle,
        displayName: handle === latest ? `${handle} (Latest)` : handle,
        supported: true,
      }));
    },

    paymentSessionResolve: (
      args: { id: string; authorizationExpiresAt?: string | null; networkTransactionId?: string | null },
      ctx: ResolverContext,
    ) => {
      const outcome = api.state.resolvePayment(ctx.shop, args.id, args);
      return {
        paymentSession: paymentView(outcome.session, ctx),
        userErrors: track(ctx, 'paymentSessionResolve', args, userErrors(outcome)),
      };
    },

    paymentSessionReject: (
      args: { id: string; reason: { code: string; merchantMessage?: string | null; source?: string | null } },
      ctx: ResolverContext,
    ) => {
      const outcome = api.state.rejectPayment(ctx.shop, args.id, args.reason);
      return {
        paymentSession: paymentView(outcome.session, ctx),
        userErrors: track(ctx, 'paymentSessionReject', args, userErrors(outcome)),
      };
    },

    paymentSessionPending: (
      args: { id: string; pendingExpiresAt: string; reason: string },
      ctx: ResolverContext,
    ) => {
      const outcome = api.state.pendPayment(ctx.shop, args.id, args);
      return {
        paymentSession: paymentView(outcome.session, ctx),
        userErrors: track(
          ctx,
          'paymentSessionPending',
          args,
          userErrors(outcome, {
            not_found: 'NOT_FOUND',
            invalid_state: 'PENDING_INVALID_STATE',
            expired_pending_expires_at: 'EXPIRED_PENDING_EXPIRES_AT',
            out_of_range_pending_expires_at: 'OUT_OF_RANGE_PENDING_EXPIRES_AT',
          }),
        ),
      };
    },

    // Every session here is offsite, where Shopify itself redirects the buyer.
    paymentSessionRedirect: (args: { id: string; redirectUrl: string }, ctx: ResolverContext) => {
      const session = api.state.payment(ctx.shop, args.id) ?? null;
      const error: UserErrorView = session
        ? { field: ['id'], message: 'Redirect is not supported for offsite payment sessions', code: 'REDIRECT_NOT_SUPPORTED_FOR_OFFSITE' }
        : { field: ['id'], message: 'The payment session could not be found', code: 'PAYMENT_SESSION_NOT_FOUND' };
      return { paymentSession: paymentView(session, ctx), userErrors: track(ctx, 'paymentSessionRedirect', args, [error]) };
    },

    ...followUpResolvers('refund'),
    ...followUpResolvers('capture'),
    ...followUpResolvers('void'),

    paymentsAppConfigure: (args: { ready: boolean; externalHandle?: string | null }, ctx: ResolverContext) => {
      const previous = api.shops.get(ctx.shop)?.configuration;
      // An omitted externalHandle keeps the current one; an explicit null clears it.
      const externalHandle = args.externalHandle === undefined ? (previous?.externalHandle ?? null) : args.externalHandle;
      const configuration = api.shops.setConfiguration(ctx.shop, { ready: args.ready, externalHandle });
      track(ctx, 'paymentsAppConfigure', args, []);
      return {
        paymentsAppConfiguration: { ready: configuration.ready, externalHandle: configuration.externalHandle },
        userErrors: [],
      };
    },
  };
}
