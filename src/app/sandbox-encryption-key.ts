import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The encryption key in sandbox mode, when ENCRYPTION_KEY is not set: made once and kept in
 * DATA_DIR (mode 0600), so restarts and the CLI can read what earlier runs stored. Production
 * configures ENCRYPTION_KEY; the app refuses to start without it once Shopify credentials are set.
 */
export function sandboxEncryptionKey(dataDir: string): Buffer {
  const file = path.resolve(dataDir, 'sandbox-encryption.key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  mkdirSync(path.dirname(file), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64'), { mode: 0o600 });
  return key;
}
