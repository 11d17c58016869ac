import type { Threshold } from '../../../../contracts/src/index.js';
import type { Db, Trx } from '../../db/kysely.js';
import { AppError } from '../../lib/errors.js';

/** Products and groups named by a threshold must belong to the same community. */
export async function assertThresholdRefs(db: Db | Trx, communityId: string, t: Threshold, field: string) {
  for (const [i, c] of t.criteria.entries()) {
    const ids = c.type === 'paid' ? c.product_ids : c.type === 'invitation' ? (c.invitee_group_ids ?? []) : [];
    if (!ids.length) continue;
    const table = c.type === 'paid' ? 'products' : 'groups';
    const found = await db.selectFrom(table).select('id').where('community_id', '=', communityId).where('id', 'in', ids).execute();
    if (found.length !== new Set(ids).size) {
      const key = c.type === 'paid' ? 'product_ids' : 'invitee_group_ids';
      throw new AppError('validation_failed', 400, `Unknown ${table} in threshold`, [
        { field: `${field ? `${field}.` : ''}criteria.${i}.${key}`, message: `every id must name a ${table === 'products' ? 'product' : 'group'} of this community` },
      ]);
    }
  }
}
