import type { Db } from '../../db/kysely.js';
import { ENGAGEMENT_TYPES } from '../../../../contracts/src/index.js';

/**
 * Engagement (ENGAGEMENT_TYPES events with a member) in [from, to): the one place cohorts,
 * lifecycle and funnels read engagement from, so it can move to the daily rollups.
 */
export const findEngagementEvents = (db: Db, communityId: string, from: string, to: string) =>
  db
    .selectFrom('events')
    .select(['member_id', 'occurred_at'])
    .where('community_id', '=', communityId)
    .where('type', 'in', [...ENGAGEMENT_TYPES])
    .where('member_id', 'is not', null)
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<', to)
    .execute();
