import { expect, it } from 'vitest';
import { planCommunity } from '../../../../bench/analytics-gen.js';
import { rawPg, rawSqlite, writeFixture } from '../../../../bench/analytics-db.js';
import { createTestDb, describeEachDialect, signUp, startServer } from '../../test/harness.js';
import { computeMetrics } from './metrics.definitions.js';
import { communityMetrics, loadPeriodFacts } from './metrics.service.js';

/**
 * /metrics counts in SQL (countPeriodMetrics) while explain, the money formula and referrers build
 * the member sets in TypeScript (metricSets): the same definitions twice. Seeded synthetic
 * communities (stays with rejoins, trial → full course, renewing memberships, refunds) must give the
 * very same figures by both paths for every period below.
 */
const PERIODS = [
  { from: '2025-12-01', to: '2026-12-01' },
  { from: '2026-01-01', to: '2026-02-01' },
  { from: '2026-03-15', to: '2026-03-22' },
  { from: '2026-06-01', to: '2026-07-01' },
  { from: '2026-08-31', to: '2026-09-01' },
  { from: '2026-11-01', to: '2026-12-01' },
];

describeEachDialect('metrics: the SQL counts and the member sets agree', (dialect) => {
  for (const seed of [3, 11, 42]) {
    it(`on a seeded community (seed ${seed})`, async () => {
      const db = await createTestDb(dialect);
      const server = await startServer(db);
      try {
        const owner = await signUp(server.url, `owner${seed}@paths.test`);
        const plan = planCommunity({ scale: 0.0004, seed });
        const raw = dialect === 'postgres' ? await rawPg(db.url) : rawSqlite(db.handle.sqlite!);
        try {
          await writeFixture(raw, plan, owner.user.id, owner.workspaceId);
        } finally {
          await raw.close();
        }
        for (const q of PERIODS) {
          const viaSql = await communityMetrics(db.deps, plan.communityId, q);
          const { facts } = await loadPeriodFacts(db.deps, plan.communityId, q);
          const { metrics_version: _v, community_id: _c, time_zone: _z, currency: _cur, period: _p, ...figures } = viaSql;
          expect(figures, `${q.from} → ${q.to}`).toEqual(computeMetrics(facts));
        }
        // Not a vacuous agreement: the fixture has members, leaves, payers and renewals to count.
        const year = await communityMetrics(db.deps, plan.communityId, PERIODS[0]!);
        expect(year.joins).toBeGreaterThan(50);
        expect(year.leaves).toBeGreaterThan(0);
        expect(year.paying_members).toBeGreaterThan(0);
        expect(year.renewal_rate.denominator).toBeGreaterThan(0);
      } finally {
        await server.close();
        await db.close();
      }
    });
  }
});
