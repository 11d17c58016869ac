import type { Insertable } from 'kysely';
import type { Db, Trx } from '../../db/kysely.js';
import type { OrdersTable } from '../../db/types.js';
import { sha256 } from '../../lib/hash.js';
import { newId, secretToken } from '../../lib/ids.js';
import { UNSTARTED_MEMBER } from '../../modules/members/index.js';

type Conn = Db | Trx;

/** The member with this external id, created (status `left`, never seated) on first sight. */
export async function ensureImportedMember(trx: Trx, communityId: string, externalId: string, at: string): Promise<string> {
  await trx
    .insertInto('members')
    .values({
      id: newId('mem'),
      community_id: communityId,
      external_id: externalId,
      display_name: externalId,
      status: 'left',
      profile: '{}',
      // Nobody holds this token: an imported buyer signs in only after joining through a link.
      token_hash: sha256(secretToken()),
      entry_link_id: null,
      channel: 'import',
      referrer_member_id: null,
      ...UNSTARTED_MEMBER,
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) => oc.columns(['community_id', 'external_id']).doNothing())
    .execute();
  const row = await trx.selectFrom('members').select('id').where('community_id', '=', communityId).where('external_id', '=', externalId).executeTakeFirstOrThrow();
  return row.id;
}

export const findProductIdById = (db: Conn, communityId: string, id: string) =>
  db.selectFrom('products').select('id').where('community_id', '=', communityId).where('id', '=', id).executeTakeFirst();

/** The oldest product of the community with exactly this name. */
export const findProductIdByName = (db: Conn, communityId: string, name: string) =>
  db.selectFrom('products').select('id').where('community_id', '=', communityId).where('name', '=', name).orderBy('created_at').orderBy('id').executeTakeFirst();

/** A product for sales made elsewhere: a one-off `course`, status `imported` (never for sale here). */
export async function insertImportedProduct(trx: Trx, p: { community_id: string; name: string; price_minor: number; currency: string; at: string }): Promise<string> {
  const id = newId('prd');
  await trx
    .insertInto('products')
    .values({ id, community_id: p.community_id, type: 'course', name: p.name, price_minor: p.price_minor, currency: p.currency, term: null, term_days: null, group_ids: '[]', status: 'imported', stock: null, created_at: p.at, updated_at: p.at })
    .execute();
  return id;
}

/** Inserts the imported order unless its row was imported before; true when inserted. */
export async function insertImportedOrder(trx: Trx, row: Insertable<OrdersTable>): Promise<boolean> {
  const r = await trx
    .insertInto('orders')
    .values(row)
    .onConflict((oc) => oc.columns(['community_id', 'import_key']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
}
