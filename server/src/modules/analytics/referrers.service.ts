import type { ReferrersOut, ReferrersQuery } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { computeMetrics, loadPeriodFacts, METRICS_VERSION } from '../metrics/index.js';
import { findMemberLabels } from './explain.repo.js';
import { referrerLeague } from './referrers.definitions.js';
import { findGroupStaff, findLinkOwners, findSpansWithGroups, findUserNames, findVisitsBetween } from './common.repo.js';
import { findSucceededRefundsBefore } from './referrers.repo.js';

const ms = (iso: string) => Date.parse(iso);

/** The referrer and KOL league of a period (referrers.definitions.ts). */
export async function referrers(deps: Deps, communityId: string, q: ReferrersQuery): Promise<ReferrersOut> {
  const { community, period, facts } = await loadPeriodFacts(deps, communityId, q);
  const [spans, visits, refunds, links, groups] = await Promise.all([
    findSpansWithGroups(deps.db, communityId),
    findVisitsBetween(deps.db, communityId, period.t0, period.t1),
    findSucceededRefundsBefore(deps.db, communityId, period.t1),
    findLinkOwners(deps.db, communityId),
    findGroupStaff(deps.db, communityId),
  ]);
  const rows = referrerLeague({
    t0: facts.t0,
    t1: facts.t1,
    currency: facts.currency,
    spans: spans.map((s) => ({ ...s, joined_at: ms(s.joined_at), left_at: s.left_at === null ? null : ms(s.left_at) })),
    paidOrders: facts.paidOrders,
    refunds: refunds.map((r) => ({ member_id: r.member_id, amount_minor: Number(r.amount_minor), currency: r.currency, at: ms(r.settled_at!) })),
    visits,
    linkOwner: new Map(links.map((l) => [l.id, l.owner_user_id])),
    groupStaff: new Map(groups.map((g) => [g.id, { leader_user_id: g.leader_user_id, monitor_user_id: g.monitor_user_id }])),
  });
  const [members, users] = await Promise.all([
    findMemberLabels(deps.db, communityId, rows.filter((r) => r.kind === 'member').map((r) => r.id)),
    findUserNames(deps.db, rows.filter((r) => r.kind === 'staff').map((r) => r.id)),
  ]);
  const names = new Map<string, string>([...members.map((m) => [`member:${m.id}`, m.display_name] as const), ...users.map((u) => [`staff:${u.id}`, u.name] as const)]);
  return {
    metrics_version: METRICS_VERSION,
    community_id: communityId,
    time_zone: community.time_zone,
    currency: community.currency,
    period,
    community_k_factor: computeMetrics(facts).k_factor,
    referrers: rows.map((r) => ({ ...r, name: names.get(`${r.kind}:${r.id}`) ?? '' })),
  };
}
