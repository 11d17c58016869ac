import { z } from 'zod';
import { exampleOf, Name, Timestamp } from './common.js';

/** `read` covers every GET of the community, `write` every change; `events:write` only event ingest. */
export const ApiScope = z.enum(['read', 'write', 'events:write']);
export type ApiScope = z.infer<typeof ApiScope>;

export const CreateApiKey = z.strictObject({ name: Name, scopes: z.array(ApiScope).min(1) }).meta({ examples: [{ name: 'CRM 同步', scopes: ['read', 'events:write'] }] });
export const ApiKeyOut = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(ApiScope),
    created_at: Timestamp,
    last_used_at: Timestamp.nullable(),
    revoked_at: Timestamp.nullable(),
  })
  .meta({
    id: 'ApiKey',
    examples: [
      {
        id: 'key_0mx9qwy1t0000aa68dc16a47d7476',
        name: 'CRM 同步',
        prefix: 'yk_snFwhaR',
        scopes: ['read', 'events:write'],
        created_at: '2026-12-05T01:40:29.921Z',
        last_used_at: null,
        revoked_at: null,
      },
    ],
  });
export const ApiKeyCreatedOut = z.object({ key: ApiKeyOut, secret: z.string().describe('Shown once') }).meta({ examples: [{ key: exampleOf(ApiKeyOut), secret: 'yk_snFwhaRmSTxZ8fgTgsaOPiZepYzyAzTSXdxHEW6gn9c' }] });
