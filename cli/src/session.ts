import { loadConfig } from '../../server/src/config.js';
import { migrateToLatest, openDatabase } from '../../server/src/db/kysely.js';
import type { Deps } from '../../server/src/lib/deps.js';
import { ensureCommunityBySlug } from '../../server/src/modules/communities/index.js';

/** The community named by `--community`, created with defaults when missing (said on stderr). */
export async function communityFor(deps: Deps, slug: string) {
  const { community, created } = await ensureCommunityBySlug(deps, slug);
  if (created) console.error(`Created community "${community.slug}" with defaults (time zone ${community.time_zone}, currency ${community.currency}).`);
  return community;
}

/** Runs `fn` on the configured database, migrated to the latest schema, and closes it after. */
export async function withDatabase<T>(fn: (h: ReturnType<typeof openDatabase>, config: ReturnType<typeof loadConfig>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const handle = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(handle.db);
    return await fn(handle, config);
  } finally {
    await handle.close();
  }
}
