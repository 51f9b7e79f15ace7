import { runServer } from './app/run-server';
import { runUntilSignal } from './app/run-until-signal';

/** The production entry point (`node dist/src/main.js`): real shops only, never the sandboxes. */
runUntilSignal(runServer(process.env));
