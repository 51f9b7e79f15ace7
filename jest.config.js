// Four projects: fast standalone tests (pure logic and the sandboxes), the integration suite twice,
// once on the PostgreSQL server and once on the embedded default (PGlite), and the browser test.
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
    },
    {
      ...common,
      displayName: 'embedded',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/support/use-embedded.ts'],
    },
    {
      // The merchant's journey in headless Chromium (Debian's /usr/bin/chromium), against PostgreSQL.
      ...common,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/support/use-postgres.ts'],
    },
  ],
};
