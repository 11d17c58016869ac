import type { Selectable } from 'kysely';
import type { ApiScope } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import type { ApiKeysTable } from '../../db/types.js';
import { encodeJson, json } from '../../db/codecs.js';
import { notFound } from '../../lib/errors.js';
import { newId, secretToken } from '../../lib/ids.js';
import { sha256 } from '../../lib/hash.js';

export const presentApiKey = (k: Selectable<ApiKeysTable>) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: json<ApiScope[]>(k.scopes),
  created_at: k.created_at,
  last_used_at: k.last_used_at,
  revoked_at: k.revoked_at,
});

/** The secret is returned once; only its hash is stored. */
export async function createApiKey(deps: Deps, communityId: string, name: string, scopes: ApiScope[], userId: string | null) {
  const secret = `yk_${secretToken()}`;
  const id = newId('key');
  await deps.db
    .insertInto('api_keys')
    .values({
      id,
      community_id: communityId,
      name,
      key_hash: sha256(secret),
      prefix: secret.slice(0, 10),
      scopes: encodeJson([...new Set(scopes)]),
      created_by_user_id: userId,
      created_at: deps.clock.now().toISOString(),
      last_used_at: null,
      revoked_at: null,
    })
    .execute();
  const key = await deps.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return { key: presentApiKey(key), secret };
}

export async function listApiKeys(deps: Deps, communityId: string) {
  const rows = await deps.db.selectFrom('api_keys').selectAll().where('community_id', '=', communityId).orderBy('created_at').execute();
  return rows.map(presentApiKey);
}

export async function revokeApiKey(deps: Deps, communityId: string, id: string) {
  const res = await deps.db
    .updateTable('api_keys')
    .set({ revoked_at: deps.clock.now().toISOString() })
    .where('community_id', '=', communityId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) throw notFound('api_key');
}
