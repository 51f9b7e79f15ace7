import { startSandboxMode } from '../../dev/start-sandbox-mode';
import { ConfigError, loadConfig } from '../../src/config';

/** The two entry points: production needs Shopify credentials; sandbox mode is for development only. */
describe('entry points', () => {
  it('the production configuration refuses to start without Shopify credentials (no sandbox mode there)', () => {
    expect(() => loadConfig({ DATA_DIR: '/tmp/never-used' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATA_DIR: '/tmp/never-used' })).toThrow(/sandbox mode, which `npm start` starts from its own entry point/);
  });

  it('sandbox mode never starts with NODE_ENV=production', async () => {
    await expect(startSandboxMode({ NODE_ENV: 'production', DATA_DIR: '/tmp/never-used' })).rejects.toThrow(/sandbox mode never runs in production/);
  });

  it('sandbox mode is not started when Shopify credentials are configured', async () => {
    await expect(
      startSandboxMode({ SHOPIFY_API_KEY: 'k', SHOPIFY_API_SECRET: 's', APP_URL: 'https://app.example', ENCRYPTION_KEY: 'a'.repeat(64), DATA_DIR: '/tmp/never-used' }),
    ).rejects.toThrow(ConfigError);
  });
});
