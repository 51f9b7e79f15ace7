import type { Express } from 'express';
import type { SandboxHost } from '../lib/sandbox-client';
import type { AppEndpoint } from '../buyers';
import type { BenchVariant } from '../lib/bench-catalog';

/**
 * A request scenario: one kind of request the benchmark sends to the app and to the floor, over and
 * over, each request new. Each scenario brings its own floor: the least any server can do for that
 * request (see floor.ts), so the report can say what the app adds.
 *
 * Two kinds:
 * - `endless`: every request is made up on the spot (Shopify's session request);
 * - `prepared`: a request needs something made first (the buyer's `GET /pay/{id}` needs a session
 *   that exists and whose pay page was never opened). Before each run the runner asks for as many as
 *   the run will use, made without being measured, and the run sends exactly those.
 *
 * To add one: write a module next to payment-session.ts that exports a `RequestScenario`, and list
 * it in index.ts. The runner warms it up and measures it at every Flex latency and concurrency, floor
 * and apps taking turns; the report gives it a table of its own.
 */
export type RequestScenario = EndlessScenario | PreparedScenario;

interface ScenarioBase {
  /** Its key in the results (`load.runs[].scenario`, `load.cells[].scenario`) and for `--only`. */
  key: string;
  /** The heading of its table in the report. */
  title: string;
  /** The answer that counts as done (201 for the session request, 303 for the pay page); anything else is an error. */
  expectedStatus: number;
  /** The floor's side, run in the floor process: sets up what it needs once, then adds its route. */
  installFloor(app: Express, floor: FloorContext): Promise<void>;
}

export interface EndlessScenario extends ScenarioBase {
  kind: 'endless';
  /** The next request: called once per request. */
  nextRequest(target: ScenarioTarget): ScenarioRequest;
}

export interface PreparedScenario extends ScenarioBase {
  kind: 'prepared';
  /** `count` requests, each for something made just now (not measured); fewer if some could not be made. */
  prepare(target: ScenarioTarget, count: number): Promise<{ requests: ScenarioRequest[]; errors: string[] }>;
}

export interface ScenarioTarget {
  /** Where the server is reached: public URL, session listener, the proxy's secret. */
  endpoint: AppEndpoint;
  /** The shop the server under load knows. */
  shop: string;
  /** Decimal string, e.g. "49.99". */
  amount: string;
  /** The Shopify simulator's base URL (Shopify's checkout, for cancel URLs). */
  shopifyUrl: string;
  /** The sandboxes, for scenarios whose requests need them (sessions made by the Shopify simulator). */
  host: SandboxHost;
}

export interface ScenarioRequest {
  /** Absolute: a scenario chooses the listener (Shopify's session requests go to the private one). */
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

/** A payment session as the floor keeps it for its pay page: nothing validated, only what Flex is sent. */
export interface FloorSession {
  id: string;
  gid: string;
  group: string;
  shop: string;
  /** The buyer's details Flex pre-fills (`defaults`). */
  defaults: { email?: string; first_name?: string; last_name?: string; phone?: string };
  /** The checkout token in the session's `cancel_url` (the cart's key), if any. */
  cartToken: string | null;
}

/** A line of a cart the floor was told about by Shopify's checkouts/create webhook. */
export interface FloorCartLine {
  variantId: string;
  quantity: number;
}

/**
 * The floor's keeping of a payment between its steps (bench/floor-store.ts): in memory for the floor,
 * in PostgreSQL for the durable floor, where each call is one statement, committed before it returns.
 */
export interface FloorStore {
  /** The cart of a `checkouts/create` webhook, under each of its tokens. */
  keepCart(tokens: string[], lines: FloorCartLine[]): Promise<void>;
  keepSession(session: FloorSession): Promise<void>;
  /** The session and its cart for the pay page, once (undefined: unknown, or taken already); durable: the cart recorded with it. */
  takeSession(id: string): Promise<{ session: FloorSession; cart: FloorCartLine[] | undefined } | undefined>;
  checkoutMade(id: string, flexCheckoutSessionId: string): Promise<void>;
  /** Before Shopify is told: the payment recorded as paid; false when it was resolved already (nothing to do). */
  paid(id: string): Promise<boolean>;
  resolved(id: string): Promise<void>;
  close(): Promise<void>;
}

export interface FloorContext {
  /** POST to the Flex API with the floor's key and an Idempotency-Key; throws on a non-2xx answer. */
  flexPost(path: string, body: unknown, idempotencyKey: string): Promise<Record<string, any>>;
  /** The floor's own public URL (pay page, success and cancel URLs point back to it). */
  appUrl: string;
  amountMinor: number;
  /** What the floor keeps between a payment's steps: memory only, or the durable floor's PostgreSQL (floor-store.ts). */
  store: FloorStore;
  /** The shop's bench catalog (bench/lib/bench-catalog.ts): the floor makes a Flex price per variant up front. */
  catalog: BenchVariant[];
}
