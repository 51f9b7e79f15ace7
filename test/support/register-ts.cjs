// Lets a child process run the app's TypeScript source as it is (`node -r ./test/support/register-ts.cjs
// test/support/app-process.ts`), compiled file by file with swc the way jest's transform does:
// the tests that start several app processes need no build first.
'use strict';
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
