import type { ChurnRiskOut, ChurnRiskQuery } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { notFound } from '../../lib/errors.js';
import { findCommunityById } from '../communities/index.js';
import { localMidnight, METRICS_VERSION } from '../metrics/index.js';
import { churnRisk, declineWindows } from './churn.definitions.js';
import { findChurnMemberships, findMemberNames, findRenewalFailures, findSpans, summarizeEngagementBefore } from './classify.repo.js';
import { analyticsSettings } from './classify.service.js';

const msOrNull = (iso: string | null) => (iso === null ? null : Date.parse(iso));

/** Current members at risk at the end of `as_of` (churn.definitions.ts), highest score first. */
export async function communityChurnRisk(deps: Deps, communityId: string, q: ChurnRiskQuery): Promise<ChurnRiskOut> {
  const community = await findCommunityById(deps.db, communityId);
  if (!community) throw notFound('community');
  const at = localMidnight(q.as_of, community.time_zone, 'query.as_of').plus({ days: 1 });
  const atIso = at.toUTC().toISO()!;
  const { settings } = await analyticsSettings(deps, communityId);
  const w = declineWindows(at.toMillis(), settings.churn);
  const [names, spans, memberships, failures, engagement] = await Promise.all([
    findMemberNames(deps.db, communityId),
    findSpans(deps.db, communityId),
    findChurnMemberships(deps.db, communityId),
    findRenewalFailures(deps.db, communityId, atIso),
    summarizeEngagementBefore(deps.db, communityId, atIso, new Date(w.recent_from).toISOString(), new Date(w.previous_from).toISOString()),
  ]);
  const members = churnRisk({
    at: at.toMillis(),
    names,
    spans: spans.map((s) => ({ ...s, joined_at: Date.parse(s.joined_at), left_at: msOrNull(s.left_at) })),
    engagement,
    memberships: memberships.map((m) => ({
      ...m,
      created_at: Date.parse(m.created_at),
      expires_at: msOrNull(m.expires_at),
      revoked_at: msOrNull(m.revoked_at),
      ended_at: msOrNull(m.ended_at),
      cancelled_at: msOrNull(m.cancelled_at),
      past_due_since: msOrNull(m.past_due_since),
    })),
    failures,
    settings: settings.churn,
  });
  return { metrics_version: METRICS_VERSION, community_id: communityId, time_zone: community.time_zone, period: { as_of: q.as_of, at: atIso }, members };
}
