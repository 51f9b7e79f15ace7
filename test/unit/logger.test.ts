import { withLogContext } from '../../src/lib/log-context';
import { createLogger, redactSecrets } from '../../src/lib/logger';

/** The second line of defence: a field named like a secret never reaches a log line, however deep. */
describe('logger redaction', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(line) } });
  const last = () => JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;

  beforeEach(() => (lines.length = 0));

  it('redacts secret-named fields at the top, nested at any depth, in arrays, whatever their case or separators', () => {
    logger.info(
      {
        apiKey: 'fsk_live_top',
        shop: 'a.myshopify.com',
        request: { headers: { Authorization: 'Bearer nested', 'X-Shopify-Access-Token': 'shpat_nested', accept: 'application/json' } },
        endpoints: [{ webhook_id: 'we_1', signing_secret: 'whsec_in_array' }],
        form: { live_key: 'fsk_live_form', test_key: 'fsk_test_form' },
        deep: { a: { b: { c: { d: { password: 'deepest', cookie: 'sid=1' } } } } },
        job: { sealedOfflineAccessToken: 'v1.sealed_value', access_token: 'shpat_snake' },
      },
      'call',
    );
    const line = lines[0]!;
    for (const secret of ['fsk_live_top', 'Bearer nested', 'shpat_nested', 'whsec_in_array', 'deepest', 'sid=1', 'v1.sealed_value', 'shpat_snake', 'fsk_live_form', 'fsk_test_form']) expect(line).not.toContain(secret);
    expect(last()).toMatchObject({
      apiKey: '[redacted]',
      shop: 'a.myshopify.com',
      request: { headers: { Authorization: '[redacted]', 'X-Shopify-Access-Token': '[redacted]', accept: 'application/json' } },
      endpoints: [{ webhook_id: 'we_1', signing_secret: '[redacted]' }],
      deep: { a: { b: { c: { d: { password: '[redacted]', cookie: '[redacted]' } } } } },
      job: { sealedOfflineAccessToken: '[redacted]', access_token: '[redacted]' },
    });
  });

  it("redacts a child logger's bound fields and the log context's", () => {
    logger.child({ component: 'outer' }).child({ connection: { webhookSecret: 'whsec_bound' } }).info('bound');
    expect(lines[0]).not.toContain('whsec_bound');
    expect(last()).toMatchObject({ connection: { webhookSecret: '[redacted]' } });
    withLogContext({ flexWebhook: { mode: 'live' }, request: { authorization: 'Bearer ctx' } }, () => logger.info('in context'));
    expect(lines[1]).not.toContain('Bearer ctx');
    expect(last()).toMatchObject({ flexWebhook: { mode: 'live' }, request: { authorization: '[redacted]' } });
  });

  it('serializes an error as pino does (type, message, stack, causes), its secret fields redacted, in every form it is logged', () => {
    const cause = Object.assign(new Error('socket hang up'), { headers: { authorization: 'Bearer in_cause' } });
    const error = Object.assign(new TypeError('Flex refused the call', { cause }), { status: 401, headers: { authorization: 'Bearer on_error' } });
    logger.error({ err: error }, 'failed');
    logger.error(error);
    logger.error({ attempt: { error } }, 'nested');
    // pino writes a cause's message and stack into the error's, not the cause's fields.
    for (const line of lines) {
      expect(line).not.toContain('Bearer on_error');
      expect(line).not.toContain('Bearer in_cause');
    }
    for (const err of [JSON.parse(lines[0]!).err, JSON.parse(lines[1]!).err, JSON.parse(lines[2]!).attempt.error] as Array<Record<string, unknown>>) {
      expect(err).toMatchObject({ type: 'TypeError', message: 'Flex refused the call: socket hang up', status: 401, headers: { authorization: '[redacted]' } });
      expect(String(err.stack)).toContain('TypeError: Flex refused the call');
      expect(String(err.stack)).toContain('caused by: Error: socket hang up');
    }
    expect(error.headers.authorization).toBe('Bearer on_error');
  });

  it("redacts the fields of an aggregate error's errors", () => {
    const aggregate = new AggregateError([Object.assign(new Error('first'), { accessToken: 'shpat_in_aggregate' }), new Error('second')], 'both failed');
    logger.error({ err: aggregate }, 'aggregate');
    expect(lines[0]).not.toContain('shpat_in_aggregate');
    expect(last().err).toMatchObject({ type: 'AggregateError', message: 'both failed', aggregateErrors: [{ message: 'first', accessToken: '[redacted]' }, { message: 'second' }] });
  });

  it('logs an error whose name and message are read-only (a DOMException) without throwing', () => {
    const timeout = Object.assign(new DOMException('The operation was aborted due to timeout', 'TimeoutError'), { apiKey: 'fsk_on_dom' });
    expect(() => logger.warn({ err: timeout, attempt: { timeout } }, 'timed out')).not.toThrow();
    expect(lines[0]).not.toContain('fsk_on_dom');
    expect(last()).toMatchObject({ err: { message: 'The operation was aborted due to timeout' }, attempt: { timeout: { message: 'The operation was aborted due to timeout', apiKey: '[redacted]' } } });
  });

  it('redacts every path the pino redact list named before (REDACTED_PATHS, up to 2026-12-02)', () => {
    const secret = (n: number) => `secret_value_${n}`;
    logger.info(
      {
        apiKey: secret(1),
        accessToken: secret(2),
        sealedOfflineAccessToken: secret(3),
        secret: secret(4),
        signingSecret: secret(5),
        password: secret(6),
        authorization: secret(7),
        any: { apiKey: secret(8), accessToken: secret(9), sealedOfflineAccessToken: secret(10), access_token: secret(11), secret: secret(12), signing_secret: secret(13), signingSecret: secret(14), authorization: secret(15), cookie: secret(16) },
        headers: { authorization: secret(17), cookie: secret(18), 'x-shopify-access-token': secret(19) },
        request: { headers: { authorization: secret(20), cookie: secret(21), 'x-shopify-access-token': secret(22) } },
      },
      'every old path',
    );
    expect(lines[0]).not.toMatch(/secret_value_/);
  });

  it("never changes the caller's objects, and leaves a line with nothing to redact as it is", () => {
    const fields = { shop: 'a.myshopify.com', nested: { accessToken: 'shpat_x', n: 1 }, at: new Date(0) };
    const redacted = redactSecrets(fields);
    expect(fields.nested.accessToken).toBe('shpat_x');
    expect(redacted).toEqual({ shop: 'a.myshopify.com', nested: { accessToken: '[redacted]', n: 1 }, at: new Date(0) });
    const clean = { shop: 'a.myshopify.com', nested: { n: 1 } };
    expect(redactSecrets(clean)).toBe(clean);
  });

  it('cuts a cycle at its back-reference and replaces what lies deeper than ten levels, unread', () => {
    const cycle: Record<string, unknown> = { name: 'loop', secret: 'in_cycle', child: { parent: undefined as unknown, token: 'ok' } };
    (cycle.child as Record<string, unknown>).parent = cycle;
    cycle.self = cycle;
    logger.info({ cycle }, 'cycle');
    expect(lines[0]).not.toContain('in_cycle');
    expect(last()).toMatchObject({ cycle: { name: 'loop', secret: '[redacted]', self: '[Circular]', child: { parent: '[Circular]', token: 'ok' } } });
    expect(cycle.secret).toBe('in_cycle');

    let deep: Record<string, unknown> = { password: 'twelve_down' };
    for (let i = 0; i < 12; i += 1) deep = { level: deep };
    logger.info({ deep }, 'deep');
    expect(lines[1]).not.toContain('twelve_down');
    expect(lines[1]).toContain('[redacted: deeper than 10 levels]');
  });

  it('drops the fields of a line it cannot read (a throwing getter), rather than risk a secret', () => {
    const hostile = { get apiKey(): string { throw new Error('no reading me'); }, shop: 'a.myshopify.com' };
    expect(() => logger.info({ hostile }, 'hostile')).not.toThrow();
    expect(last()).toMatchObject({ msg: 'hostile', logFieldsUnreadable: 'no reading me' });
    expect(last().hostile).toBeUndefined();
  });
});
