#!/usr/bin/env node
// Runs the Prisma CLI offline. Prisma 6 tries to download its native engines on every CLI start;
// we use the JS query compiler (engineType = "client") and the driver adapter, so any existing file
// satisfies the check and no download is attempted. See README "Database".
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const env = { ...process.env };
env.PRISMA_QUERY_ENGINE_LIBRARY ??= process.execPath;
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
env.CHECKPOINT_DISABLE = '1';

const cli = path.join(__dirname, '..', 'node_modules', 'prisma', 'build', 'index.js');
const result = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
