import type { Db } from '../../db/kysely.js';

/** Reads more than one analytics view needs: spans, link visits, link and group staff, staff names. */

/** Every group span of the community (its group, entry link and referrer), in creation order. */
export const findSpansWithGroups = (db: Db, communityId: string) =>
  db
    .selectFrom('member_spans')
    .select(['member_id', 'group_id', 'entry_link_id', 'referrer_member_id', 'joined_at', 'left_at'])
    .where('community_id', '=', communityId)
    .orderBy('id')
    .execute();

/** Link visits in [from, to), with the link, channel and member referrer they came through. */
export const findVisitsBetween = (db: Db, communityId: string, from: string, to: string) =>
  db
    .selectFrom('events')
    .select(['occurred_at', 'channel', 'entry_link_id', 'referrer_member_id'])
    .where('community_id', '=', communityId)
    .where('type', '=', 'link_visited')
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<', to)
    .execute();

export const findLinkOwners = (db: Db, communityId: string) =>
  db.selectFrom('entry_links').select(['id', 'channel', 'owner_user_id']).where('community_id', '=', communityId).execute();

export const findGroupStaff = (db: Db, communityId: string) =>
  db.selectFrom('groups').select(['id', 'name', 'leader_user_id', 'monitor_user_id']).where('community_id', '=', communityId).execute();

export const findUserNames = (db: Db, ids: string[]) => (ids.length ? db.selectFrom('users').select(['id', 'name']).where('id', 'in', ids).execute() : Promise.resolve([]));
