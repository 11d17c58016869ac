/**
 * Times GET …/metrics (communityMetrics) and the KPI dashboard (communityKpis) for one month on a
 * synthetic community (bench/analytics-gen.ts at a small scale; no events), on SQLite and PostgreSQL.
 * Usage: npx tsx bench/metrics-counts.ts [scale=0.05] [runs=7] [out.json]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../server/src/app.js';
import { migrateToLatest, openDatabase } from '../server/src/db/kysely.js';
import { systemClock } from '../server/src/lib/clock.js';
import type { Deps } from '../server/src/lib/deps.js';
import { communityMetrics } from '../server/src/modules/metrics/index.js';
import { communityKpis } from '../server/src/modules/analytics/index.js';
import { planCommunity } from './analytics-gen.js';
import { rawPg, rawSqlite, startBenchPg, writeFixture } from './analytics-db.js';
import { BENCH_CONFIG } from './config.js';

const scale = Number(process.argv[2] ?? 0.05);
const runs = Number(process.argv[3] ?? 7);
const out = process.argv[4];
const plan = planCommunity({ scale, seed: 1 });
const results: Record<string, unknown> = {};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const dialect of ['sqlite', 'postgres'] as const) {
  const dir = mkdtempSync(join(tmpdir(), 'yt-mc-'));
  const cluster = dialect === 'postgres' ? await startBenchPg() : null;
  const handle = openDatabase(cluster ? cluster.url : join(dir, 'b.db'));
  const raw = cluster ? await rawPg(cluster.url) : rawSqlite(handle.sqlite!);
  try {
    await migrateToLatest(handle.db);
    const deps: Deps = { db: handle.db, clock: systemClock, config: BENCH_CONFIG };
    const app = await buildApp({ database: handle, config: { ...BENCH_CONFIG, trustProxy: false, logLevel: 'warn' }, logger: false });
    const signup = await app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email: 'owner@bench.test', password: 'correct horse battery', name: 'Owner' } });
    const body = signup.json<{ user: { id: string }; workspaces: { id: string }[] }>();
    const fx = await writeFixture(raw, plan, body.user.id, body.workspaces[0]!.id);
    console.log(`[${dialect}] ${fx.members} members, ${fx.spans} spans, ${fx.orders} orders, ${fx.memberships} memberships, ${fx.refunds} refunds`);
    const q = { from: '2026-06-01', to: '2026-07-01' };
    const time = async (f: () => Promise<unknown>) => {
      const ms: number[] = [];
      let last: unknown;
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        last = await f();
        ms.push(performance.now() - t);
      }
      return { p50: Math.round(median(ms)), min: Math.round(Math.min(...ms)), last };
    };
    const metrics = await time(() => communityMetrics(deps, plan.communityId, q));
    const kpis = await time(() => communityKpis(deps, plan.communityId, q));
    console.log(`[${dialect}] communityMetrics p50 ${metrics.p50} ms (min ${metrics.min}); communityKpis p50 ${kpis.p50} ms (min ${kpis.min})`);
    results[dialect] = { metrics: metrics.last, kpis: kpis.last, ms: { metrics: metrics.p50, kpis: kpis.p50 } };
    await app.close();
  } finally {
    await raw.close();
    await handle.close();
    cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
if (out) writeFileSync(out, JSON.stringify(results, null, 1));
