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
        deep: { a: { b: { c: { d: { password: 'deepest', cookie: 'sid=1' } } } } },
        job: { sealedOfflineAccessToken: 'v1.sealed_value', access_token: 'shpat_snake' },
      },
      'call',
    );
    const line = lines[0]!;
    for (const secret of ['fsk_live_top', 'Bearer nested', 'shpat_nested', 'whsec_in_array', 'deepest', 'sid=1', 'v1.sealed_value', 'shpat_snake']) expect(line).not.toContain(secret);
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

  it('keeps an error an error: serialized with its message and stack, its secret fields redacted', () => {
    const error = Object.assign(new TypeError('Flex refused the call'), { status: 401, headers: { authorization: 'Bearer on_error' } });
    logger.error({ err: error }, 'failed');
    expect(lines[0]).not.toContain('Bearer on_error');
    const err = last().err as Record<string, unknown>;
    expect(err).toMatchObject({ type: 'TypeError', message: 'Flex refused the call', status: 401, headers: { authorization: '[redacted]' } });
    expect(String(err.stack)).toContain('TypeError: Flex refused the call');
    expect(error.headers.authorization).toBe('Bearer on_error');
  });

  it("never changes the caller's objects, and leaves a line with nothing to redact as it is", () => {
    const fields = { shop: 'a.myshopify.com', nested: { accessToken: 'shpat_x', n: 1 }, at: new Date(0) };
    const redacted = redactSecrets(fields);
    expect(fields.nested.accessToken).toBe('shpat_x');
    expect(redacted).toEqual({ shop: 'a.myshopify.com', nested: { accessToken: '[redacted]', n: 1 }, at: new Date(0) });
    const clean = { shop: 'a.myshopify.com', nested: { n: 1 } };
    expect(redactSecrets(clean)).toBe(clean);
  });

  it('stops at a cycle instead of walking it for ever', () => {
    const cycle: Record<string, unknown> = { name: 'loop', secret: 'in_cycle' };
    cycle.self = cycle;
    const redacted = redactSecrets(cycle);
    expect(redacted.secret).toBe('[redacted]');
    expect(cycle.secret).toBe('in_cycle');
  });
});
