import type { GroupHealthOut, GroupHealthQuery } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { METRICS_VERSION } from '../metrics/index.js';
import { groupHealth } from './group-health.definitions.js';
import { refreshRollups } from '../rollups/index.js';
import { findActiveGroupMembers, findGroups, findLastEngagementByGroup, findSpans, sumGroupActivity } from './classify.repo.js';
import { analyticsSettings, periodOf } from './classify.service.js';

/** Health of every group over [from, to) (group-health.definitions.ts). */
export async function communityGroupHealth(deps: Deps, communityId: string, q: GroupHealthQuery): Promise<GroupHealthOut> {
  const p = await periodOf(deps, communityId, q);
  await refreshRollups(deps, communityId);
  const [fromDay, toDay] = [p.dayOf(p.t0), p.dayOf(p.t1)];
  const [{ settings }, groups, spans, activity, activeMembers, lastEngagement] = await Promise.all([
    analyticsSettings(deps, communityId),
    findGroups(deps.db, communityId),
    findSpans(deps.db, communityId),
    sumGroupActivity(deps.db, communityId, fromDay, toDay),
    findActiveGroupMembers(deps.db, communityId, fromDay, toDay),
    findLastEngagementByGroup(deps.db, communityId, p.period.t1),
  ]);
  const out = groupHealth({
    t0: p.t0,
    t1: p.t1,
    periodDays: p.periodDays,
    groups: groups.map((g) => ({ ...g, capacity: Number(g.capacity), seated_count: Number(g.seated_count), created_at: Date.parse(g.created_at) })),
    spans: spans.map((s) => ({ ...s, joined_at: Date.parse(s.joined_at), left_at: s.left_at === null ? null : Date.parse(s.left_at) })),
    activity,
    activeMembers,
    lastEngagement,
    settings: settings.group_health,
  });
  return { metrics_version: METRICS_VERSION, community_id: communityId, time_zone: p.zone, period: p.period, groups: out };
}
