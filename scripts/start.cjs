#!/usr/bin/env node
// `npm start`. With Shopify credentials: builds the app and runs the production entry point
// (dist/src/main.js), which never loads sandbox code. Without them: builds the development entry
// point as well and runs sandbox mode from it (dev/start-sandbox-mode.ts). The same two variables
// decide sandbox mode in src/config.ts.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const { entryCommand } = require('./entry-command.cjs');

const root = path.join(__dirname, '..');
const sandboxMode = !process.env.SHOPIFY_API_KEY?.trim() && !process.env.SHOPIFY_API_SECRET?.trim();
const run = (args) => spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });

const built = run([path.join(__dirname, 'build.cjs'), ...(sandboxMode ? ['--dev'] : [])]);
if (built.status !== 0) process.exit(built.status ?? 1);
const outDir = sandboxMode ? 'dist-dev' : 'dist';
// The flags live in the app's source (src/db/embedded-node-flags.ts), built just above.
const { EMBEDDED_DATABASE_NODE_FLAGS } = require(path.join(root, outDir, 'src/db/embedded-node-flags.js'));
const child = spawn(process.execPath, entryCommand({ root, sandboxMode, env: process.env, embeddedDatabaseNodeFlags: EMBEDDED_DATABASE_NODE_FLAGS }), { stdio: 'inherit', cwd: root });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
