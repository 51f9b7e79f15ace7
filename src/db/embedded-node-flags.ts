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
 *
 * `--max-semi-space-size=16` holds V8's young generation to two 16 MB halves (by default V8 sizes it
 * from the machine's memory: up to 128 MB on these machines). PGlite's WASM memory and the app's JavaScript heap share the one
 * process, and under load the JavaScript heap had grown to 250–300 MB with 60–130 MB of it in use,
 * the pages it let go still resident. With it, in A/B runs of the bench (`--only payment-flow,
 * webhook-resolve --targets floor,embedded`, 2026-12-01), peak RSS 439 and 418 → 369 and 374 MB, CPU
 * per complete payment 24.3 and 24.4 → 24.0 and 24.2 ms (within the noise); in the longer run of
 * every request measurement before them, 517 → 397 MB.
 */
export const EMBEDDED_DATABASE_NODE_FLAGS: readonly string[] = ['--no-wasm-tier-up', '--no-wasm-dynamic-tiering', '--max-semi-space-size=16'];

/**
 * The flags above that this process was started without, by name: on its command line or in
 * NODE_OPTIONS, with this value or another (`--max-semi-space-size=32` counts as given).
 */
export function missingEmbeddedDatabaseNodeFlags(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter(Boolean).map(flagName));
  return EMBEDDED_DATABASE_NODE_FLAGS.filter((flag) => !given.has(flagName(flag)));
}

/** V8 accepts `_` for `-` in its flags' names. */
function flagName(arg: string): string {
  return arg.split('=')[0]!.replace(/_/g, '-');
}
