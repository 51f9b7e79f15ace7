import { spawnSync } from 'node:child_process';
import { startSandboxMode } from '../../dev/start-sandbox-mode';
import { ConfigError, loadConfig } from '../../src/config';
import { EMBEDDED_DATABASE_NODE_FLAGS, missingEmbeddedDatabaseNodeFlags } from '../../src/db/embedded-node-flags';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { entryCommand, nodeFlagsFor } = require('../../scripts/entry-command.cjs') as {
  entryCommand(options: { root: string; sandboxMode: boolean; env: Record<string, string | undefined>; embeddedDatabaseNodeFlags: readonly string[] }): string[];
  nodeFlagsFor(env: Record<string, string | undefined>, embeddedDatabaseNodeFlags: readonly string[]): string[];
};

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

/** The embedded database's process needs V8 flags only the command line can set (src/db/embedded-node-flags.ts). */
describe('npm start’s and npm run cli’s command', () => {
  const flags = EMBEDDED_DATABASE_NODE_FLAGS;
  it('passes the embedded database’s flags when DATABASE_URL is unset or blank, in either mode', () => {
    expect(entryCommand({ root: '/app', sandboxMode: false, env: {}, embeddedDatabaseNodeFlags: flags })).toEqual([...flags, '/app/dist/src/main.js']);
    expect(entryCommand({ root: '/app', sandboxMode: true, env: { DATABASE_URL: '  ' }, embeddedDatabaseNodeFlags: flags })).toEqual([...flags, '/app/dist-dev/dev/start-sandbox-mode.js']);
  });

  it('passes none on PostgreSQL', () => {
    expect(entryCommand({ root: '/app', sandboxMode: false, env: { DATABASE_URL: 'postgresql://db/app' }, embeddedDatabaseNodeFlags: flags })).toEqual(['/app/dist/src/main.js']);
  });

  it('npm run cli passes the same flags, on the embedded database only', () => {
    expect(nodeFlagsFor({}, flags)).toEqual([...flags]);
    expect(nodeFlagsFor({ DATABASE_URL: 'postgresql://db/app' }, flags)).toEqual([]);
  });

  it('the app misses a flag only when neither its command line nor NODE_OPTIONS names it, whatever its value', () => {
    expect(missingEmbeddedDatabaseNodeFlags([...flags], '')).toEqual([]);
    expect(missingEmbeddedDatabaseNodeFlags([], '')).toEqual([...flags]);
    expect(missingEmbeddedDatabaseNodeFlags(['--no-wasm-tier-up', '--no_wasm_dynamic_tiering'], '--max-semi-space-size=32')).toEqual([]);
    expect(missingEmbeddedDatabaseNodeFlags(['--no-wasm-tier-up', '--max-semi-space-size', '16'], '')).toEqual(['--no-wasm-dynamic-tiering']);
  });

  it('this Node accepts the flags (a flag it did not know would stop npm start)', () => {
    const run = spawnSync(process.execPath, [...flags, '-e', '0'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
