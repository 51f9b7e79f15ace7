/**
 * Node (V8) flags for a process that runs the embedded database.
 *
 * V8 compiles WebAssembly twice: at once with its baseline compiler (Liftoff) and, once a function
 * has run enough, again in the background with its optimizing compiler (TurboFan). PGlite's hot
 * functions are PostgreSQL's parser and executor, compiled to a few very large WASM functions, and
 * optimizing those takes about 500 MB for a moment, which the process keeps as its peak: a process
 * opening a PGlite data directory went from 140 MB to a 680 MB high-water mark a second later, idle,
 * and the app on the embedded database from 171 MB idle / 435 MB peak under load with these flags
 * to 422 / 736 MB without (bench, `--only payment-flow,startup`, 2026-12-01). The CPU per
 * statement stayed within the run-to-run noise (PGlite spends its time in short calls that Liftoff
 * code runs about as fast), and so did the app's CPU per complete payment.
 *
 * V8 reads its flags once, at start-up (`v8.setFlagsFromString` later has no effect on this), so
 * they must be on the command line: `npm start` adds them when DATABASE_URL is unset, the bench
 * starts the embedded app with them, and the app warns at start-up when they are missing.
 * They are process-wide: Prisma's query compiler (also WASM) runs unoptimized too, which matters
 * little there; on PostgreSQL the app runs without them.
 */
export const EMBEDDED_DATABASE_NODE_FLAGS: readonly string[] = ['--no-wasm-tier-up', '--no-wasm-dynamic-tiering'];

/** The flags above that this process was started without. */
export function missingEmbeddedDatabaseNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return EMBEDDED_DATABASE_NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}
