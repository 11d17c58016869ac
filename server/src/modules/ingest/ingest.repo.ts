import { sql } from 'kysely';
import { isPostgres, type Trx } from '../../db/kysely.js';

/**
 * Serializes ingest batches of one community on PostgreSQL (SQLite has one writer anyway): two
 * batches naming the same new member or moving the same member's spans would otherwise both read
 * "absent" and write twice. A transaction-scoped advisory lock, so nothing else waits on it.
 */
export async function lockCommunityIngest(trx: Trx, communityId: string): Promise<void> {
  if (isPostgres(trx)) await sql`SELECT pg_advisory_xact_lock(hashtext(${`ingest:${communityId}`}))`.execute(trx);
}
