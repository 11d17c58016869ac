// The stays and purchases the period metrics count on (member_stays, member_purchases,
// analytics_flow_days) kept incrementally by refreshRollups at random points equal a full rebuild,
// and both equal a reference computed here from the operations (local days of a non-UTC zone); so
// do the per-day member sets (members at each local midnight, stay starts, payers).
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDb, describeEachDialect, type TestDb } from '../../test/harness.js';
import { ensureCommunityBySlug } from '../communities/index.js';
import { insertEvent } from '../events/index.js';
import { newId } from '../../lib/ids.js';
import { rebuildRollups, refreshRollups } from './index.js';
import { MemberSet } from './day-sets.js';

const ZONE = 'Asia/Kolkata';
const MEMBERS = ['a', 'b', 'c', 'd', 'e'];
const GROUPS = ['g1', 'g2'];
const BASE = Date.parse('2026-02-28T12:00:00Z');

type Op = { kind: 'join'; member: string; group: string; at: number; referred: boolean } | { kind: 'leave'; member: string; at: number } | { kind: 'pay'; member: string; at: number };

const at = fc.integer({ min: 0, max: 30 * 24 * 60 - 1 }).map((min) => BASE + min * 60_000);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('join' as const), member: fc.constantFrom(...MEMBERS), group: fc.constantFrom(...GROUPS), at, referred: fc.boolean() }),
  fc.record({ kind: fc.constant('leave' as const), member: fc.constantFrom(...MEMBERS), at }),
  fc.record({ kind: fc.constant('pay' as const), member: fc.constantFrom(...MEMBERS), at }),
);

const iso = (ms: number) => new Date(ms).toISOString();
const localDay = (ms: number) => DateTime.fromMillis(ms, { zone: ZONE }).toISODate()!;

interface Span {
  member: string;
  joined: number;
  left: number | null;
  referred: boolean;
  seq: number;
}

/** Stays, purchases and flow days computed naively from the spans and payments the operations left. */
function reference(spans: Span[], payments: { member: string; at: number; seq: number }[]) {
  const stays: { member: string; start: number; end: number | null; prev: number | null; referred: number }[] = [];
  for (const member of MEMBERS) {
    const mine = spans.filter((s) => s.member === member).sort((x, y) => x.joined - y.joined || x.seq - y.seq);
    let cur: { start: number; end: number | null; open: boolean; referred: boolean } | null = null;
    const done: { start: number; end: number | null; referred: boolean }[] = [];
    for (const s of mine) {
      if (cur && (cur.open || (cur.end ?? 0) >= s.joined)) {
        cur.open ||= s.left === null;
        cur.end = cur.open ? null : Math.max(cur.end ?? 0, s.left!);
        continue;
      }
      if (cur) done.push(cur);
      cur = { start: s.joined, end: s.left, open: s.left === null, referred: s.referred };
    }
    if (cur) done.push(cur);
    if (!mine.length) {
      const paid = payments.filter((p) => p.member === member).map((p) => p.at);
      if (paid.length) done.push({ start: Math.min(...paid), end: null, referred: false });
    }
    done.forEach((d, i) => stays.push({ member, start: d.start, end: d.end, prev: i ? done[i - 1]!.end : null, referred: d.referred ? 1 : 0 }));
  }
  const purchases: { member: string; first: number; second: number | null }[] = [];
  for (const member of MEMBERS) {
    const paid = payments.filter((p) => p.member === member).sort((x, y) => x.at - y.at || x.seq - y.seq);
    if (paid.length) purchases.push({ member, first: paid[0]!.at, second: paid[1]?.at ?? null });
  }
  const days = new Map<string, number[]>();
  const bump = (ms: number, i: number) => {
    const d = localDay(ms);
    if (!days.has(d)) days.set(d, [0, 0, 0, 0, 0]);
    days.get(d)![i]! += i === 4 ? 100 : 1;
  };
  for (const s of stays) {
    bump(s.start, 0);
    if (s.end !== null) bump(s.end, 1);
  }
  // Every payment is 100 in the community currency.
  for (const p of payments) bump(p.at, 4);
  for (const p of purchases) {
    bump(p.first, 2);
    if (p.second !== null) bump(p.second, 3);
  }
  // The per-day member sets: who is a member at each local midnight of the span of days, whose stay
  // (or referred stay) starts each day, who paid each day. Empty sets are left out.
  const sets: string[] = [];
  const instants = [...spans.flatMap((s) => [s.joined, ...(s.left === null ? [] : [s.left])]), ...payments.map((p) => p.at)];
  if (instants.length) {
    const last = localDay(Math.max(...instants));
    for (let d = DateTime.fromMillis(Math.min(...instants), { zone: ZONE }).startOf('day'); d.toISODate()! <= last; d = d.plus({ days: 1 })) {
      const t0 = d.toMillis();
      const day = d.toISODate()!;
      const set = (kind: string, members: Iterable<string>) => {
        const list = [...new Set(members)].sort();
        if (list.length) sets.push(`${kind}|${day}|${list.join(',')}`);
      };
      set('members_at', stays.filter((s) => s.start < t0 && (s.end === null || t0 <= s.end)).map((s) => s.member));
      set('payers', payments.filter((p) => localDay(p.at) === day).map((p) => p.member));
      set('referred_starts', stays.filter((s) => s.referred && localDay(s.start) === day).map((s) => s.member));
      set('starts', stays.filter((s) => localDay(s.start) === day).map((s) => s.member));
    }
  }
  return {
    sets: sets.sort(),
    stays: stays.map((s) => [s.member, iso(s.start), s.end === null ? null : iso(s.end), s.prev === null ? null : iso(s.prev), s.referred].join('|')).sort(),
    purchases: purchases.map((p) => [p.member, iso(p.first), p.second === null ? null : iso(p.second)].join('|')).sort(),
    days: [...days].map(([d, c]) => [d, ...c].join('|')).sort(),
  };
}

