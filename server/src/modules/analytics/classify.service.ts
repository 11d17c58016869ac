import { DateTime } from 'luxon';
import { AnalyticsSettings, FAN_CRITERIA, type AnalyticsSettingsOut, type MembersOut, type MembersQuery } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { json } from '../../db/codecs.js';
import { invalid } from '../../lib/errors.js';
import { METRICS_VERSION, resolvePeriod } from '../metrics/index.js';
import { classifyMembers } from './classify.definitions.js';
import { refreshRollups } from '../rollups/index.js';
import { countPositiveReactionsGiven, findAnalyticsSettings, findMemberNames, findPaidOrderKinds, findReplyPairs, findSpans, saveAnalyticsSettings, sumMemberActivity } from './classify.repo.js';
import { csvRecord } from '../../lib/csv.js';


/** The community and its period [from, to) as instants, with the helpers the definitions need. */
export async function periodOf(deps: Deps, communityId: string, q: { from: string; to: string }) {
  const { community, zone, t0, t1 } = await resolvePeriod(deps, communityId, q);
  return {
    community,
    zone,
    t0: t0.toMillis(),
    t1: t1.toMillis(),
    periodDays: Math.round(t1.diff(t0, 'days').days),
    dayOf: (at: number) => DateTime.fromMillis(at, { zone }).toISODate()!,
    period: { from: q.from, to: q.to, t0: t0.toUTC().toISO()!, t1: t1.toUTC().toISO()! },
  };
}

export async function analyticsSettings(deps: Deps, communityId: string): Promise<AnalyticsSettingsOut> {
  const row = await findAnalyticsSettings(deps.db, communityId);
  return { community_id: communityId, settings: AnalyticsSettings.parse(row ? json(row.settings) : {}), updated_at: row?.updated_at ?? null };
}

/** Replaces the community's thresholds; omitted fields take their defaults. */
export async function putAnalyticsSettings(deps: Deps, communityId: string, settings: AnalyticsSettings): Promise<AnalyticsSettingsOut> {
  if (settings.fan_levels.fan_min_met > settings.fan_levels.true_fan_min_met)
    throw invalid('fan_levels.fan_min_met', 'must not exceed true_fan_min_met');
  await saveAnalyticsSettings(deps.db, communityId, settings, deps.clock.now().toISOString());
  return analyticsSettings(deps, communityId);
}

/** Member classification of [from, to) (classify.definitions.ts); `level`/`archetype` filter the list only. */
export async function classifyCommunityMembers(deps: Deps, communityId: string, q: Pick<MembersQuery, 'from' | 'to' | 'level' | 'archetype'>): Promise<MembersOut> {
  const p = await periodOf(deps, communityId, q);
  await refreshRollups(deps, communityId);
  const [{ settings }, names, spans, orders, activity, positiveGiven, replyPairs] = await Promise.all([
    analyticsSettings(deps, communityId),
    findMemberNames(deps.db, communityId),
    findSpans(deps.db, communityId),
    findPaidOrderKinds(deps.db, communityId),
    sumMemberActivity(deps.db, communityId, p.dayOf(p.t0), p.dayOf(p.t1)),
    countPositiveReactionsGiven(deps.db, communityId, p.period.t0, p.period.t1),
    findReplyPairs(deps.db, communityId, p.period.t0, p.period.t1),
  ]);
  const result = classifyMembers({
    t0: p.t0,
    t1: p.t1,
    periodDays: p.periodDays,
    names,
    spans: spans.map((s) => ({ ...s, joined_at: Date.parse(s.joined_at), left_at: s.left_at === null ? null : Date.parse(s.left_at) })),
    paidOrders: orders.map((o) => ({ member_id: o.member_id, product_id: o.product_id, paid_at: Date.parse(o.paid_at!), membership: o.type === 'membership' })),
    activity,
    positiveGiven,
    replyPairs,
    settings,
  });
  const members = result.members.filter((m) => (!q.level || m.level === q.level) && (!q.archetype || m.archetype === q.archetype));
  return { metrics_version: METRICS_VERSION, community_id: communityId, time_zone: p.zone, period: p.period, summary: result.summary, members };
}


/** One line per member: level, paid, every criterion's value (engagement_score among them), archetype and its reason. */
export function membersCsv(out: MembersOut): string {
  const head = ['member_id', 'display_name', 'level', 'criteria_met', 'paid', ...FAN_CRITERIA, 'archetype', 'archetype_reason'];
  const rows = out.members.map((m) => [
    m.member_id,
    m.display_name,
    m.level,
    m.criteria_met,
    m.paid,
    ...FAN_CRITERIA.map((k) => m.criteria.find((c) => c.key === k)!.value),
    m.archetype,
    m.archetype_reason,
  ]);
  return [head, ...rows].map(csvRecord).join('');
}
