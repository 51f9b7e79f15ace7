import { sleep } from './sleep';

/**
 * Whether an error means the database could not be reached or the connection was lost (as opposed
 * to a query it refused): the server is down, restarting, refusing connections or unreachable, or
 * the pool could not get a connection in time. Such work is retried later and, while a request
 * waits, answered 503 (README "Database outages"). A pure function of the error's shape, so every
 * layer may ask it: `pg` and `pg-pool` errors, socket errors, PostgreSQL's SQLSTATEs, and Prisma's
 * errors with the driver adapter's cause.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  // Only the error itself and the driver adapter's cause: an error's generic `cause` is not followed,
  // since fetch's "fetch failed" has a socket error there too, and Flex or Shopify is not the database.
  return adapterCauses(error as ErrorShape).some(looksUnavailable);
}

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  kind?: unknown;
  message?: unknown;
  cause?: ErrorShape;
  meta?: { driverAdapterError?: { cause?: ErrorShape } };
}

/**
 * The error and what the driver adapter said under it: Prisma wraps it in `meta.driverAdapterError`
 * for a query, and inside an interactive transaction throws the adapter's own DriverAdapterError,
 * whose `cause` is the adapter's description (`{ kind: 'ConnectionClosed' }`; seen when PostgreSQL
 * went away in the middle of a refund's transaction).
 */
function adapterCauses(error: ErrorShape): ErrorShape[] {
  const causes = [error];
  const wrapped = error.meta?.driverAdapterError?.cause;
  if (wrapped) causes.push(wrapped);
  if (error.name === 'DriverAdapterError' && error.cause && typeof error.cause === 'object') causes.push(error.cause);
  return causes;
}

// Prisma: can't reach the server, timed out reaching it, operations timed out, server closed the connection, pool timeout.
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
// @prisma/adapter-pg's names for socket errors and "too many connections".
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
// SQLSTATE: admin shutdown, crash shutdown, cannot connect now (starting up or in recovery), too many connections.
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
// pg and pg-pool say it only in their messages.
const MESSAGES = /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect|Can't reach database server|Server has closed the connection/i;

function looksUnavailable(shape: ErrorShape): boolean {
  const code = typeof shape.code === 'string' ? shape.code : undefined;
  if (code && (PRISMA_CODES.has(code) || SOCKET_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if (typeof shape.kind === 'string' && ADAPTER_KINDS.has(shape.kind)) return true;
  return typeof shape.message === 'string' && MESSAGES.test(shape.message);
}

// SQLSTATE: serialization failure, deadlock detected, lock not available. Prisma: a write conflict or
// deadlock (P2034), and its interactive transaction expiring or not starting in time (P2028).
const CONFLICT_SQLSTATES = new Set(['40001', '40P01', '55P03']);
const CONFLICT_PRISMA_CODES = new Set(['P2034', 'P2028']);

/**
 * Whether a transaction failed for a reason that says nothing about the request (the database picked
 * it as a deadlock's victim, or it waited too long on a busy machine): it rolled back, so doing the
 * same again is safe and will likely succeed. A request that meets one is answered 503, like an
 * outage, so the client's retry is the one it would make anyway.
 */
export function isTransientDatabaseConflict(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  if (isStalePreparedStatement(error)) return true;
  return adapterCauses(error as ErrorShape).some(({ code }) => typeof code === 'string' && (CONFLICT_SQLSTATES.has(code) || CONFLICT_PRISMA_CODES.has(code)));
}

/**
 * A prepared statement whose result columns changed under it: a migration (another instance's, in a
 * rolling deploy) added a column to a table the statement reads with `*`. PostgreSQL refuses it before
 * running it (SQLSTATE 0A000), and will refuse it on that connection every time: the connection must
 * be dropped (db/sql.ts, db/transactor.ts).
 */
export function isStalePreparedStatement(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code, message, routine } = error as ErrorShape & { routine?: unknown };
  if (code !== '0A000') return false;
  // The routine that raises it is never translated (lc_messages); the message is, and is the fallback.
  return routine === 'RevalidateCachedQuery' || (typeof message === 'string' && message.includes('cached plan must not change result type'));
}

/**
 * Runs `work` again while it fails because the database is unreachable and `keepTrying()` says it is
 * still worth it, waiting a little longer each time (0.1 s doubling, up to 2 s). For writes that
 * record what was already done elsewhere (a call to Flex or Shopify): they must not be lost to a
 * short outage, and are safe to repeat.
 */
export async function retryWhileDatabaseUnavailable<T>(work: () => Promise<T>, keepTrying: () => boolean): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || !keepTrying()) throw error;
      await sleep(Math.min(2_000, 100 * 2 ** attempt));
    }
  }
}
