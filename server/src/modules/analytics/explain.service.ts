import type { ExplainOut, ExplainQuery } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { loadPeriodFacts, metricSets, METRICS_VERSION } from '../metrics/index.js';
import { explainPart } from './explain.definitions.js';
import { findMemberLabels } from './explain.repo.js';
import { csvRecord } from '../../lib/csv.js';

const MONEY = new Set(['gmv', 'refunds']);

/** The members (and orders, refunds, memberships) behind one part of one figure of /metrics. */
export async function explainMetric(deps: Deps, communityId: string, q: ExplainQuery): Promise<ExplainOut> {
  const rowsOf = explainPart(q.metric, q.part);
  const { community, period, facts } = await loadPeriodFacts(deps, communityId, { from: q.from, to: q.to });
  const items = rowsOf(metricSets(facts));
  const labels = new Map((await findMemberLabels(deps.db, communityId, items.map((i) => i.member_id))).map((m) => [m.id, m]));
  const rows = items.map((i) => ({
    member_id: i.member_id,
    display_name: labels.get(i.member_id)?.display_name ?? null,
    external_id: labels.get(i.member_id)?.external_id ?? null,
    item: i.item,
    at: i.at === null ? null : new Date(i.at).toISOString(),
    amount_minor: i.amount_minor,
  }));
  const isMoney = MONEY.has(q.metric) || (q.metric === 'arppu' && q.part === 'numerator');
  return {
    metrics_version: METRICS_VERSION,
    community_id: communityId,
    time_zone: community.time_zone,
    currency: community.currency,
    period,
    metric: q.metric,
    part: q.part,
    count: rows.length,
    amount_minor: isMoney ? rows.reduce((s, r) => s + (r.amount_minor ?? 0), 0) : null,
    rows,
  };
}

const CSV_COLUMNS = ['member_id', 'display_name', 'external_id', 'item', 'at', 'amount_minor'] as const;

/** CSV of explain rows with a header line (csvRecord: RFC 4180, formula cells guarded). */
export function explainCsv(out: ExplainOut): string {
  return csvRecord(CSV_COLUMNS) + out.rows.map((r) => csvRecord(CSV_COLUMNS.map((c) => r[c]))).join('');
}
