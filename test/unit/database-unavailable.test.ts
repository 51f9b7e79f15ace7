import { isDatabaseUnavailable, isTransientDatabaseConflict } from '../../src/lib/database-unavailable';

/** The errors `pg`, `pg-pool` and Prisma (driver adapter pg) were seen to throw when PostgreSQL went away. */
describe('isDatabaseUnavailable', () => {
  it('recognises a lost or refused connection, however it is wrapped', () => {
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Client has encountered a connection error and is not queryable'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', syscall: 'connect', errno: -111 }))).toBe(true);
    // Prisma: P1001 in a transaction, P2010 with the adapter's cause for a raw query.
    expect(isDatabaseUnavailable(Object.assign(new Error("Can't reach database server at 127.0.0.1:5432"), { code: 'P1001' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('Raw query failed.'), { code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 } } } }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' }))).toBe(true);
    // Inside an interactive transaction Prisma throws the adapter's own error (seen in the outage test).
    expect(isDatabaseUnavailable(Object.assign(new Error('ConnectionClosed'), { name: 'DriverAdapterError', cause: { kind: 'ConnectionClosed' } }))).toBe(true);
  });

  it('leaves every other error alone: a refused query is not an outage', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505', severity: 'ERROR' }))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('Unique constraint failed'), { code: 'P2002' }))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('Raw query failed.'), { code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'postgres', code: '22P02' } } } }))).toBe(false);
    // fetch's network error carries the socket error as its cause: that is Flex or Shopify, not the database.
    expect(isDatabaseUnavailable(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('UniqueConstraintViolation'), { name: 'DriverAdapterError', cause: { kind: 'UniqueConstraintViolation' } }))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isDatabaseUnavailable('Connection terminated unexpectedly')).toBe(false);
  });
});

describe('isTransientDatabaseConflict', () => {
  it('recognises a deadlock, a serialization failure and an expired transaction, however Prisma wraps them', () => {
    expect(isTransientDatabaseConflict(Object.assign(new Error('deadlock detected'), { code: '40P01', severity: 'ERROR' }))).toBe(true);
    expect(isTransientDatabaseConflict(Object.assign(new Error('could not serialize access'), { code: '40001' }))).toBe(true);
    expect(isTransientDatabaseConflict(Object.assign(new Error('Transaction failed due to a write conflict or a deadlock'), { code: 'P2034' }))).toBe(true);
    expect(isTransientDatabaseConflict(Object.assign(new Error('Transaction already closed: expired'), { code: 'P2028' }))).toBe(true);
    expect(isTransientDatabaseConflict(Object.assign(new Error('Raw query failed.'), { code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'postgres', code: '40P01' } } } }))).toBe(true);
    // A prepared statement refused after a migration changed its columns: it did not run.
    expect(isTransientDatabaseConflict(Object.assign(new Error('cached plan must not change result type'), { code: '0A000', severity: 'ERROR' }))).toBe(true);
    // Whatever language the server speaks (lc_messages): its routine is never translated.
    expect(isTransientDatabaseConflict(Object.assign(new Error('gecachter Plan darf den Ergebnistyp nicht ändern'), { code: '0A000', routine: 'RevalidateCachedQuery' }))).toBe(true);
  });

  it('leaves a refused query and an outage to their own handling', () => {
    expect(isTransientDatabaseConflict(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }))).toBe(false);
    expect(isTransientDatabaseConflict(Object.assign(new Error('Raw query failed.'), { code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'postgres', code: '22P02' } } } }))).toBe(false);
    expect(isTransientDatabaseConflict(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(false);
    // Another feature PostgreSQL does not support is a bug, not a stale statement.
    expect(isTransientDatabaseConflict(Object.assign(new Error('FOR UPDATE is not allowed with UNION'), { code: '0A000' }))).toBe(false);
    expect(isTransientDatabaseConflict(undefined)).toBe(false);
  });
});
