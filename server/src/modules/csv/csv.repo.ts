import type { Db } from '../../db/kysely.js';

/** Members of the community after `afterId`, by id: one page of an export (keyset, so constant cost per page). */
export const membersPage = (db: Db, communityId: string, afterId: string, limit: number) =>
  db
    .selectFrom('members as m')
    .leftJoin('groups as g', 'g.id', 'm.current_group_id')
    .select(['m.id', 'm.external_id', 'm.display_name', 'm.nickname', 'm.status', 'm.profile', 'm.channel', 'm.current_group_id', 'm.first_joined_at', 'm.last_joined_at', 'm.left_at', 'm.created_at', 'g.name as group_name'])
    .where('m.community_id', '=', communityId)
    .where('m.id', '>', afterId)
    .orderBy('m.id')
    .limit(limit)
    .execute();

export const ordersPage = (db: Db, communityId: string, afterId: string, limit: number) =>
  db
    .selectFrom('orders as o')
    .innerJoin('members as m', 'm.id', 'o.member_id')
    .innerJoin('products as p', 'p.id', 'o.product_id')
    .select(['o.id', 'o.member_id', 'm.external_id', 'm.display_name', 'o.product_id', 'p.name as product_name', 'o.status', 'o.amount_minor', 'o.refunded_minor', 'o.currency', 'o.paid_at', 'o.source', 'o.created_at'])
    .where('o.community_id', '=', communityId)
    .where('o.id', '>', afterId)
    .orderBy('o.id')
    .limit(limit)
    .execute();
