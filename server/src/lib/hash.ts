import { createHash } from 'node:crypto';

/** Lookup hash for bearer secrets (session tokens, API keys, member tokens): never store the secret. */
export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
