import type { Db } from '../../db/kysely.js';

/** Link visits in [from, to), with the link and channel they came through. */
export const findVisitsBetween = (db: Db, communityId: string, from: string, to: string) =>
  db
    .selectFrom('events')
    .select(['occurred_at', 'channel', 'entry_link_id'])
    .where('community_id', '=', communityId)
    .where('type', '=', 'link_visited')
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<', to)
    .execute();

/** Member events of one type before `to` (applied, onboarded). */
export const findMemberEventsBefore = (db: Db, communityId: string, type: string, to: string) =>
  db
    .selectFrom('events')
    .select(['member_id', 'occurred_at', 'entry_link_id'])
    .where('community_id', '=', communityId)
    .where('type', '=', type)
    .where('member_id', 'is not', null)
    .where('occurred_at', '<', to)
    .execute();

/** Every group span of the community, with its group and entry link. */
export const findSpansWithGroups = (db: Db, communityId: string) =>
  db.selectFrom('member_spans').select(['member_id', 'group_id', 'entry_link_id', 'joined_at', 'left_at', 'referrer_member_id']).where('community_id', '=', communityId).execute();

export const findLinkOwners = (db: Db, communityId: string) =>
  db.selectFrom('entry_links').select(['id', 'channel', 'owner_user_id']).where('community_id', '=', communityId).execute();

export const findGroupMonitors = (db: Db, communityId: string) =>
  db.selectFrom('groups').select(['id', 'name', 'monitor_user_id']).where('community_id', '=', communityId).execute();

export const findUserNames = (db: Db, ids: string[]) => (ids.length ? db.selectFrom('users').select(['id', 'name']).where('id', 'in', ids).execute() : Promise.resolve([]));
