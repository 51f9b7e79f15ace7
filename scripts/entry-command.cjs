// The node arguments `npm start` runs the app with (scripts/start.cjs), apart so a test can check them.
'use strict';
const path = require('node:path');

/**
 * Sandbox mode runs the development entry point, otherwise the production one; without DATABASE_URL
 * either uses the embedded database, whose process needs V8 flags that only the command line can set
 * (src/db/embedded-node-flags.ts says why).
 */
function entryCommand({ root, sandboxMode, env, embeddedDatabaseNodeFlags }) {
  const entry = sandboxMode ? 'dist-dev/dev/start-sandbox-mode.js' : 'dist/src/main.js';
  const embedded = !env.DATABASE_URL?.trim();
  return [...(embedded ? embeddedDatabaseNodeFlags : []), path.join(root, entry)];
}

module.exports = { entryCommand };
