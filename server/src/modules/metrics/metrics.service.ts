import { DateTime } from 'luxon';
import type { MetricsOut, MetricsQuery } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { invalid, notFound } from '../../lib/errors.js';
import { findCommunityById } from '../communities/index.js';
import { findActiveMemberIds, refreshRollups, type DaySetReader } from '../rollups/index.js';
import { METRICS_VERSION, metricsFromCounts, TRIAL_CONVERSION_DAYS, type MetricsFacts } from './metrics.definitions.js';
import { countPeriodMetrics, findCommunitySpans, findOrderMemberships, findPaidOrders, findRefundsBetween, findTrialProducts } from './metrics.repo.js';

const ms = (iso: string) => Date.parse(iso);
const msOrNull = (iso: string | null) => (iso === null ? null : Date.parse(iso));

/** Local midnight of a YYYY-MM-DD date in a time zone, or a field error naming `field`. */
export function localMidnight(date: string, zone: string, field: string): DateTime {
  const d = DateTime.fromISO(date, { zone });
  if (!d.isValid) throw invalid(field, `${date} is not a calendar date`);
  return d.startOf('day');
}

/** A community's period [from, to) resolved in its time zone, and the raw facts the definitions read. */
export interface PeriodFacts {
  community: { id: string; time_zone: string; currency: string };
  period: MetricsOut['period'];
  facts: MetricsFacts;
}

/** The community and its period [from, to) as instants (local midnights in its time zone), or a 404 / field error. */
export async function resolvePeriod(deps: Deps, communityId: string, q: { from: string; to: string }) {
  const community = await findCommunityById(deps.db, communityId);
  if (!community) throw notFound('community');
  const zone = community.time_zone;
  const t0 = localMidnight(q.from, zone, 'query.from');
  const t1 = localMidnight(q.to, zone, 'query.to');
  if (t1 <= t0) throw invalid('query.to', 'to must be a later date than from');
  return { community, zone, t0, t1, from: t0.toUTC().toISO()!, to: t1.toUTC().toISO()! };
}

/**
 * Loads the facts of one period for the metric definitions (metrics.definitions.ts). Every list
 * built on the metrics (their explain lists, the money formula, the referrer league) starts here,
 * so they share one reading of the raw rows. The metrics themselves (communityMetrics) are counted
 * in SQL to the same definitions (countPeriodMetrics) instead of loading every row.
 */
export async function loadPeriodFacts(deps: Deps, communityId: string, q: MetricsQuery): Promise<PeriodFacts> {
  const { community, zone, t0, t1, from, to } = await resolvePeriod(deps, communityId, q);

  // Engagement comes from the daily rollups: the period's local days hold exactly its events.
  const activeMembers = async () => {
    await refreshRollups(deps, communityId);
    return findActiveMemberIds(deps.db, communityId, t0.toISODate()!, t1.toISODate()!);
  };
  const [spans, orders, refunds, engaged, memberships, trials] = await Promise.all([
    findCommunitySpans(deps.db, communityId),
    findPaidOrders(deps.db, communityId),
    findRefundsBetween(deps.db, communityId, from, to),
    activeMembers(),
    findOrderMemberships(deps.db, communityId),
    findTrialProducts(deps.db, communityId),
  ]);
  return {
    community: { id: communityId, time_zone: zone, currency: community.currency },
    period: { from: q.from, to: q.to, t0: from, t1: to },
    facts: {
      t0: t0.toMillis(),
      t1: t1.toMillis(),
      currency: community.currency,
      graceDays: community.renewal_grace_days,
      spans: spans.map((s) => ({ member_id: s.member_id, joined_at: ms(s.joined_at), left_at: msOrNull(s.left_at), referrer_member_id: s.referrer_member_id })),
      paidOrders: orders.map((o) => ({ id: o.id, member_id: o.member_id, product_id: o.product_id, amount_minor: Number(o.amount_minor), currency: o.currency, paid_at: ms(o.paid_at!) })),
      refunds: refunds.map((r) => ({ id: r.id, order_id: r.order_id, member_id: r.member_id, amount_minor: Number(r.amount_minor), currency: r.currency, created_at: ms(r.settled_at!) })),
      engaged,
      memberships: memberships.map((m) => ({ id: m.id, member_id: m.member_id, product_id: m.product_id, created_at: ms(m.created_at), expires_at: msOrNull(m.expires_at), revoked_at: msOrNull(m.revoked_at) })),
      trialOf: new Map(trials.map((t) => [t.id, t.trial_of_product_id!])),
      trialWindowDays: TRIAL_CONVERSION_DAYS,
    },
  };
}

/**
 * The metrics of one community over [from, to) in its time zone (see metrics.definitions.ts),
 * counted in SQL (countPeriodMetrics): no row of the community is loaded.
 */
export async function communityMetrics(
  deps: Deps,
  communityId: string,
  q: MetricsQuery,
  opts: { sets?: DaySetReader; refreshed?: boolean } = {},
): Promise<MetricsOut> {
  const { community, zone, t0, t1, from, to } = await resolvePeriod(deps, communityId, q);
  // Engagement comes from the daily rollups: the period's local days hold exactly its events. A
  // caller that has just refreshed them (the KPI dashboard) says so.
  if (!opts.refreshed) await refreshRollups(deps, communityId);
  const [counts, trials] = await Promise.all([
    countPeriodMetrics(deps.db, communityId, {
      t0: from,
      t1: to,
      fromDay: t0.toISODate()!,
      toDay: t1.toISODate()!,
      timeZone: zone,
    }, opts.sets),
    findTrialProducts(deps.db, communityId),
  ]);
  return {
    metrics_version: METRICS_VERSION,
    community_id: communityId,
    time_zone: zone,
    currency: community.currency,
    period: { from: q.from, to: q.to, t0: from, t1: to },
    ...metricsFromCounts(counts, community.currency, trials.length > 0),
  };
}
