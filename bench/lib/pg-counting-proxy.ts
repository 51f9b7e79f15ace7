import net from 'node:net';

interface Hold {
  sqlPrefix: string;
  meanwhile: () => Promise<void>;
  /** true: the answer went on after `meanwhile`; false: dropped unapplied (dropHolds, or its connection closed). */
  settle: (applied: boolean) => void;
  fail: (error: unknown) => void;
}

const collapsed = (sql: string): string => sql.replace(/\s+/g, ' ').trim();

/**
 * A TCP proxy in front of PostgreSQL that counts ReadyForQuery messages ('Z') sent by the server:
 * one per round trip the client waits for (a simple query, or an extended-protocol Sync). Used by
 * `--profile` to measure database round trips per payment request, and by tests that count them or
 * that hold an answer back (`holdAnswerTo`). Only for profiling and tests: it adds a hop.
 */
export class PgCountingProxy {
  roundTrips = 0;
  /**
   * SQL text of every statement the clients ran, with counts: each Bind ('B') of an extended-protocol
   * statement (named prepared statements are parsed once per connection and bound every time) and
   * each simple Query ('Q').
   */
  readonly statements = new Map<string, number>();
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly holds: Hold[] = [];

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = net.createServer((client) => this.connect(client));
  }

  static async start(targetHost: string, targetPort: number): Promise<PgCountingProxy> {
    const proxy = new PgCountingProxy(targetHost, targetPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /**
   * Holds the server's answer to the next statement whose SQL starts with `sqlPrefix` (both with white
   * space collapsed, as `statements` keys them), on whichever connection runs it, at its
   * ReadyForQuery, until `meanwhile` has finished: the client waits for that message, so a test can
   * change the database between a statement and the client's next step, at the moment it names, with
   * no hook inside the client. One-shot. Resolves true once the answer went on after `meanwhile`,
   * false if the hold was dropped unapplied (`dropHolds`, or its connection closed first); rejects if
   * `meanwhile` failed (the answer goes on all the same).
   */
  holdAnswerTo(sqlPrefix: string, meanwhile: () => Promise<void>): Promise<boolean> {
    return new Promise<boolean>((settle, fail) => this.holds.push({ sqlPrefix: collapsed(sqlPrefix), meanwhile, settle, fail }));
  }

  /** Holds not yet matched by a statement. */
  get pendingHolds(): number {
    return this.holds.length;
  }

  /** Drops the holds no statement has matched yet (each resolves false), so none outlives its test. */
  dropHolds(): void {
    for (const hold of this.holds.splice(0)) hold.settle(false);
  }

  /** Clears the statement counts (the round-trip counter keeps running). */
  resetStatements(): void {
    this.statements.clear();
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  private connect(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.sockets.add(client).add(upstream);
    client.pipe(upstream);
    // Client → server: an untyped start-up message first, then typed messages.
    let fromClient: Buffer = Buffer.alloc(0);
    let started = false;
    const parsed = new Map<string, string>();
    /** A hold this connection's statement matched: it applies to the server's next ReadyForQuery. */
    let armed: Hold | undefined;
    client.on('data', (chunk: Buffer) => {
      fromClient = fromClient.length ? Buffer.concat([fromClient, chunk]) : chunk;
      let offset = 0;
      for (;;) {
        if (!started) {
          if (fromClient.length - offset < 4) break;
          const length = fromClient.readInt32BE(offset);
          if (fromClient.length - offset < length) break;
          offset += length;
          started = true;
          continue;
        }
        if (fromClient.length - offset < 5) break;
        const type = fromClient[offset];
        const length = fromClient.readInt32BE(offset + 1);
        if (fromClient.length - offset < 1 + length) break;
        const body = fromClient.subarray(offset + 5, offset + 1 + length);
        let sql: string | undefined;
        if (type === 0x50 /* P */) {
          const nameEnd = body.indexOf(0);
          const name = body.subarray(0, nameEnd).toString('utf8');
          parsed.set(name, body.subarray(nameEnd + 1, body.indexOf(0, nameEnd + 1)).toString('utf8'));
        } else if (type === 0x42 /* B */) {
          const portalEnd = body.indexOf(0);
          const name = body.subarray(portalEnd + 1, body.indexOf(0, portalEnd + 1)).toString('utf8');
          sql = parsed.get(name) ?? `(statement ${name || 'unnamed'} parsed before counting began)`;
        } else if (type === 0x51 /* Q */) {
          sql = body.subarray(0, body.indexOf(0)).toString('utf8');
        }
        if (sql !== undefined) {
          const text = collapsed(sql);
          // One hold per answer: the connection's next statement waits for this one's ReadyForQuery.
          const hold = armed ? -1 : this.holds.findIndex((h) => text.startsWith(h.sqlPrefix));
          if (hold >= 0) armed = this.holds.splice(hold, 1)[0];
          const key = text.slice(0, 160);
          this.statements.set(key, (this.statements.get(key) ?? 0) + 1);
        }
        offset += 1 + length;
      }
      fromClient = fromClient.subarray(offset);
    });
    // Server → client: a stream of messages, each a type byte and an int32 length (itself included).
    // Bytes go on as they come, except from an armed hold's ReadyForQuery until its `meanwhile` ends.
    let pending: Buffer = Buffer.alloc(0);
    /** Forwards `chunk`; false when a hold paused the stream (its release resumes it). */
    const fromServer = (chunk: Buffer): boolean => {
      const forwarded = pending.length;
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let offset = 0;
      while (pending.length - offset >= 5) {
        const length = pending.readInt32BE(offset + 1);
        if (pending.length - offset < 1 + length) break;
        const end = offset + 1 + length;
        if (pending[offset] === 0x5a /* Z */) {
          this.roundTrips++;
          const hold = armed;
          if (hold) {
            armed = undefined;
            // The message's first bytes may have gone on with an earlier chunk; the client waits for the rest.
            const heldFrom = Math.max(offset, forwarded);
            client.write(pending.subarray(forwarded, heldFrom));
            const held = pending.subarray(heldFrom, end);
            const after = pending.subarray(end);
            pending = Buffer.alloc(0);
            upstream.pause();
            const release = () => {
              client.write(held);
              if (!after.length || fromServer(after)) upstream.resume();
            };
            hold.meanwhile().then(
              () => {
                release();
                hold.settle(true);
              },
              (error: unknown) => {
                release();
                hold.fail(error);
              },
            );
            return false;
          }
        }
        offset = end;
      }
      client.write(chunk);
      pending = pending.subarray(offset);
      return true;
    };
    upstream.on('data', fromServer);
    const close = () => {
      // A statement whose answer never came: its hold is dropped, not left to wait for ever.
      armed?.settle(false);
      armed = undefined;
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  }

  async stop(): Promise<void> {
    this.dropHolds();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
