import { sandboxEncryptionKey } from '../app/sandbox-encryption-key';
import { runCli } from './cli';

runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  configOptions: { sandboxEncryptionKey },
})
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
