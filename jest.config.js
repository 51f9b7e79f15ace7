// Four projects: fast standalone tests (pure logic and the sandboxes), the integration suite twice,
// once on the PostgreSQL server and once on the embedded default (PGlite), and the browser test.
// The projects that need the machine set it up first (scripts/test-setup.mjs, through their
// globalSetup in scripts/jest-setup/): PostgreSQL started when it is down, and the Chromium the browser
// test drives found (or installed). Jest runs a project's globalSetup only when tests of that project
// run, and each globalSetup module once per run: hence one module per project.
/** @type {import('jest').Config} */
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
      module: { type: 'commonjs' },
      sourceMaps: 'inline',
    },
  ],
};

const common = {
  transform,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
};

module.exports = {
  testTimeout: 60_000,
  // Integration files spend most of their time waiting on sockets (the app, the sandboxes, the
  // database): with two at once the run's user + system time was about three quarters of two cores'
  // worth of its wall time. Three at once on the same 2-core machine (2026-12-02): the whole suite
  // 493 → 419 s locally, 432 s in a fresh-clone CI run, every test passing.
  maxWorkers: 3,
  // Each integration file leaves about 20 MB behind in its worker (measured with --logHeapUsage and
  // --expose-gc: 76 → 560 MB over one worker's 30 PostgreSQL files; Jest's per-file module registry is
  // not all freed under --experimental-vm-modules, jestjs/jest#14605). By a run's end a worker's heap
  // was over 1 GB, its full collections took 400–600 ms, and one such pause as the run ended outlasted
  // the 500 ms Jest gives a worker to exit ("A worker process has failed to exit gracefully"). Jest
  // compares a worker's heapUsed (garbage included) with this after each file and, past it, replaces
  // the worker before the next.
  workerIdleMemoryLimit: '600MB',
  // A worker exits when its event loop is empty; Jest force-kills one still alive 500 ms after the run's
  // end and prints "A worker process has failed to exit gracefully". In about one standalone run in
  // three a worker took a little longer than that with no timer or socket left open (a check 450 ms
  // after the end found only its stdio and IPC pipes); with 10 s allowed, five standalone runs in a row
  // printed no warning and ended within a second of Jest's own "Time" (2026-12-02). A leaked handle
  // still holds a worker past these 5 s and prints the warning (checked with a stray setInterval).
  workerGracefulExitTimeout: 5_000,
  projects: [
    {
      ...common,
      displayName: 'standalone',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/sandbox/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'postgres',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/support/use-postgres.ts'],
      globalSetup: '<rootDir>/scripts/jest-setup/postgres.mjs',
    },
    {
      ...common,
      displayName: 'embedded',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/support/use-embedded.ts'],
    },
    {
      // The merchant's journey in headless Chromium (CHROMIUM_PATH, set by the set-up), against PostgreSQL.
      ...common,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/support/use-postgres.ts'],
      globalSetup: '<rootDir>/scripts/jest-setup/browser.mjs',
    },
  ],
};
