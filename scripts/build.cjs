#!/usr/bin/env node
// Builds the app: Prisma's client, then TypeScript.
//   (no flag)  the production build: src/ only, into dist/ (what `node dist/src/main.js` runs)
//   --dev      what development runs, into dist-dev/: the app with the sandboxes, the sandbox-mode
//              entry point and the benchmarks, kept apart so dist/ never holds any of them
//   --all      both
'use strict';
const { spawnSync } = require('node:child_process');
const { cpSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const node = (args, quiet = false) => {
  const result = spawnSync(process.execPath, args, { stdio: quiet ? 'pipe' : 'inherit', cwd: root, encoding: 'utf8' });
  if (result.status !== 0) {
    if (quiet) process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    process.exit(result.status ?? 1);
  }
};

node([path.join(__dirname, 'prisma.cjs'), 'generate', '--no-hints'], true);
const builds = process.argv.includes('--all')
  ? [['tsconfig.build.json', 'dist'], ['tsconfig.dev.json', 'dist-dev']]
  : process.argv.includes('--dev')
    ? [['tsconfig.dev.json', 'dist-dev']]
    : [['tsconfig.build.json', 'dist']];
for (const [project, outDir] of builds) {
  node([path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project]);
  // The pages' stylesheet is read at run time from beside the compiled views.
  cpSync(path.join(root, 'src/http/views/styles.css'), path.join(root, outDir, 'src/http/views/styles.css'));
}
