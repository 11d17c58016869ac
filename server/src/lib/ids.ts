import { randomBytes } from 'node:crypto';

/**
 * Prefixed, time-ordered ids (`grp_0mf3k2p9x…`). The prefix tells a reader in a log what kind of
 * row an id names; the base-36 millisecond head keeps ids roughly insertion-ordered in indexes.
 */
export function newId(prefix: string): string {
  const time = Date.now().toString(36).padStart(9, '0');
  return `${prefix}_${time}${randomBytes(10).toString('hex')}`;
}

/** URL-safe random secret of `bytes` bytes of entropy. */
export function secretToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Short human-friendly code for entry links: no 0/O/1/I/L confusion. */
export function shortCode(length = 8): string {
  const alphabet = '23456789abcdefghjkmnpqrstuvwxyz';
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}
