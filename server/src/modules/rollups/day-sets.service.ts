import type { Db, Trx } from '../../db/kysely.js';
import { MemberSet } from './day-sets.js';
import {
  deleteDaySets,
  findActivityOrdinals,
  findAllStays,
  findOrdinals,
  findSetBefore,
  findSetDays,
  findStaysChangingBetween,
  findStaysOf,
  findStartOrdinals,
  readDaySet,
  readDaySets,
  writeDaySets,
  type DaySetKind,
  type OrdinalStay,
} from './day-sets.repo.js';
import type { DayBounds } from './rollups.repo.js';

/**
 * The per-day member sets (analytics_day_sets) that let the period metrics count distinct members
 * over any run of local days from a few stored sets, without scanning member-day rows: active
 * members, payers, stay starts and referred stay starts per day (recomputed with the day's other
 * rollups), and the members at each day's local midnight (kept up to date by flipping the members
 * whose stays changed, and extended day by day from the previous day's set).
 */

type Q = Db | Trx;
type Stay = { start: number; end: number | null };

/** Whether a member with these stays is a member at instant t: start < t ≤ end (or open), as member_stays define it. */
const memberAt = (stays: readonly Stay[] | undefined, t: number) => !!stays?.some((s) => s.start < t && (s.end === null || t <= s.end));

const stored = (s: MemberSet) => {
  const bits = s.encode();
  return { members: s.size, bits: Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength) };
};

function setsByDay(days: readonly DayBounds[], rows: readonly { day: string; n: number }[]) {
  const sets = new Map(days.map((d) => [d.day, new MemberSet()]));
  for (const r of rows) sets.get(r.day)?.add(Number(r.n));
  return new Map([...sets].filter(([, s]) => s.size > 0).map(([day, s]) => [day, stored(s)]));
}

/** Recomputes the active and payer sets of some days (after their analytics_member_days rows). */
export async function recomputeActivitySets(trx: Trx, communityId: string, days: readonly DayBounds[]): Promise<void> {
  if (!days.length) return;
  const { active, payers } = await findActivityOrdinals(trx, communityId, days);
  const labels = days.map((d) => d.day);
  await writeDaySets(trx, communityId, 'active', labels, setsByDay(days, active));
  await writeDaySets(trx, communityId, 'payers', labels, setsByDay(days, payers));
  // The week and month unions holding these days, from all their days' sets.
  for (const [kind, starts] of [
    ['active_week', new Set(labels.map(weekOf))],
    ['active_month', new Set(labels.map(monthOf))],
  ] as const) {
    const unions = new Map<string, { members: number; bits: Buffer }>();
    for (const start of starts) {
      const set = new MemberSet();
      for (const r of await readDaySets(trx, communityId, 'active', start, kind === 'active_week' ? shiftDay(start, 7) : nextMonth(start))) set.orBytes(r.bits);
      if (set.size > 0) unions.set(start, stored(set));
    }
    await writeDaySets(trx, communityId, kind, [...starts], unions);
  }
}

