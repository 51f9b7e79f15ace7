import { runCli } from '../../src/cli/cli';
import type { Harness } from './harness';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment `npm run cli` would have next to the harness's app: same database, keys and services. */
export function cliEnv(h: Harness): Record<string, string> {
  const c = h.config;
  return {
    DATABASE_URL: c.databaseUrl ?? '',
    DATA_DIR: c.dataDir,
    // Listed under their ids (a derived id is the same wherever the key is listed), newest last.
    ENCRYPTION_KEY: '',
    ENCRYPTION_KEYS: c.encryptionKeys.map((k) => `${k.id}:${k.key.toString('hex')}`).join(','),
    APP_URL: c.appUrl,
    SHOPIFY_API_KEY: c.shopify.apiKey,
    SHOPIFY_API_SECRET: c.shopify.apiSecret,
    SHOPIFY_API_ORIGIN: c.shopify.apiOrigin ?? '',
    FLEX_API_URL: c.flex.apiUrl,
    LOG_LEVEL: 'silent',
    // Only what a test gives explicitly: nothing from the shell running the tests.
    SHOP_ACCESS_TOKEN: '',
    FLEX_API_KEY: '',
    FLEX_TEST_API_KEY: '',
  };
}

/**
 * Runs the CLI as `npm run cli` would, on the app's database. The embedded database belongs to one
 * process at a time, so the app steps aside while the CLI runs (as an operator would stop it).
 */
export async function runCliBesideApp(
  h: Harness,
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; onStdout?: (text: string) => void; signal?: AbortSignal } = {},
): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const env = { ...process.env, ...cliEnv(h), ...options.env };
  let code = 0;
  await h.withAppStopped(async () => {
    code = await runCli(args, {
      env,
      stdout: (t) => {
        out.push(t);
        options.onStdout?.(t);
      },
      stderr: (t) => err.push(t),
      stdin: options.stdin === undefined ? undefined : async () => options.stdin!,
      signal: options.signal,
    });
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}