/**
 * A refresh may also store the members at midnights after the last instant (the local days an
 * event's UTC hour touches); those sets are right but a rebuild does not store them, so the
 * comparison stops at `lastDay`.
 */
async function readFlows(t: TestDb, communityId: string, ids: Map<string, string>, lastDay: string) {
  const name = new Map([...ids].map(([k, v]) => [v, k]));
  const stays = await t.handle.db.selectFrom('member_stays').selectAll().where('community_id', '=', communityId).execute();
  const purchases = await t.handle.db.selectFrom('member_purchases').selectAll().where('community_id', '=', communityId).execute();
  const days = await t.handle.db.selectFrom('analytics_flow_days').selectAll().where('community_id', '=', communityId).execute();
  const ts = (v: string | null) => (v === null ? null : new Date(v).toISOString());
  const ordinals = await t.handle.db.selectFrom('member_ordinals').selectAll().where('community_id', '=', communityId).execute();
  const byOrdinal = new Map(ordinals.map((o) => [Number(o.n), name.get(o.member_id)!]));
  const stored = await t.handle.db.selectFrom('analytics_day_sets').selectAll().where('community_id', '=', communityId).execute();
  const sets = stored
    .map((r) => [r.kind, r.day, [...MemberSet.decode(r.bits)].map((n) => byOrdinal.get(n)).sort().join(',')].join('|'))
    .filter((line) => !line.endsWith('|') && !(line.startsWith('members_at|') && line.split('|')[1]! > lastDay));
  return {
    sets: sets.sort(),
    stays: stays.map((s) => [name.get(s.member_id), ts(s.start_at), ts(s.end_at), ts(s.prev_end_at), Number(s.referred)].join('|')).sort(),
    purchases: purchases.map((p) => [name.get(p.member_id), ts(p.first_paid_at), ts(p.second_paid_at)].join('|')).sort(),
    days: days.map((d) => [d.day, Number(d.stay_starts), Number(d.stay_ends), Number(d.first_purchases), Number(d.second_purchases), Number(d.gmv_minor)].join('|')).sort(),
  };
}

