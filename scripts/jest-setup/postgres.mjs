// jest globalSetup of the postgres project: PostgreSQL answers (scripts/test-setup.mjs).
import { jestGlobalSetup } from '../test-setup.mjs';

export default jestGlobalSetup('postgres');
