/**
 * The analytics layer as the bench calls it: one place that names the service functions measured,
 * so the bench itself does not change when they do. A function that is `null` is not measured (the
 * report says so).
 */
import type { Deps } from '../server/src/lib/deps.js';
import { clearKpiCache, communityCohorts, communityKpis, rebuildRollups, refreshRollups } from '../server/src/modules/analytics/index.js';

export interface AnalyticsLayer {
  /** Brings the rollups up to date with the events appended since the last call. */
  refresh: ((deps: Deps, communityId: string) => Promise<unknown>) | null;
  /** Recomputes every rollup of the community from the event log. */
  rebuild: ((deps: Deps, communityId: string, onProgress: (daysDone: number, daysTotal: number) => void) => Promise<unknown>) | null;
  /** The KPI dashboard for [from, to) local dates (with its comparison period). */
  kpis: ((deps: Deps, communityId: string, from: string, to: string) => Promise<unknown>) | null;
  /** Forgets dashboards answered before, so the next call computes afresh. */
  clearKpis: (() => void) | null;
  /** The retention cohort matrix by join month for [from, to). */
  cohorts: ((deps: Deps, communityId: string, from: string, to: string) => Promise<unknown>) | null;
  /** Path and query of the KPI dashboard route, for the HTTP measurement. */
  kpisPath: ((communityId: string, from: string, to: string) => string) | null;
}

export const layer: AnalyticsLayer = {
  refresh: (deps, communityId) => refreshRollups(deps, communityId),
  rebuild: (deps, communityId, onProgress) => rebuildRollups(deps, { communityId, onProgress: (p) => onProgress(p.days_done, p.days_total) }),
  kpis: (deps, communityId, from, to) => communityKpis(deps, communityId, { from, to }),
  clearKpis: clearKpiCache,
  cohorts: (deps, communityId, from, to) => communityCohorts(deps, communityId, { from, to, granularity: 'month' }),
  kpisPath: (communityId, from, to) => `/api/v1/communities/${communityId}/analytics/kpis?from=${from}&to=${to}`,
};
