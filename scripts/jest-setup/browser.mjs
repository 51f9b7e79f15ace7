// jest globalSetup of the browser project: PostgreSQL answers, and CHROMIUM_PATH names a Chromium
// that runs (scripts/test-setup.mjs).
import { jestGlobalSetup } from '../test-setup.mjs';

export default jestGlobalSetup('postgres', 'chromium');
