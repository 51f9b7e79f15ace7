import { sandboxEncryptionKey } from '../app/sandbox-encryption-key';
import { runCli } from './cli';

// During secrets:rotate, the first Ctrl-C asks it to stop after the batch in progress (a batch is one
// transaction, so stopping at once would lose nothing either); a second one stops at once.
const stop = new AbortController();
const stoppable = process.argv[2] === 'secrets:rotate';
for (const signal of stoppable ? (['SIGINT', 'SIGTERM'] as const) : []) {
  process.on(signal, () => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write('Stopping after the current batch (again to stop at once)…\n');
    stop.abort();
  });
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Reading NAME=value lines from standard input; end with Ctrl-D.\n');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdin: readStdin,
  signal: stop.signal,
  configOptions: { sandboxEncryptionKey },
})
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