/** The Monday of the ISO week holding a day, and the 1st of its month ('YYYY-MM-DD'). */
const weekOf = (day: string) => shiftDay(day, -((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7));
const monthOf = (day: string) => `${day.slice(0, 8)}01`;
/** A local day ('YYYY-MM-DD') shifted by n days (calendar days: no time zone is involved). */
export const shiftDay = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const nextMonth = (first: string) => {
  const d = new Date(`${first}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d.toISOString().slice(0, 10);
};

/** Recomputes the stay-start sets of some days (after member_stays). */
export async function recomputeStartSets(trx: Trx, communityId: string, days: readonly DayBounds[]): Promise<void> {
  if (!days.length) return;
  const rows = await findStartOrdinals(trx, communityId, days);
  const labels = days.map((d) => d.day);
  await writeDaySets(trx, communityId, 'starts', labels, setsByDay(days, rows));
  await writeDaySets(trx, communityId, 'referred_starts', labels, setsByDay(days, rows.filter((r) => Number(r.referred) === 1)));
}

/** Every day's members_at set from all stays: the rebuild, and a refresh that reaches before the first stored day. */
export async function rebuildMembersAt(trx: Trx, communityId: string, days: readonly DayBounds[]): Promise<void> {
  await deleteDaySets(trx, communityId, 'members_at');
  if (!days.length) return;
  const t0s = days.map((d) => Date.parse(d.t0));
  const sets = days.map(() => new MemberSet());
  // First day index whose midnight is after `t` (binary search over the sorted midnights).
  const firstAfter = (t: number) => {
    let lo = 0;
    let hi = t0s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (t0s[mid]! > t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  for (const s of await findAllStays(trx, communityId)) {
    const last = s.end === null ? t0s.length - 1 : firstAfter(s.end) - 1;
    for (let i = firstAfter(s.start); i <= last; i++) sets[i]!.add(s.n);
  }
  await writeDaySets(trx, communityId, 'members_at', days.map((d) => d.day), new Map(days.map((d, i) => [d.day, stored(sets[i]!)])));
}

/** The members at instant t: the members at an earlier stored midnight, with the members whose stays start or end in between re-evaluated. */
function advance(base: MemberSet, changing: readonly OrdinalStay[], t: number): MemberSet {
  const next = base.clone();
  const byMember = new Map<number, Stay[]>();
  for (const s of changing) byMember.set(s.n, [...(byMember.get(s.n) ?? []), s]);
  for (const [n, stays] of byMember) {
    if (memberAt(stays, t)) next.add(n);
    else next.delete(n);
  }
  return next;
}

/**
 * Brings members_at up to date after a refresh recomputed the stays of `members` (their stays
 * before are `before`): flips those members on the stored days where their status changed, then
 * stores every day after the last stored one up to the last of `eventDays` and of the local days
 * holding those members' stay starts and ends. Returns false when the stored sets cannot be
 * patched (none yet, or the change reaches before the first): the caller rebuilds them.
 */
export async function refreshMembersAt(
  trx: Trx,
  communityId: string,
  change: { members: readonly string[]; before: Map<string, Stay[]>; eventDays: readonly string[] },
  zone: { bounds: (day: string) => DayBounds; next: (day: string) => string; dayOf: (ms: number) => string },
): Promise<boolean> {
  const stored_ = await findSetDays(trx, communityId, 'members_at');
  const after = await findStaysOf(trx, communityId, change.members);
  const instants = [...change.before.values(), ...after.values()].flat().flatMap((s) => [s.start, ...(s.end === null ? [] : [s.end])]);
  const touched = [...change.eventDays, ...instants.map(zone.dayOf)].sort();
  if (!touched.length) return stored_.length > 0;
  if (!stored_.length || touched[0]! < stored_[0]!) return false;
  const ordinals = await findOrdinals(trx, communityId, change.members);
  const midnights = stored_.map((d) => Date.parse(zone.bounds(d).t0));
  const flips = new Map<number, { n: number; on: boolean }[]>();
  for (const id of change.members) {
    const n = ordinals.get(id);
    if (n === undefined) continue;
    const b = change.before.get(id);
    const a = after.get(id);
    if (JSON.stringify(b ?? []) === JSON.stringify(a ?? [])) continue;
    const from = Math.min(...[...(b ?? []), ...(a ?? [])].map((s) => s.start));
    for (let i = 0; i < midnights.length; i++) {
      if (midnights[i]! <= from) continue;
      const on = memberAt(a, midnights[i]!);
      if (on !== memberAt(b, midnights[i]!)) flips.set(i, [...(flips.get(i) ?? []), { n, on }]);
    }
  }
  const lastDay = touched.at(-1)!;
  const last = stored_.length - 1;
  const changed = new Map<string, MemberSet>();
  const load = async (i: number) => MemberSet.decode(await readDaySet(trx, communityId, 'members_at', stored_[i]!));
  for (const [i, list] of flips) {
    const set = await load(i);
    for (const f of list) {
      if (f.on) set.add(f.n);
      else set.delete(f.n);
    }
    changed.set(stored_[i]!, set);
  }
  if (lastDay > stored_[last]!) {
    let base = changed.get(stored_[last]!) ?? (await load(last));
    const changing = await findStaysChangingBetween(trx, communityId, zone.bounds(stored_[last]!).t0, zone.bounds(lastDay).t0);
    for (let day = zone.next(stored_[last]!); day <= lastDay; day = zone.next(day)) {
      base = advance(base, changing, Date.parse(zone.bounds(day).t0));
      changed.set(day, base);
    }
  }
  const days = [...changed.keys()];
  await writeDaySets(trx, communityId, 'members_at', days, new Map(days.map((d) => [d, stored(changed.get(d)!)])));
  return true;
}

/** The members at t0 of a local day: its stored set, or one advanced from the last stored day before it (none: nobody). */
export async function membersAtDay(db: Q, communityId: string, day: DayBounds, dayBoundsOf: (day: string) => DayBounds): Promise<MemberSet> {
  const own = await readDaySet(db, communityId, 'members_at', day.day);
  if (own) return MemberSet.decode(own);
  const before = await findSetBefore(db, communityId, 'members_at', day.day);
  if (!before) return new MemberSet();
  const changing = await findStaysChangingBetween(db, communityId, dayBoundsOf(before.day).t0, day.t0);
  return advance(MemberSet.decode(before.bits), changing, Date.parse(day.t0));
}

/** The local day after `day` ('YYYY-MM-DD'). */
export const nextDay = (day: string) => shiftDay(day, 1);

/**
 * Reads stored day sets for one community, each (kind, day) once: a dashboard asks for the same
 * days more than once (a period's active members, then its MAU and WAU), so one reader serves one
 * computation. Not shared across computations: a refresh may change any day.
 */
export class DaySetReader {
  private readonly days = new Map<string, Promise<Uint8Array | null>>();

  constructor(
    private readonly db: Q,
    private readonly communityId: string,
  ) {}

  /**
   * The union of a kind's sets over the local days [fromDay, toDay). Active members read whole
   * months and weeks inside the range from their unions, and the days around them one by one.
   */
  async union(kind: DaySetKind, fromDay: string, toDay: string): Promise<MemberSet> {
    const wanted = new Map<DaySetKind, string[]>();
    const want = (k: DaySetKind, day: string) => wanted.set(k, [...(wanted.get(k) ?? []), day]);
    for (let d = fromDay; d < toDay; ) {
      if (kind === 'active' && d.endsWith('-01') && nextMonth(d) <= toDay) {
        want('active_month', d);
        d = nextMonth(d);
      } else if (kind === 'active' && weekOf(d) === d && shiftDay(d, 7) <= toDay) {
        want('active_week', d);
        d = shiftDay(d, 7);
      } else {
        want(kind, d);
        d = nextDay(d);
      }
    }
    const parts = await Promise.all([...wanted].map(([k, days]) => this.read(k, days)));
    const set = new MemberSet();
    for (const bits of parts.flat()) if (bits) set.orBytes(bits);
    return set;
  }

  /** The stored sets of a kind on some days (ascending), each fetched once per reader. */
  private async read(kind: DaySetKind, days: readonly string[]): Promise<(Uint8Array | null)[]> {
    const missing = days.filter((d) => !this.days.has(`${kind}|${d}`));
    if (missing.length) {
      const rows = readDaySets(this.db, this.communityId, kind, missing[0]!, nextDay(missing.at(-1)!)).then((list) => new Map(list.map((r) => [r.day, r.bits])));
      for (const d of missing) this.days.set(`${kind}|${d}`, rows.then((byDay) => byDay.get(d) ?? null));
    }
    return Promise.all(days.map((d) => this.days.get(`${kind}|${d}`)!));
  }
}

export { findStaysOf };
export type { DaySetKind };
