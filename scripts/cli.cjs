#!/usr/bin/env node
// `npm run cli -- <command>`: builds the app and runs the operator's command line
// (dist/src/cli/main.js), on the embedded database with its V8 flags (scripts/entry-command.cjs).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { nodeFlagsFor } = require('./entry-command.cjs');

const root = path.join(__dirname, '..');
const built = spawnSync(process.execPath, [path.join(__dirname, 'build.cjs')], { stdio: 'inherit', cwd: root });
if (built.status !== 0) process.exit(built.status ?? 1);
const { EMBEDDED_DATABASE_NODE_FLAGS } = require(path.join(root, 'dist/src/db/embedded-node-flags.js'));
const args = [...nodeFlagsFor(process.env, EMBEDDED_DATABASE_NODE_FLAGS), path.join(root, 'dist/src/cli/main.js'), ...process.argv.slice(2)];
const cli = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(cli.status ?? 1);
