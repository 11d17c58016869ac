import { z } from 'zod';
import { Name, Timestamp } from './common.js';

/** `read` covers every GET of the community, `write` every change; `events:write` only event ingest. */
export const ApiScope = z.enum(['read', 'write', 'events:write']);
export type ApiScope = z.infer<typeof ApiScope>;

export const CreateApiKey = z.strictObject({ name: Name, scopes: z.array(ApiScope).min(1) });
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
  .meta({ id: 'ApiKey' });
export const ApiKeyCreatedOut = z.object({ key: ApiKeyOut, secret: z.string().describe('Shown once') });
