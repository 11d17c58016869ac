// Incremental rollups (marks + refreshRollups at random points) equal a full rebuild, and both equal
// a reference aggregation written here over the generated events (local days of a non-UTC zone).
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDb, describeEachDialect, type TestDb } from '../../test/harness.js';
import { ensureCommunityBySlug } from '../communities/index.js';
import { insertEvent } from '../events/index.js';
import { rebuildRollups, refreshRollups } from './index.js';
import { MemberSet } from './day-sets.js';

const ZONE = 'Asia/Kolkata'; // +05:30: UTC hours straddle local days
const TYPES = ['message', 'post', 'reply', 'reaction', 'check_in', 'event_attended', 'message_reported', 'joined', 'left', 'order_paid', 'order_refunded', 'link_visited'] as const;
const ENGAGEMENT = ['message', 'post', 'reply', 'check_in', 'event_attended', 'reaction'];
const MEMBERS = ['m1', 'm2', 'm3', 'm4'];
const GROUPS = [null, 'g1', 'g2'];
// Instants around local midnights of 2026-03-01..03 in Kolkata (18:30Z the day before).
const BASE = Date.parse('2026-02-28T12:00:00Z');

interface Ev {
  type: (typeof TYPES)[number];
  at: number;
  member: string | null;
  group: string | null;
  to: string | null;
  flag: boolean;
  amount: number;
  usd: boolean;
}

const evArb = fc.record({
  type: fc.constantFrom(...TYPES),
  at: fc.oneof(
    fc.integer({ min: 0, max: 3 * 24 * 60 - 1 }).map((min) => BASE + min * 60_000),
    // Within 40 minutes of a local midnight (18:30Z), where UTC hours straddle two local days.
    fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: -40, max: 39 })).map(([d, min]) => BASE + (d * 24 * 60 + 6 * 60 + 30 + min) * 60_000),
  ),
  member: fc.option(fc.constantFrom(...MEMBERS), { freq: 8 }),
  group: fc.constantFrom(...GROUPS),
  to: fc.option(fc.constantFrom(...MEMBERS), { freq: 3 }),
  flag: fc.boolean(),
  amount: fc.integer({ min: 1, max: 10_000 }),
  usd: fc.boolean(),
});

const iso = (ms: number) => new Date(ms).toISOString();
const localDay = (ms: number) => DateTime.fromMillis(ms, { zone: ZONE }).toISODate()!;

/** The rollup rows the events should give, computed naively. */
function reference(events: Ev[]) {
  const memberDays = new Map<string, Record<string, number>>();
  const row = (day: string, member: string, group: string) => {
    const k = `${day}|${member}|${group}`;
    if (!memberDays.has(k)) memberDays.set(k, { engagement: 0, messages: 0, posts: 0, replies: 0, reactions: 0, check_ins: 0, attended: 0, replies_received: 0, reactions_received: 0, negative_received: 0, reports_received: 0, ads: 0 });
    return memberDays.get(k)!;
  };
  const days = new Map<string, { counts: Record<string, number>; active: Set<string> }>();
  const dayRow = (day: string, dim: string, key: string) => {
    const k = `${day}|${dim}|${key}`;
    if (!days.has(k)) days.set(k, { counts: { link_visits: 0, joins: 0, leaves: 0, engagement: 0, messages: 0, member_replies: 0, ads: 0, orders_paid: 0, gmv_minor: 0, refunds_minor: 0 }, active: new Set() });
    return days.get(k)!;
  };
  for (const e of events) {
    const day = localDay(e.at);
    const g = e.group ?? '';
    const ad = (e.type === 'message' || e.type === 'post') && e.flag;
    if (e.member && ENGAGEMENT.includes(e.type)) {
      const r = row(day, e.member, g);
      r.engagement!++;
      const col = { message: 'messages', post: 'posts', reply: 'replies', reaction: 'reactions', check_in: 'check_ins', event_attended: 'attended' }[e.type as string]!;
      r[col]!++;
      if (ad) r.ads!++;
    }
    if (e.to && ['reply', 'reaction', 'message_reported'].includes(e.type) && e.to !== e.member) {
      const r = row(day, e.to, g);
      if (e.type === 'reply') r.replies_received!++;
      if (e.type === 'reaction') r.reactions_received!++;
      if (e.type === 'reaction' && e.flag) r.negative_received!++;
      if (e.type === 'message_reported') r.reports_received!++;
    }
    if (e.type === 'message_reported') continue;
    // No members rows exist: group keys are the event's group, other dims have the key ''.
    for (const [dim, key] of [['all', ''], ['group', g]] as const) {
      const { counts: d, active } = dayRow(day, dim, key);
      if (e.type === 'link_visited') d.link_visits!++;
      if (e.type === 'joined') d.joins!++;
      if (e.type === 'left') d.leaves!++;
      if (ENGAGEMENT.includes(e.type) && e.member) {
        d.engagement!++;
        active.add(e.member);
      }
      if (e.type === 'message') d.messages!++;
      if (e.type === 'reply' && e.member && e.to && e.to !== e.member) d.member_replies!++;
      if (ad) d.ads!++;
      if (e.type === 'order_paid') d.orders_paid!++;
      if (e.type === 'order_paid' && !e.usd) d.gmv_minor! += e.amount;
      if (e.type === 'order_refunded' && !e.usd) d.refunds_minor! += e.amount;
    }
  }
  const mdays = [...memberDays].map(([k, v]) => {
    const [day, member_id, group_id] = k.split('|');
    return { day, member_id, group_id, ...v };
  });
  const ddays = [...days].map(([k, { active, counts: v }]) => {
    const [day, dim, key] = k.split('|');
    return { day, dim, key, ...v, active_members: active.size };
  });
  // Active members per day, per ISO week (keyed by its Monday) and per month (by its 1st).
  const sets = new Map<string, Set<string>>();
  for (const e of events) {
    if (!e.member || !ENGAGEMENT.includes(e.type)) continue;
    const d = DateTime.fromMillis(e.at, { zone: ZONE }).startOf('day');
    for (const key of [`active|${d.toISODate()}`, `active_week|${d.startOf('week').toISODate()}`, `active_month|${d.startOf('month').toISODate()}`]) {
      sets.set(key, (sets.get(key) ?? new Set()).add(e.member));
    }
  }
  return { mdays: sortRows(mdays), ddays: sortRows(ddays), sets: [...sets].map(([k, v]) => `${k}|${[...v].sort().join(',')}`).sort() };
}

