import type { GroupHealthOut, GroupHealthQuery } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { METRICS_VERSION } from '../metrics/index.js';
import { groupHealth } from './group-health.definitions.js';
import { findGroups, findSpans, loadEngagement } from './classify.repo.js';
import { analyticsSettings, periodOf } from './classify.service.js';

/** Health of every group over [from, to) (group-health.definitions.ts). */
export async function communityGroupHealth(deps: Deps, communityId: string, q: GroupHealthQuery): Promise<GroupHealthOut> {
  const p = await periodOf(deps, communityId, q);
  const [{ settings }, groups, spans, events] = await Promise.all([
    analyticsSettings(deps, communityId),
    findGroups(deps.db, communityId),
    findSpans(deps.db, communityId),
    loadEngagement(deps.db, communityId, null, p.period.t1),
  ]);
  const out = groupHealth({
    t0: p.t0,
    t1: p.t1,
    periodDays: p.periodDays,
    dayOf: p.dayOf,
    groups: groups.map((g) => ({ ...g, capacity: Number(g.capacity), seated_count: Number(g.seated_count), created_at: Date.parse(g.created_at) })),
    spans: spans.map((s) => ({ ...s, joined_at: Date.parse(s.joined_at), left_at: s.left_at === null ? null : Date.parse(s.left_at) })),
    events,
    settings: settings.group_health,
  });
  return { metrics_version: METRICS_VERSION, community_id: communityId, time_zone: p.zone, period: p.period, groups: out };
}
