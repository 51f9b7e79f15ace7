// Shared set-up of the Shopify simulator tests: a tiny Express "app" that receives session
// requests, webhooks and pixel posts, a simulator configured for it, and GraphQL clients for both
// APIs. Each test file calls useShopifySimulator() once at top level.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiVersion, LogSeverity, shopifyApi, type Shopify } from '@shopify/shopify-api';
import express, { type Request, type Response } from 'express';
import { ShopifySimulator, type ShopifySimulatorOptions } from '../../../sandbox/shopify';

export const API_KEY = 'test-client-id';
export const API_SECRET = 'test-client-secret';

/** Scopes a cart/catalog/orders app requests. */
export const COMMERCE_SCOPES = 'read_products,write_products,read_orders,write_orders,write_pixels,read_pixels,read_customer_events';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  raw: string;
}

/** The payments app stand-in: records what arrives, answers what the test says. */
export class TinyApp {
  received: Received[] = [];
  sessionAnswer: (req: Request, res: Response) => void = (req, res) => {
    res.status(200).json({ redirect_url: `https://flex.example/pay/${req.body.id}` });
  };
  followUpAnswer: (req: Request, res: Response) => void = (_req, res) => {
    res.status(201).json({});
  };
  webhookAnswer: (req: Request, res: Response) => void = (_req, res) => {
    res.status(200).end();
  };
  /** The pixel endpoint: CORS for any origin, like an endpoint a strict pixel can read. */
  pixelAnswer: (req: Request, res: Response) => void = (_req, res) => {
    res.set('Access-Control-Allow-Origin', '*').status(204).end();
  };
  server!: http.Server;
  url = '';
  readonly express = express();

  constructor() {
    const record = (req: Request, raw: string) => {
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // keep the text
      }
      this.received.push({ path: req.path, headers: req.headers, body, raw });
      req.body = body;
    };
    const text = express.text({ type: () => true });
    this.express.post('/payments/sessions', text, (req, res) => {
      record(req, req.body as string);
      this.sessionAnswer(req, res);
    });
    this.express.post(['/payments/refunds', '/payments/captures', '/payments/voids'], text, (req, res) => {
      record(req, req.body as string);
      this.followUpAnswer(req, res);
    });
    this.express.post('/webhooks/shopify/*topic', text, (req, res) => {
      record(req, req.body as string);
      this.webhookAnswer(req, res);
    });
    this.express.options('/pixel', (req, res) => {
      record(req, '');
      res.set({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'content-type' }).status(204).end();
    });
    this.express.post('/pixel', text, (req, res) => {
      record(req, req.body as string);
      this.pixelAnswer(req, res);
    });
  }

  async start(): Promise<void> {
    this.server = http.createServer(this.express);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  last(pathPrefix: string): Received {
    const found = this.received.filter((r) => r.path.startsWith(pathPrefix)).at(-1);
    if (!found) throw new Error(`nothing received on ${pathPrefix}`);
    return found;
  }

  all(pathPrefix: string): Received[] {
    return this.received.filter((r) => r.path.startsWith(pathPrefix));
  }
}

export const PAYMENT_FIELDS = `
  paymentSession {
    id
    state {
      __typename
      ... on PaymentSessionStateResolved { code }
      ... on PaymentSessionStateRejected { code reason merchantMessage }
      ... on PaymentSessionStatePending { code pendingReason: reason }
      ... on PaymentSessionStateRedirecting { code }
    }
    nextAction { action context { ... on PaymentSessionActionsRedirect { redirectUrl } } }
    authorizationExpiresAt
    pendingExpiresAt
  }`;

export const RESOLVE = `mutation Resolve($id: ID!, $authorizationExpiresAt: DateTime) {
  paymentSessionResolve(id: $id, authorizationExpiresAt: $authorizationExpiresAt) { ${PAYMENT_FIELDS} userErrors { field message } } }`;
export const REJECT = `mutation Reject($id: ID!, $reason: PaymentSessionRejectionReasonInput!) {
  paymentSessionReject(id: $id, reason: $reason) { ${PAYMENT_FIELDS} userErrors { field message } } }`;
