/**
 * Foundation bench: member lookup by id over HTTP against a bare Fastify + better-sqlite3 baseline
 * measured in the same run on the same file, and the join-routing rate through entry links (over
 * HTTP and directly through the service) on SQLite.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateToLatest, openDatabase } from '../server/src/db/kysely.js';
import { systemClock } from '../server/src/lib/clock.js';
import type { Deps } from '../server/src/lib/deps.js';
import { joinThroughLink } from '../server/src/modules/members/index.js';
import { BENCH_CONFIG, memberPath } from './config.js';
import { SetupClient, load, median, startChildServer, type ChildServer, type LoadFigures } from './load.js';
import { seedMembers } from './seed.js';
import { rawJoinBaseline } from './join-baseline.js';

export interface FoundationOptions {
  members: number;
  connections: number;
  /** Seconds per measured lookup run; each server runs `rounds` times, alternating. */
  lookupDurationS: number;
  warmupS: number;
  rounds: number;
  joinHttpDurationS: number;
  serviceJoins: number;
  keepDb: boolean;
  log: (line: string) => void;
}

export interface LookupSeries {
  runs: LoadFigures[];
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export interface FoundationResult {
  setup: { members: number; groups: number; seedMs: number; dbBytes: number; dbFile: string | null; sqliteSynchronous: string };
  lookup: {
    baseline: LookupSeries;
    yutang: LookupSeries;
    /** Yutang rps / baseline rps, medians over the rounds. */
    rpsRatio: number;
    /** Per round, yutang rps / baseline rps of the adjacent runs. */
    roundRatios: number[];
    /** Yutang p99 / baseline p99 (above 1 means slower). */
    p99Ratio: number;
  };
  joins: {
    http: { joinsPerS: number; p99Ms: number; joins: number; non2xx: number; durationS: number; vsRawJoin: number; groupsOpened: number };
    service: { joinsPerS: number; joins: number; ms: number; meanMs: number; p99Ms: number; vsRawJoin: number; groupsOpened: number };
    /** Raw better-sqlite3 transactions writing the same rows: the floor a join is compared to. */
    rawBaseline: { joinsPerS: number; joins: number };
  };
}

const summarize = (runs: LoadFigures[]): LookupSeries => ({
  runs,
  rps: median(runs.map((r) => r.rps)),
  p50Ms: median(runs.map((r) => r.latencyP50Ms)),
  p99Ms: median(runs.map((r) => r.latencyP99Ms)),
});

function assertClean(what: string, f: LoadFigures) {
  if (f.errors || f.non2xx) throw new Error(`${what}: ${f.errors} transport errors and ${f.non2xx} non-2xx responses out of ${f.requests}`);
}

/** A random order over the seeded members, cycled through by every connection of every run. */
function lookupCycle(communityId: string, memberIds: string[]) {
  const paths = memberIds.map((id) => memberPath(communityId, id));
  for (let i = paths.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [paths[i], paths[j]] = [paths[j]!, paths[i]!];
  }
  let i = 0;
  return () => ({ path: paths[i++ % paths.length]! });
}

export async function runFoundation(o: FoundationOptions): Promise<FoundationResult> {
  const dir = mkdtempSync(join(tmpdir(), 'yutang-bench-'));
  const file = join(dir, 'bench.db');
  const handle = openDatabase(file);
  const servers: ChildServer[] = [];
  try {
    await migrateToLatest(handle.db);
    const sqlite = handle.sqlite!;
    const synchronous = String(sqlite.pragma('synchronous', { simple: true }));

    // ── Setup through the API: owner account, community, groups, entry links, an API key.
    const yutang = await startChildServer('yutang', file);
    servers.push(yutang);
    const owner = new SetupClient(yutang.url);
    const signup = await owner.call<{ user: { id: string }; workspaces: { id: string }[] }>('POST', '/api/v1/auth/signup', { email: 'owner@bench.test', password: 'correct horse battery', name: 'Owner' }, 201);
    const community = await owner.call<{ id: string }>(
      'POST',
      `/api/v1/workspaces/${signup.workspaces[0]!.id}/communities`,
      { name: '跑步俱乐部', slug: 'runners', type: 'interest', value_proposition: '每周一起跑步', rules: { nickname_format: '城市-行业-姓名' } },
      201,
    );
    const cid = community.id;
    const group = (name: string) => owner.call<{ id: string }>('POST', `/api/v1/communities/${cid}/groups`, { name, capacity: 500, tags: { city: '上海' } }, 201);
    const link = (name: string, channel: string, groupIds: string[]) =>
      owner.call<{ id: string; code: string }>('POST', `/api/v1/communities/${cid}/links`, { name, channel, group_ids: groupIds }, 201);
    const seedGroup = await group('成员群');
    const rawGroup = await owner.call<{ id: string }>('POST', `/api/v1/communities/${cid}/groups`, { name: '基线群', capacity: 100_000 }, 201);
    const seedLink = await link('公众号菜单', '公众号', [seedGroup.id]);
    // Joins route through pools of 500-seat groups that overflow into new groups, as in production.
    const httpLink = await link('朋友圈海报', '朋友圈', [(await group('海报群')).id, (await group('海报群(2)')).id]);
    const serviceLink = await link('合作伙伴', '合作伙伴', [(await group('伙伴群')).id, (await group('伙伴群(2)')).id]);

    // ── Seed the members the lookups hit.
    const seed = seedMembers(sqlite, { communityId: cid, linkId: seedLink.id, channel: '公众号', firstGroupId: seedGroup.id, members: o.members, groupCapacity: 500 });
    o.log(`seeded ${o.members} members in ${seed.groupIds.length} groups in ${Math.round(seed.ms)} ms`);

    const bare = await startChildServer('bare', file);
    servers.push(bare);
    const sample = seed.memberIds[Math.floor(seed.memberIds.length / 2)]!;
    const fromYutang = await owner.call<{ id: string; status: string }>('GET', memberPath(cid, sample));
    const fromBare = await new SetupClient(bare.url).call<{ id: string }>('GET', memberPath(cid, sample));
    if (fromYutang.id !== sample || fromBare.id !== sample) throw new Error('lookup check failed: the servers do not return the seeded member');

    // Both servers get the same requests, session cookie included (the baseline ignores it).
    const headers = { cookie: owner.cookieHeader };
    const lookupRun = (server: ChildServer, durationS: number, h: Record<string, string> = headers) =>
      load({ url: server.url, connections: o.connections, durationS, headers: h, next: lookupCycle(cid, seed.memberIds) });

    // ── Lookups: warm both up, then alternate so that drift hits both alike.
    o.log(`warming up (${o.warmupS} s each)`);
    assertClean('baseline warm-up', await lookupRun(bare, o.warmupS));
    assertClean('yutang warm-up', await lookupRun(yutang, o.warmupS));
    const baseRuns: LoadFigures[] = [];
    const ytRuns: LoadFigures[] = [];
    for (let r = 1; r <= o.rounds; r++) {
      const b = await lookupRun(bare, o.lookupDurationS);
      assertClean('baseline lookup', b);
      baseRuns.push(b);
      o.log(`round ${r}/${o.rounds} baseline: ${b.rps.toFixed(0)} req/s, p99 ${b.latencyP99Ms} ms`);
      const y = await lookupRun(yutang, o.lookupDurationS);
      assertClean('yutang lookup', y);
      ytRuns.push(y);
      o.log(`round ${r}/${o.rounds} yutang:   ${y.rps.toFixed(0)} req/s, p99 ${y.latencyP99Ms} ms`);
    }
    const baseline = summarize(baseRuns);
    const yt = summarize(ytRuns);

    // ── Joins over HTTP: every request a new person with a unique name.
    const countGroups = () => Number(sqlite.prepare('SELECT count(*) FROM groups WHERE community_id = ?').pluck().get(cid));
    let groupsBefore = countGroups();
    let n = 0;
    const httpJoin = await load({
      url: yutang.url,
      connections: o.connections,
      durationS: o.joinHttpDurationS,
      headers: { 'content-type': 'application/json' },
      next: () => ({ method: 'POST', path: `/api/v1/public/links/${httpLink.code}/join`, body: JSON.stringify({ name: `海报访客${n++}`, profile: { city: '上海' } }) }),
    });
    assertClean('join over HTTP', httpJoin);
    // Stop the servers first: a join still in flight in the server would race the service joins
    // below for the write lock, and joins open deferred transactions (SQLITE_BUSY_SNAPSHOT).
    for (const s of servers.splice(0)) await s.stop();
    const httpGroupsOpened = countGroups() - groupsBefore;
    const joinedByLink = (linkId: string) =>
      Number(sqlite.prepare('SELECT count(*) FROM members WHERE entry_link_id = ? AND current_group_id IS NOT NULL').pluck().get(linkId));
    const httpJoined = joinedByLink(httpLink.id);
    // autocannon counts the responses it waited for; a few more may have committed as it stopped.
    if (httpJoined < httpJoin.requests || httpJoined > httpJoin.requests + o.connections) {
      throw new Error(`autocannon saw ${httpJoin.requests} joins but ${httpJoined} people were seated through the link`);
    }
    o.log(`joins over HTTP: ${httpJoin.rps.toFixed(0)} joins/s, p99 ${httpJoin.latencyP99Ms} ms, ${httpGroupsOpened} overflow groups opened`);

    // ── Joins through the service, sequentially, in this process, with the servers stopped.
    const deps: Deps = { db: handle.db, clock: systemClock, config: BENCH_CONFIG };
    groupsBefore = countGroups();
    const each: number[] = [];
    const started = performance.now();
    for (let i = 0; i < o.serviceJoins; i++) {
      const t = performance.now();
      const out = await joinThroughLink(deps, serviceLink.code, { name: `伙伴访客${i}`, profile: { city: '北京' } }, null);
      each.push(performance.now() - t);
      if (out.next !== 'onboarding') throw new Error(`service join ${i} ended in ${out.next}`);
    }
    const serviceMs = performance.now() - started;
    const serviceGroupsOpened = countGroups() - groupsBefore;
    each.sort((a, b) => a - b);
    const serviceRate = (o.serviceJoins / serviceMs) * 1000;
    o.log(`joins through the service: ${serviceRate.toFixed(0)} joins/s, ${serviceGroupsOpened} overflow groups opened`);

    if (joinedByLink(serviceLink.id) !== o.serviceJoins) throw new Error(`expected ${o.serviceJoins} people seated through the service link`);
    const rawRate = rawJoinBaseline(sqlite, { communityId: cid, groupId: rawGroup.id, linkId: serviceLink.id }, o.serviceJoins);
    o.log(`raw better-sqlite3 join baseline: ${rawRate.toFixed(0)} joins/s`);

    return {
      setup: {
        members: o.members,
        groups: seed.groupIds.length,
        seedMs: Math.round(seed.ms),
        dbBytes: statSync(file).size,
        dbFile: o.keepDb ? file : null,
        sqliteSynchronous: { '0': 'OFF', '1': 'NORMAL', '2': 'FULL', '3': 'EXTRA' }[synchronous] ?? synchronous,
      },
      lookup: {
        baseline,
        yutang: yt,
        rpsRatio: yt.rps / baseline.rps,
        roundRatios: ytRuns.map((y, i) => y.rps / baseRuns[i]!.rps),
        p99Ratio: yt.p99Ms / baseline.p99Ms,
      },
      joins: {
        http: {
          joinsPerS: httpJoin.rps,
          p99Ms: httpJoin.latencyP99Ms,
          joins: httpJoin.requests,
          non2xx: httpJoin.non2xx,
          durationS: httpJoin.durationS,
          vsRawJoin: httpJoin.rps / rawRate,
          groupsOpened: httpGroupsOpened,
        },
        rawBaseline: { joinsPerS: rawRate, joins: o.serviceJoins },
        service: {
          joinsPerS: serviceRate,
          joins: o.serviceJoins,
          ms: Math.round(serviceMs),
          meanMs: serviceMs / o.serviceJoins,
          p99Ms: each[Math.min(each.length - 1, Math.floor(each.length * 0.99))]!,
          vsRawJoin: serviceRate / rawRate,
          groupsOpened: serviceGroupsOpened,
        },
      },
    };
  } finally {
    for (const s of servers) await s.stop();
    await handle.close();
    if (!o.keepDb) rmSync(dir, { recursive: true, force: true });
  }
}
