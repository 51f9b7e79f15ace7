import { Pool } from 'pg';
import type { FloorCartLine, FloorSession, FloorStore } from './scenarios/scenario';

/**
 * Where the floor keeps what a payment needs between its steps.
 *
 * - MemoryFloorStore, the floor proper: nothing persisted, so the "work a payment cannot
 *   avoid" (bench/floor.ts).
 * - PostgresFloorStore, the durable floor (`--targets durable-floor`): the least a server can write
 *   for the same payment to survive a restart and be safe to retry, each write a statement of its own,
 *   committed before the step acts on it. It measures what durability alone costs on this machine,
 *   without anything else the app does (validation, logging, authentication, metrics, the outbox, the
 *   timeline, leases, secrets, several shops). Six statements per payment, six commits:
 *   1. `checkouts/create`: the cart kept under its tokens;
 *   2. the session request: the session inserted, once (a retried request inserts nothing);
 *   3. the pay page, before Flex is called: the session taken (once: a second opening finds it taken)
 *      with its cart read and recorded in the same statement (what a server needs so that a retry can
 *      send Flex the same lines under the same Idempotency-Key; the floor itself answers a second
 *      opening 404, as it always did);
 *   4. after Flex answered: its checkout session recorded;
 *   5. Flex's webhook, before Shopify is called: the payment recorded as paid (and nothing done when
 *      it was resolved already: a redelivery);
 *   6. after Shopify's answer: the payment recorded as resolved.
 *   The app writes the same things with more (9.1 statements per payment, 7 commits: README
 *   "Performance").
 */

/** The floor's memory: bounded maps, the oldest entries forgotten first. */
export class MemoryFloorStore implements FloorStore {
  private readonly sessions = new Map<string, FloorSession>();
  private readonly carts = new Map<string, FloorCartLine[]>();

  /** At most this many sessions (more than a pay page run prepares, ≤ 50,000), and twice as many cart keys. */
  constructor(private readonly maxSessions = 60_000) {}

  async keepCart(tokens: string[], lines: FloorCartLine[]): Promise<void> {
    for (const token of tokens) this.carts.set(token, lines);
    while (this.carts.size > 2 * this.maxSessions) this.carts.delete(this.carts.keys().next().value!);
  }

  async keepSession(session: FloorSession): Promise<void> {
    this.sessions.set(session.id, session);
    if (this.sessions.size > this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
  }

  async takeSession(id: string): Promise<{ session: FloorSession; cart: FloorCartLine[] | undefined } | undefined> {
    const session = this.sessions.get(id);
    this.sessions.delete(id);
    if (!session) return undefined;
    return { session, cart: session.cartToken ? this.carts.get(session.cartToken) : undefined };
  }

  async checkoutMade(): Promise<void> {}

  async paid(): Promise<boolean> {
    return true;
  }

  async resolved(): Promise<void> {}

  async close(): Promise<void> {}
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS floor_cart (token text PRIMARY KEY, lines jsonb NOT NULL);
  CREATE TABLE IF NOT EXISTS floor_session (
    id text PRIMARY KEY, gid text NOT NULL, grp text NOT NULL, shop text NOT NULL, defaults jsonb NOT NULL, cart_token text,
    taken_at timestamptz, lines jsonb, flex_checkout_id text, paid_at timestamptz, resolved_at timestamptz
  );`;

/** The durable floor's statements, named so that each connection parses and plans them once, as the app's are (src/db/sql.ts). */
const KEEP_CART = `INSERT INTO floor_cart (token, lines) SELECT t, $2::jsonb FROM unnest($1::text[]) AS t ON CONFLICT (token) DO UPDATE SET lines = excluded.lines`;
const KEEP_SESSION = `INSERT INTO floor_session (id, gid, grp, shop, defaults, cart_token) VALUES ($1, $2, $3, $4, $5::jsonb, $6) ON CONFLICT (id) DO NOTHING`;
const TAKE_SESSION = `UPDATE floor_session s SET taken_at = now(), lines = (SELECT c.lines FROM floor_cart c WHERE c.token = s.cart_token)
  WHERE s.id = $1 AND s.taken_at IS NULL RETURNING s.gid, s.grp, s.shop, s.defaults, s.cart_token, s.lines`;
const CHECKOUT_MADE = `UPDATE floor_session SET flex_checkout_id = $2 WHERE id = $1`;
const PAID = `UPDATE floor_session SET paid_at = coalesce(paid_at, now()) WHERE id = $1 AND resolved_at IS NULL RETURNING id`;
const RESOLVED = `UPDATE floor_session SET resolved_at = now() WHERE id = $1`;

export class PostgresFloorStore implements FloorStore {
  private constructor(private readonly pool: Pool) {}

  /** `poolSize` connections, as the app's pool (bench/context.ts POOL_SIZE); the tables made if missing. */
  static async open(url: string, poolSize: number): Promise<PostgresFloorStore> {
    const pool = new Pool({ connectionString: url, max: poolSize });
    // An idle connection PostgreSQL drops must not take the floor's process down (pg emits it on the pool).
    pool.on('error', (error) => process.stderr.write(`durable floor: idle connection lost: ${error.message}\n`));
    await pool.query(SCHEMA);
    return new PostgresFloorStore(pool);
  }

  private run(name: string, text: string, values: unknown[]) {
    return this.pool.query({ name, text, values });
  }

  async keepCart(tokens: string[], lines: FloorCartLine[]): Promise<void> {
    // One row per token: a token twice in one INSERT … ON CONFLICT DO UPDATE is refused by PostgreSQL.
    await this.run('floor_keep_cart', KEEP_CART, [[...new Set(tokens)], JSON.stringify(lines)]);
  }

  async keepSession(session: FloorSession): Promise<void> {
    await this.run('floor_keep_session', KEEP_SESSION, [session.id, session.gid, session.group, session.shop, JSON.stringify(session.defaults), session.cartToken]);
  }

  async takeSession(id: string): Promise<{ session: FloorSession; cart: FloorCartLine[] | undefined } | undefined> {
    const { rows } = await this.run('floor_take_session', TAKE_SESSION, [id]);
    const row = rows[0] as { gid: string; grp: string; shop: string; defaults: FloorSession['defaults']; cart_token: string | null; lines: FloorCartLine[] | null } | undefined;
    if (!row) return undefined;
    return { session: { id, gid: row.gid, group: row.grp, shop: row.shop, defaults: row.defaults, cartToken: row.cart_token }, cart: row.lines ?? undefined };
  }

  async checkoutMade(id: string, flexCheckoutSessionId: string): Promise<void> {
    await this.run('floor_checkout_made', CHECKOUT_MADE, [id, flexCheckoutSessionId]);
  }

  async paid(id: string): Promise<boolean> {
    return (await this.run('floor_paid', PAID, [id])).rowCount === 1;
  }

  async resolved(id: string): Promise<void> {
    await this.run('floor_resolved', RESOLVED, [id]);
  }

  private closing: Promise<void> | undefined;

  /** Once, however often it is asked (SIGTERM then SIGINT). */
  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }
}
