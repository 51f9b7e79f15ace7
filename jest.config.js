// Four projects: fast standalone tests (pure logic and the sandboxes), the integration suite twice,
// once on the PostgreSQL server and once on the embedded default (PGlite), and the browser test.
// scripts/test-setup.mjs is the globalSetup of the projects that need the machine: it starts
// PostgreSQL when it is down, and finds (or installs) the Chromium the browser test drives. Jest runs
// a project's globalSetup only when tests of that project run.
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

const machineSetup = '<rootDir>/scripts/test-setup.mjs';

const common = {
  transform,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
};

module.exports = {
  testTimeout: 60_000,
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
      globalSetup: machineSetup,
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
      globalSetup: machineSetup,
    },
  ],
};
