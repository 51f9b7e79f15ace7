import type { Express } from 'express';

/**
 * A request scenario: one kind of request the benchmark sends to the app and to the floor, over and
 * over, each request new. Each scenario brings its own floor: the least any server can do for that
 * request (see floor.ts), so the report can say what the app adds.
 *
 * To add one (say, the buyer's `GET /pay/{id}`): write a module next to payment-session.ts that
 * exports a `RequestScenario`, and list it in index.ts. The runner warms it up and measures it at every
 * Flex latency and concurrency, floor and apps taking turns; the report gives it a table of its own.
 */
export interface RequestScenario {
  /** Its key in the results (`load.runs[].scenario`, `load.cells[].scenario`). */
  key: string;
  /** The heading of its table in the report. */
  title: string;
  /** The next request: called once per request. */
  nextRequest(target: ScenarioTarget): ScenarioRequest;
  /** The floor's side, run in the floor process: sets up what it needs once, then adds its route. */
  installFloor(app: Express, floor: FloorContext): Promise<void>;
}

export interface ScenarioTarget {
  /** The shop the server under load knows (the floor ignores it). */
  shop: string;
  /** Decimal string, e.g. "49.99". */
  amount: string;
  /** The Shopify simulator's base URL (Shopify's checkout, for cancel URLs). */
  shopifyUrl: string;
}

export interface ScenarioRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface FloorContext {
  /** POST to the Flex API with the floor's key and an Idempotency-Key; throws on a non-2xx answer. */
  flexPost(path: string, body: unknown, idempotencyKey: string): Promise<Record<string, any>>;
  /** The floor's own public URL (success and cancel URLs point back to it). */
  appUrl: string;
  amountMinor: number;
}