const sortRows = <T extends object>(rows: T[]) => rows.map((r) => JSON.stringify(r)).sort();

async function readRollups(t: TestDb, communityId: string) {
  const num = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && k !== 'day' && !k.endsWith('_id') && k !== 'dim' && k !== 'key' ? Number(v) : v]));
  const mdays = await t.handle.db
    .selectFrom('analytics_member_days')
    .select(['day', 'member_id', 'group_id', 'engagement', 'messages', 'posts', 'replies', 'reactions', 'check_ins', 'attended', 'replies_received', 'reactions_received', 'negative_received', 'reports_received', 'ads'])
    .where('community_id', '=', communityId)
    .execute();
  const ddays = await t.handle.db
    .selectFrom('analytics_days')
    .select(['day', 'dim', 'key', 'link_visits', 'joins', 'leaves', 'engagement', 'messages', 'member_replies', 'ads', 'orders_paid', 'gmv_minor', 'refunds_minor', 'active_members'])
    .where('community_id', '=', communityId)
    .where('dim', 'in', ['all', 'group'])
    .execute();
  const ordinals = new Map((await t.handle.db.selectFrom('member_ordinals').select(['member_id', 'n']).where('community_id', '=', communityId).execute()).map((o) => [Number(o.n), o.member_id]));
  const stored = await t.handle.db.selectFrom('analytics_day_sets').select(['kind', 'day', 'bits']).where('community_id', '=', communityId).where('kind', 'like', 'active%').execute();
  const sets = stored.map((r) => `${r.kind}|${r.day}|${[...MemberSet.decode(r.bits)].map((n) => ordinals.get(n)).sort().join(',')}`).sort();
  return { mdays: sortRows(mdays.map(num)), ddays: sortRows(ddays.map(num)), sets };
}

describeEachDialect('rollups: incremental equals rebuild equals a reference', (dialect) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(dialect);
  });
  afterAll(() => t.close());

  it('after random interleavings of event batches and refreshes', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.array(evArb, { maxLength: 12 }), fc.boolean()), { minLength: 1, maxLength: 6 }), async (batches) => {
        const { community } = await ensureCommunityBySlug(t.deps, `prop-${n++}`);
        await t.handle.db.updateTable('communities').set({ time_zone: ZONE }).where('id', '=', community.id).execute();
        const all: Ev[] = [];
        for (const [batch, refresh] of batches) {
          await t.handle.db.transaction().execute(async (trx) => {
            for (const e of batch) {
              const props: Record<string, unknown> = {};
              if (e.to) props.to_member_id = e.to;
              if (e.type === 'reaction') props.negative = e.flag;
              if (e.type === 'message' || e.type === 'post') props.is_ad = e.flag;
              if (e.type === 'order_paid' || e.type === 'order_refunded') Object.assign(props, { amount_minor: e.amount, currency: e.usd ? 'USD' : 'CNY' });
              await insertEvent(trx, { community_id: community.id, type: e.type, occurred_at: iso(e.at), member_id: e.member, group_id: e.group, props }, iso(e.at));
            }
          });
          all.push(...batch);
          if (refresh) await refreshRollups(t.deps, community.id);
        }
        await refreshRollups(t.deps);
        const incremental = await readRollups(t, community.id);
        const want = reference(all);
        expect(incremental).toEqual(want);
        await rebuildRollups(t.deps, { communityId: community.id });
        expect(await readRollups(t, community.id)).toEqual(incremental);
        // Chunks that split the days (the default chunk holds all of these few days).
        await rebuildRollups(t.deps, { communityId: community.id, daysPerChunk: 2 });
        expect(await readRollups(t, community.id)).toEqual(incremental);
      }),
      { numRuns: dialect === 'sqlite' ? 40 : 20 },
    );
  }, 120_000);
});
