import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config';

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
});
