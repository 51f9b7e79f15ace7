import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config';
import { derivedKeyId } from '../../src/lib/secret-box';

const key = randomBytes(32).toString('hex');
const production = {
  SHOPIFY_API_KEY: 'key',
  SHOPIFY_API_SECRET: 'secret',
  APP_URL: 'https://payments.example.com/',
  ENCRYPTION_KEY: key,
  DATABASE_URL: 'postgresql://app@db.example.com:5432/flex',
  PAYMENTS_PROXY_SECRET: 'p'.repeat(40),
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('reads a production configuration', () => {
    const config = loadConfig({ ...production, PORT: '8080', SHOPIFY_API_ORIGIN: 'http://127.0.0.1:4200' });
    expect(config.sandboxMode).toBe(false);
    expect(config.appUrl).toBe('https://payments.example.com');
    expect(config.port).toBe(8080);
    expect(config.encryptionKey.equals(Buffer.from(key, 'hex'))).toBe(true);
    expect(config.flex.apiUrl).toBe('https://api.withflex.com');
    expect(config.shopify.apiOrigin).toBe('http://127.0.0.1:4200');
    expect(config.shopify.apiVersion).toBe('2026-10');
  });

  it('runs in sandbox mode without Shopify credentials, with the embedded database', () => {
    const config = loadConfig({}, { sandboxEncryptionKey: () => randomBytes(32) });
    expect(config.sandboxMode).toBe(true);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.appUrl).toBe('http://localhost:3000');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ APP_URL: 'payments.example.com' }, 'APP_URL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ ENCRYPTION_KEY: 'short' }, 'ENCRYPTION_KEY'],
    [{ FLEX_API_URL: 'ftp://flex' }, 'FLEX_API_URL'],
    [{ SHOPIFY_API_VERSION: 'latest' }, 'SHOPIFY_API_VERSION'],
    [{ SHOPIFY_API_ORIGIN: 'not a url' }, 'SHOPIFY_API_ORIGIN'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ])('names the variable when %p is malformed', (override, variable) => {
    const problems = problemsOf({ ...production, ...override });
    expect(problems.some((p) => p.startsWith(`${variable}:`))).toBe(true);
  });

  it.each(['APP_URL', 'ENCRYPTION_KEY', 'SHOPIFY_API_SECRET'])('requires %s once Shopify credentials are configured', (variable) => {
    const env: Record<string, string | undefined> = { ...production };
    delete env[variable];
    expect(problemsOf(env).some((p) => p.startsWith(`${variable}:`))).toBe(true);
  });

  it('needs all three mTLS values together', () => {
    const problems = problemsOf({ ...production, PAYMENTS_MTLS_CA: '-----BEGIN CERTIFICATE-----\nx' });
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/^PAYMENTS_MTLS_CERT:/), expect.stringMatching(/^PAYMENTS_MTLS_KEY:/)]));
  });

  describe('Shopify’s session requests must be authenticated in production', () => {
    const { PAYMENTS_PROXY_SECRET: _secret, ...bare } = production;

    it('refuses to start with Shopify credentials and neither mTLS nor a proxy', () => {
      expect(problemsOf(bare).join('\n')).toMatch(/PAYMENTS_MTLS_CA, PAYMENTS_MTLS_CERT, PAYMENTS_MTLS_KEY or PAYMENTS_PROXY_SECRET: required/);
    });

    it('takes the proxy mode on a private listener with a long secret', () => {
      const config = loadConfig({ ...bare, PAYMENTS_PROXY_SECRET: 's'.repeat(32), PAYMENTS_PROXY_HOST: '10.0.3.7', PAYMENTS_PROXY_PORT: '9000' });
      expect(config.sessionAuth).toEqual({ kind: 'proxy', secret: 's'.repeat(32), host: '10.0.3.7', port: 9000 });
      expect(loadConfig({ ...bare, PAYMENTS_PROXY_SECRET: 's'.repeat(32) }).sessionAuth).toMatchObject({ host: '127.0.0.1', port: 8444 });
    });

    it.each([
      ['a short secret', { PAYMENTS_PROXY_SECRET: 'short' }, /PAYMENTS_PROXY_SECRET: required in proxy mode, at least 32/],
      ['a public listener address', { PAYMENTS_PROXY_SECRET: 's'.repeat(32), PAYMENTS_PROXY_HOST: '0.0.0.0' }, /PAYMENTS_PROXY_HOST: 0\.0\.0\.0 is not a loopback or private address/],
      ['a public IP', { PAYMENTS_PROXY_SECRET: 's'.repeat(32), PAYMENTS_PROXY_HOST: '172.32.0.1' }, /not a loopback or private address/],
      ['both modes at once', { PAYMENTS_PROXY_SECRET: 's'.repeat(32), PAYMENTS_MTLS_CA: '-----BEGIN CERTIFICATE-----', PAYMENTS_MTLS_CERT: '-----BEGIN CERTIFICATE-----', PAYMENTS_MTLS_KEY: '-----BEGIN KEY-----' }, /choose one way/],
    ])('refuses %s', (_name, override, message) => {
      expect(problemsOf({ ...bare, ...override }).join('\n')).toMatch(message);
    });
  });

  it('accepts the encryption key as base64 too', () => {
    const base64 = randomBytes(32).toString('base64');
    expect(loadConfig({ ...production, ENCRYPTION_KEY: base64 }).encryptionKey.toString('base64')).toBe(base64);
  });

  describe('encryption keys', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);

    it('keeps ENCRYPTION_KEY working as one key with an id derived from it', () => {
      const config = loadConfig(production);
      expect(config.encryptionKeys).toEqual([{ id: derivedKeyId(Buffer.from(key, 'hex')), key: Buffer.from(key, 'hex') }]);
    });

    it('reads ENCRYPTION_KEYS as <id>:<key> pairs, newest last, in hex or base64', () => {
      const config = loadConfig({ ...production, ENCRYPTION_KEY: '', ENCRYPTION_KEYS: ` 2026-01:${k1.toString('hex')} , 2026-07:${k2.toString('base64')}` });
      expect(config.encryptionKeys.map((k) => k.id)).toEqual(['2026-01', '2026-07']);
      expect(config.encryptionKeys[1]!.key.equals(k2)).toBe(true);
      expect(config.encryptionKey.equals(k2)).toBe(true);
    });

    it('puts ENCRYPTION_KEY before ENCRYPTION_KEYS when both are set: it is the key being rotated away from', () => {
      const config = loadConfig({ ...production, ENCRYPTION_KEYS: `next:${k1.toString('hex')}` });
      expect(config.encryptionKeys.map((k) => k.id)).toEqual([derivedKeyId(Buffer.from(key, 'hex')), 'next']);
      expect(config.encryptionKey.equals(k1)).toBe(true);
    });

    it('accepts ENCRYPTION_KEYS alone once Shopify credentials are configured', () => {
      const env: Record<string, string | undefined> = { ...production, ENCRYPTION_KEYS: `a:${k1.toString('hex')}` };
      delete env.ENCRYPTION_KEY;
      expect(loadConfig(env).encryptionKeys.map((k) => k.id)).toEqual(['a']);
    });

    it.each([
      ['no-colon-here', 'entry 1: must be <id>:<key>'],
      [`bad.id:${k1.toString('hex')}`, 'the id must be'],
      ['a:short', 'entry 1 ("a"): the key must be 32 bytes'],
      [`a:${k1.toString('hex')},a:${k2.toString('hex')}`, 'entry 2 ("a"): the id "a" is used twice'],
      [`a:${k1.toString('hex')},b:${k1.toString('base64')}`, 'the same key is listed twice'],
      [`x:${key}`, 'is the key ENCRYPTION_KEY already gives'],
    ])('refuses ENCRYPTION_KEYS=%s, naming the problem but never the key', (value, message) => {
      const problems = problemsOf({ ...production, ENCRYPTION_KEYS: value });
      const problem = problems.find((p) => p.startsWith('ENCRYPTION_KEYS:'));
      expect(problem).toContain(message);
      for (const secret of [k1.toString('hex'), k1.toString('base64'), k2.toString('hex'), key]) expect(problem).not.toContain(secret);
    });

    it('uses the sandbox-mode key file, with a derived id, only when no key is configured', () => {
      const fileKey = randomBytes(32);
      expect(loadConfig({}, { sandboxEncryptionKey: () => fileKey }).encryptionKeys).toEqual([{ id: derivedKeyId(fileKey), key: fileKey }]);
      const configured = loadConfig({ ENCRYPTION_KEYS: `mine:${k1.toString('hex')}` }, { sandboxEncryptionKey: () => fileKey });
      expect(configured.encryptionKeys.map((k) => k.id)).toEqual(['mine']);
    });
  });

  it('reads the retention period in days, 90 by default', () => {
    expect(loadConfig(production).retentionDays).toBe(90);
    expect(loadConfig({ ...production, RETENTION_DAYS: '30' }).retentionDays).toBe(30);
    expect(problemsOf({ ...production, RETENTION_DAYS: '0' }).some((p) => p.startsWith('RETENTION_DAYS:'))).toBe(true);
    expect(problemsOf({ ...production, RETENTION_DAYS: 'ninety' }).some((p) => p.startsWith('RETENTION_DAYS:'))).toBe(true);
  });

  it('prepares the hot statements on PostgreSQL unless told not to (a pooler that cannot keep them)', () => {
    expect(loadConfig(production).databasePreparedStatements).toBe(true);
    expect(loadConfig({ ...production, DATABASE_PREPARED_STATEMENTS: 'false' }).databasePreparedStatements).toBe(false);
    expect(loadConfig({ ...production, DATABASE_PREPARED_STATEMENTS: '' }).databasePreparedStatements).toBe(true);
    expect(problemsOf({ ...production, DATABASE_PREPARED_STATEMENTS: 'no' }).some((p) => p.startsWith('DATABASE_PREPARED_STATEMENTS:'))).toBe(true);
  });

  it('first asks Flex about an unfinished checkout a minute after it was made, by default', () => {
    expect(loadConfig(production).reconcileAfterSeconds).toBe(60);
    expect(loadConfig({ ...production, RECONCILE_AFTER_SECONDS: '5' }).reconcileAfterSeconds).toBe(5);
  });
});
