import type { Db } from '../../db/kysely.js';

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

