import { randomBytes } from 'node:crypto';

// Flex ids look like `fprice_01HT5GKN33F6E31WE2RF1GYYKH`: a prefix and a 26-character ULID.
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function newId(prefix: string): string {
  let time = Date.now();
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = CROCKFORD[time % 32] + head;
    time = Math.floor(time / 32);
  }
  let tail = '';
  for (const byte of randomBytes(16)) tail += CROCKFORD[byte % 32];
  return `${prefix}${head}${tail}`;
}

export function randomToken(length: number): string {
  let out = '';
  // 248 is the largest multiple of 62 below 256: rejecting above it keeps the alphabet unbiased.
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** `fwhsec_<base64 of 32 random bytes>`, the format of Flex webhook signing secrets. */
export function newSigningSecret(): string {
  return `fwhsec_${randomBytes(32).toString('base64')}`;
}
