// The node arguments `npm start` and `npm run cli` run the app with (scripts/start.cjs, scripts/cli.cjs),
// apart so a test can check them.
'use strict';
const path = require('node:path');

/**
 * Without DATABASE_URL the app uses the embedded database, whose process needs V8 flags that only
 * the command line can set (src/db/embedded-node-flags.ts says why).
 */
function nodeFlagsFor(env, embeddedDatabaseNodeFlags) {
  return env.DATABASE_URL?.trim() ? [] : [...embeddedDatabaseNodeFlags];
}

/** Sandbox mode runs the development entry point, otherwise the production one. */
function entryCommand({ root, sandboxMode, env, embeddedDatabaseNodeFlags }) {
  const entry = sandboxMode ? 'dist-dev/dev/start-sandbox-mode.js' : 'dist/src/main.js';
  return [...nodeFlagsFor(env, embeddedDatabaseNodeFlags), path.join(root, entry)];
}

module.exports = { entryCommand, nodeFlagsFor };
