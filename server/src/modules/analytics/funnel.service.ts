import type { FunnelOut, FunnelQuery } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { findPaidOrders, findTrialProducts, METRICS_VERSION, resolvePeriod, TRIAL_CONVERSION_DAYS } from '../metrics/index.js';
import { entrantCandidates, findEngagementEvents } from './cohorts.repo.js';
import { computeFunnel, computeTrialFunnel, withRates, type FunnelFacts } from './funnel.definitions.js';
import { findGroupStaff, findLinkOwners, findSpansWithGroups, findUserNames, findVisitsBetween } from './common.repo.js';
import { findMemberEventsBefore } from './funnel.repo.js';

const DAY = 86_400_000;
const ms = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();

/** Default conversion window of the acquisition funnel, in days. */
export const FUNNEL_WINDOW_DAYS = 14;

/** The funnel of people entering in [from, to) (see funnel.definitions.ts). */
export async function communityFunnel(deps: Deps, communityId: string, q: FunnelQuery): Promise<FunnelOut> {
  const { zone, ...period } = await resolvePeriod(deps, communityId, q);
  const t0 = period.t0.toMillis();
  const t1 = period.t1.toMillis();
  const preset = q.preset ?? null;
  const windowDays = q.window_days ?? (preset === 'trial' ? TRIAL_CONVERSION_DAYS : FUNNEL_WINDOW_DAYS);
  const db = deps.db;

  const [visits, applications, onboarded, spans, orders, engagement, links, groups, trials] = await Promise.all([
    preset ? Promise.resolve([]) : findVisitsBetween(db, communityId, iso(t0), iso(t1)),
    findMemberEventsBefore(db, communityId, 'applied', iso(t1)),
    preset ? Promise.resolve([]) : findMemberEventsBefore(db, communityId, 'onboarded', iso(t1 + windowDays * DAY + 1)),
    findSpansWithGroups(db, communityId),
    findPaidOrders(db, communityId),
    findEngagementEvents(db, communityId, iso(t0), iso(t1 + windowDays * DAY + 1), entrantCandidates(db, communityId, preset, iso(t0), iso(t1))),
    findLinkOwners(db, communityId),
    findGroupStaff(db, communityId),
    findTrialProducts(db, communityId),
  ]);
  const facts: FunnelFacts = {
    t0,
    t1,
    windowDays,
    split: q.split,
    visits: visits.map((v) => ({ occurred_at: ms(v.occurred_at), channel: v.channel, entry_link_id: v.entry_link_id })),
    applications: applications.map((a) => ({ member_id: a.member_id!, occurred_at: ms(a.occurred_at), entry_link_id: a.entry_link_id })),
    spans: spans.map((s) => ({ ...s, joined_at: ms(s.joined_at), left_at: s.left_at === null ? null : ms(s.left_at) })),
    paidOrders: orders.map((o) => ({ id: o.id, member_id: o.member_id, product_id: o.product_id, amount_minor: Number(o.amount_minor), currency: o.currency, paid_at: ms(o.paid_at!) })),
    onboarded: onboarded.map((o) => ({ member_id: o.member_id!, occurred_at: ms(o.occurred_at) })),
    engagement: engagement.map((e) => ({ member_id: e.member_id!, occurred_at: ms(e.occurred_at) })),
    links: new Map(links.map((l) => [l.id, { channel: l.channel, owner_user_id: l.owner_user_id }])),
    groups: new Map(groups.map((g) => [g.id, { monitor_user_id: g.monitor_user_id }])),
    trialOf: new Map(trials.map((t) => [t.id, t.trial_of_product_id!])),
  };
  const r = preset === 'trial' ? computeTrialFunnel(facts) : computeFunnel(facts);

  let split: FunnelOut['split'] = null;
  if (q.split && r.rows) {
    const names = new Map<string, string>();
    if (q.split === 'group') for (const g of groups) names.set(g.id, g.name);
    if (q.split === 'staff') {
      const ids = r.rows.map((row) => row.key).filter((k): k is string => k !== null);
      for (const u of await findUserNames(db, ids)) names.set(u.id, u.name);
    }
    split = { by: q.split, rows: r.rows.map((row) => ({ key: row.key, label: row.key === null ? 'none' : (names.get(row.key) ?? row.key), steps: withRates(row.steps) })) };
  }
  return {
    metrics_version: METRICS_VERSION,
    community_id: communityId,
    time_zone: zone,
    period: { from: q.from, to: q.to, t0: iso(t0), t1: iso(t1) },
    preset,
    window_days: windowDays,
    steps: withRates(r.steps),
    split,
  };
}