export const PENDING = `mutation Pending($id: ID!, $pendingExpiresAt: DateTime!, $reason: PaymentSessionStatePendingReason!) {
  paymentSessionPending(id: $id, pendingExpiresAt: $pendingExpiresAt, reason: $reason) { ${PAYMENT_FIELDS} userErrors { field message code } } }`;
export const REFUND_RESOLVE = `mutation($id: ID!) { refundSessionResolve(id: $id) {
  refundSession { id state { ... on RefundSessionStateResolved { code } ... on RefundSessionStateRejected { code reason merchantMessage } } }
  userErrors { field message code } } }`;
export const REFUND_REJECT = `mutation($id: ID!, $reason: RefundSessionRejectionReasonInput!) { refundSessionReject(id: $id, reason: $reason) {
  refundSession { id state { ... on RefundSessionStateResolved { code } ... on RefundSessionStateRejected { code reason merchantMessage } } }
  userErrors { field message code } } }`;
export const CAPTURE_REJECT = `mutation($id: ID!, $reason: CaptureSessionRejectionReasonInput!) { captureSessionReject(id: $id, reason: $reason) {
  captureSession { id state { ... on CaptureSessionStateRejected { code reason merchantMessage } } } userErrors { field message code } } }`;
export const VOID_RESOLVE = `mutation($id: ID!) { voidSessionResolve(id: $id) {
  voidSession { id state { ... on VoidSessionStateResolved { code } } } userErrors { field message code } } }`;


export interface GqlAnswer {
  status: number;
  headers: Headers;
  body: any;
}

async function post(url: string, token: string | undefined, query: string, variables?: Record<string, unknown>, signal?: AbortSignal): Promise<GqlAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { 'X-Shopify-Access-Token': token } : {}) },
    body: JSON.stringify({ query, variables }),
    signal,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body };
}

/** @shopify/shopify-api configured as the app under test would be. */
export function libraryFor(appUrl: string): Shopify {
  return shopifyApi({
    apiKey: API_KEY,
    apiSecretKey: API_SECRET,
    scopes: ['read_orders'],
    hostName: new URL(appUrl).host,
    hostScheme: 'http',
    apiVersion: ApiVersion.October26,
    isEmbeddedApp: false,
    logger: { level: LogSeverity.Error, log: async () => {} },
  });
}

export function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString();
}

export interface SimulatorEnv {
  shopify: ShopifySimulator;
  app: TinyApp;
  shop: { domain: string; accessToken: string };
  /** Payments Apps GraphQL. */
  gql(token: string | undefined, query: string, variables?: Record<string, unknown>, options?: { version?: string; signal?: AbortSignal }): Promise<GqlAnswer>;
  /** Admin GraphQL. */
  admin(token: string | undefined, query: string, variables?: Record<string, unknown>, options?: { version?: string }): Promise<GqlAnswer>;
}

/**
 * Starts the app stand-in and a simulator before the file's tests (simulator first, then configured,
 * the usual order in integration tests), with demo.myshopify.com installed (`scopes` optional), and
 * resets faults before each test.
 */
export function useShopifySimulator(options: { simulator?: ShopifySimulatorOptions; scopes?: string; webhookTopics?: string[] | '*' } = {}): SimulatorEnv {
  const env = {
    gql: (token, query, variables, { version = '2026-10', signal } = {}) =>
      post(`${env.shopify.url}/payments_apps/api/${version}/graphql.json`, token, query, variables, signal),
    admin: (token, query, variables, { version = '2026-10' } = {}) => post(`${env.shopify.url}/admin/api/${version}/graphql.json`, token, query, variables),
  } as SimulatorEnv;
  beforeAll(async () => {
    env.app = new TinyApp();
    await env.app.start();
    env.shopify = new ShopifySimulator({ port: 0, apiVersion: '2026-10', ...options.simulator });
    await env.shopify.start();
    env.shopify.configureApp({
      url: env.app.url,
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      name: 'Flex HSA/FSA',
      ...(options.webhookTopics ? { webhookTopics: options.webhookTopics } : {}),
    });
    env.shop = env.shopify.createShop('demo.myshopify.com', { scopes: options.scopes });
  });
  afterAll(async () => {
    await env.shopify.stop();
    await env.app.stop();
  });
  beforeEach(() => {
    env.shopify.faults.reset();
  });
  return env;
}
