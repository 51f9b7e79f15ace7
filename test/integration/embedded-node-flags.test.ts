import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { EMBEDDED_DATABASE_NODE_FLAGS } from '../../src/db/embedded-node-flags';
import { AppProcess } from '../support/app-processes';

/**
 * The embedded database's process needs V8 flags that only the command line can set
 * (src/db/embedded-node-flags.ts: without them its memory peaks about 500 MB higher): an app started
 * without them says so (that `npm start` passes them: test/unit/entry-points.test.ts).
 * (Embedded project only: on PostgreSQL nothing here applies.)
 */
const onEmbedded = process.env.TEST_DATABASE === 'embedded' ? describe : describe.skip;

onEmbedded('an app on the embedded database', () => {
  const dirs: string[] = [];
  const apps: AppProcess[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function start(nodeFlags: readonly string[]): Promise<AppProcess> {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'flex-node-flags-'));
    dirs.push(dataDir);
    const env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: '0',
      HOST: '127.0.0.1',
      APP_URL: 'http://127.0.0.1:1',
      DATA_DIR: dataDir,
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      SHOPIFY_API_KEY: 'test-api-key',
      SHOPIFY_API_SECRET: 'test-api-secret',
      METRICS_PORT: '0',
      PAYMENTS_PROXY_SECRET: randomBytes(32).toString('hex'),
      PAYMENTS_PROXY_HOST: '127.0.0.1',
      PAYMENTS_PROXY_PORT: '0',
    };
    const spawned = AppProcess.spawn(`app${apps.length}`, env, {}, nodeFlags);
    apps.push(spawned.process);
    return spawned.ready;
  }
  const warnings = (app: AppProcess) => app.logs.filter((line) => line.missingNodeFlags);

  it('started with the flags, says nothing about them', async () => {
    const app = await start(EMBEDDED_DATABASE_NODE_FLAGS);
    expect(warnings(app)).toEqual([]);
  });

  it('started without them, warns once at start-up, naming the missing flags and how to start it', async () => {
    const app = await start([]);
    expect(warnings(app)).toHaveLength(1);
    expect(warnings(app)[0]).toMatchObject({ level: 'warn', missingNodeFlags: [...EMBEDDED_DATABASE_NODE_FLAGS] });
    expect(warnings(app)[0]!.msg).toContain(`node ${EMBEDDED_DATABASE_NODE_FLAGS.join(' ')} test/support/app-process.ts`);
  });
});
