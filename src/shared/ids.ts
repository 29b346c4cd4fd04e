import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Unguessable prefixed id, e.g. `pay_3kTq...` (24 base62 chars, ~142 bits). */
export function newId(prefix: 'pay' | 'ref' | 'evt' | 'req' | 'mock', length = 24): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i += 1) out += ALPHABET[bytes[i] % ALPHABET.length];
  return `${prefix}_${out}`;
}
