import { randomBytes } from 'node:crypto';

let lastMs = 0;
let seq = 0;

/**
 * Prefixed, time-ordered ids (`grp_0mf3k2p9x…`). The prefix tells a reader in a log what kind of
 * row an id names. The base-36 millisecond head and a per-process sequence within the millisecond
 * keep ids in creation order, so that `ORDER BY id` is creation order too (groups filled in order,
 * a seeded demo the same every time); 64 random bits follow. 29 characters after the prefix: an
 * order id stays within WeChat Pay's 32-character `out_trade_no` once its underscore is dropped.
 */
export function newId(prefix: string): string {
  const now = Date.now();
  // A clock that stepped back keeps counting from the last millisecond, so order holds.
  if (now > lastMs) {
    lastMs = now;
    seq = 0;
  } else {
    seq++;
  }
  const time = lastMs.toString(36).padStart(9, '0');
  return `${prefix}_${time}${seq.toString(36).padStart(4, '0')}${randomBytes(8).toString('hex')}`;
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
