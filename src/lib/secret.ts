import { inspect } from 'node:util';

/**
 * A decrypted secret in memory. It prints as "[redacted]" in logs, JSON and console output, so a
 * secret can only leave through an explicit `reveal()`.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return '[redacted]';
  }
}