describeEachDialect('rollups: stays and purchases, incremental equals rebuild equals a reference', (dialect) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(dialect);
  });
  afterAll(() => t.close());

  it('after random joins, leaves and payments (backdated too) and refreshes', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.array(opArb, { maxLength: 6 }), fc.boolean()), { minLength: 1, maxLength: 6 }), async (batches) => {
        const db = t.handle.db;
        const { community } = await ensureCommunityBySlug(t.deps, `flows-${n++}`);
        const c = community.id;
        await db.updateTable('communities').set({ time_zone: ZONE }).where('id', '=', c).execute();
        const now = iso(BASE);
        const ids = new Map(MEMBERS.map((m) => [m, newId('mem')]));
        const groups = new Map(GROUPS.map((g) => [g, newId('grp')]));
        const product = newId('prd');
        await db.insertInto('members').values([...ids].map(([m, id]) => ({ id, community_id: c, display_name: m, status: 'active', profile: '{}', token_hash: `t-${id}`, created_at: now, updated_at: now }))).execute();
        await db.insertInto('groups').values([...groups].map(([g, id]) => ({ id, community_id: c, name: g, tags: '{}', capacity: 100, status: 'open', created_at: now, updated_at: now }))).execute();
        await db.insertInto('products').values({ id: product, community_id: c, type: 'membership', name: 'P', price_minor: 100, currency: 'CNY', group_ids: '[]', status: 'active', created_at: now, updated_at: now }).execute();

        const spans: (Span & { id: string })[] = [];
        const payments: { member: string; at: number; seq: number }[] = [];
        let seq = 0;
        for (const [ops, refresh] of batches) {
          await db.transaction().execute(async (trx) => {
            for (const op of ops) {
              const member = ids.get(op.member)!;
              seq++;
              if (op.kind === 'join') {
                const id = newId('spn');
                spans.push({ id, member: op.member, joined: op.at, left: null, referred: op.referred, seq });
                await trx.insertInto('member_spans').values({ id, community_id: c, member_id: member, group_id: groups.get(op.group)!, referrer_member_id: op.referred ? ids.get('a')! : null, joined_at: iso(op.at) }).execute();
                await insertEvent(trx, { community_id: c, type: 'joined', occurred_at: iso(op.at), member_id: member }, iso(op.at));
              } else if (op.kind === 'leave') {
                // Closes the member's open spans that started by then, as a leave does.
                const open = spans.filter((s) => s.member === op.member && s.left === null && s.joined <= op.at);
                if (!open.length) continue;
                for (const s of open) {
                  s.left = op.at;
                  await trx.updateTable('member_spans').set({ left_at: iso(op.at), left_kind: 'left' }).where('id', '=', s.id).execute();
                }
                await insertEvent(trx, { community_id: c, type: 'left', occurred_at: iso(op.at), member_id: member }, iso(op.at));
              } else {
                const id = newId('ord');
                payments.push({ member: op.member, at: op.at, seq });
                await trx
                  .insertInto('orders')
                  .values({ id, community_id: c, member_id: member, product_id: product, status: 'paid', amount_minor: 100, currency: 'CNY', idempotency_key: id, request_hash: id, provider: 'test', checkout_token_hash: id, paid_at: iso(op.at), created_at: iso(op.at), updated_at: iso(op.at) })
                  .execute();
                await insertEvent(trx, { community_id: c, type: 'order_paid', occurred_at: iso(op.at), member_id: member, props: { order_id: id, amount_minor: 100, currency: 'CNY' } }, iso(op.at));
              }
            }
          });
          if (refresh) await refreshRollups(t.deps, c);
        }
        await refreshRollups(t.deps, c);
        const instants = [...spans.flatMap((s) => [s.joined, ...(s.left === null ? [] : [s.left])]), ...payments.map((p) => p.at)];
        const lastDay = instants.length ? localDay(Math.max(...instants)) : '';
        const incremental = await readFlows(t, c, ids, lastDay);
        expect(incremental).toEqual(reference(spans, payments));
        await rebuildRollups(t.deps, { communityId: c, daysPerChunk: 2 });
        expect(await readFlows(t, c, ids, lastDay)).toEqual(incremental);
      }),
      { numRuns: dialect === 'sqlite' ? 40 : 20 },
    );
  }, 180_000);
});
