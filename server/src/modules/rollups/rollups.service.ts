import { DateTime } from 'luxon';
import type { Deps } from '../../lib/deps.js';
import { findCommunityById } from '../communities/index.js';
import {
  bumpGeneration,
  claimDirtyHours,
  countEventsBetween,
  deleteRollupsOutside,
  findDirtyCommunities,
  findEventRange,
  findFlowInstants,
  findFlowMembers,
  findFlowRange,
  findGeneration,
  hasDirtyHours,
  lockCommunityRollups,
  recomputeDays,
  recomputeFlowDays,
  recomputeMemberFlows,
  type DayBounds,
} from './rollups.repo.js';
import { findStaysOf, nextDay, rebuildMembersAt, recomputeActivitySets, recomputeStartSets, refreshMembersAt } from './day-sets.service.js';

/**
 * Daily rollups (analytics_member_days, analytics_days), kept fresh by recomputing whole days, not
 * by applying deltas: appending an event marks its UTC hour dirty (events module, same
 * transaction); `refreshRollups` claims the dirty hours, maps them to the local days they touch in
 * the community's time zone, and recomputes those days from the event log. `rebuildRollups`
 * recomputes every day, many days per statement. Both go through the same set-based recompute
 * (recomputeDays) and give the same rows for the same events (rollups.property.test.ts).
 */

/** Local days recomputed per statement and transaction, by the refresh and the rebuild. */
export const ROLLUP_DAYS_PER_CHUNK = 31;

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** A local day's bounds in a zone: [local midnight, next local midnight), as ISO UTC. */
export function dayBounds(day: string, zone: string): DayBounds {
  const start = DateTime.fromISO(day, { zone }).startOf('day');
  return { day, t0: start.toUTC().toISO()!, t1: start.plus({ days: 1 }).toUTC().toISO()! };
}

/** Local days ('YYYY-MM-DD') that the UTC hours 'YYYY-MM-DDTHH' overlap in a zone (two for half-hour offsets). */
export function localDaysOfHours(hours: readonly string[], zone: string): string[] {
  const days = new Set<string>();
  for (const h of hours) {
    const start = Date.parse(`${h}:00:00.000Z`);
    days.add(DateTime.fromMillis(start, { zone }).toISODate()!);
    days.add(DateTime.fromMillis(start + 3_599_999, { zone }).toISODate()!);
  }
  return [...days].sort();
}

/**
 * Every local day holding an event, a stay's start or end, a first or second purchase or a
 * membership end of the community; `membersAt`: those up to the last event, stay or purchase (the
 * days whose members at midnight are stored; membership ends may lie far ahead).
 */
async function rollupRange(trx: Parameters<typeof findEventRange>[0], communityId: string, zone: string): Promise<{ days: string[]; membersAt: string[] }> {
  const [events, flows] = await Promise.all([findEventRange(trx, communityId), findFlowRange(trx, communityId)]);
  const ranges = [events, flows].filter((r) => r !== null);
  if (!ranges.length) return { days: [], membersAt: [] };
  const first = ranges.map((r) => r.first).reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b));
  const last = ranges.map((r) => r.last).reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
  const lastAt = [events?.last, flows?.lastStay].filter((x) => x !== undefined).reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
  const days = daysBetween(first, last, zone);
  const lastAtDay = DateTime.fromISO(lastAt, { zone }).toISODate()!;
  return { days, membersAt: days.filter((d) => d <= lastAtDay) };
}

/** Every local day from the one holding `first` to the one holding `last`. */
function daysBetween(first: string, last: string, zone: string): string[] {
  const days: string[] = [];
  let d = DateTime.fromISO(first, { zone }).startOf('day');
  const end = DateTime.fromISO(last, { zone }).startOf('day');
  while (d <= end) {
    days.push(d.toISODate()!);
    d = d.plus({ days: 1 });
  }
  return days;
}

// One refresh per community at a time in this process; a caller arriving during a run waits for
// it and then runs its own (marks written meanwhile are seen). Across processes, PostgreSQL
// advisory locks (and SQLite's single writer) serialize the writes.
const chains = new Map<string, Promise<unknown>>();
function serialized<T>(communityId: string, run: () => Promise<T>): Promise<T> {
  const next = (chains.get(communityId) ?? Promise.resolve()).catch(() => undefined).then(run);
  chains.set(communityId, next);
  void next
    .catch(() => undefined)
    .finally(() => {
      if (chains.get(communityId) === next) chains.delete(communityId);
    });
  return next;
}

export interface RefreshReport {
  communities: number;
  /** Local days recomputed. */
  days: number;
}

/** The community's rollup generation: it moves whenever a refresh or rebuild changes its rows. */
export async function rollupGeneration(deps: Deps, communityId: string): Promise<number> {
  return findGeneration(deps.db, communityId);
}

/**
 * Recomputes the days whose events changed since the last refresh, for one community or for every
 * community with dirty marks. Claim and recompute happen in one transaction, so a failure leaves
 * the marks in place; a time zone or currency change ('*' mark) recomputes every day.
 * Called every few seconds by the scheduler and at the start of every analytics query.
 */
export async function refreshRollups(deps: Deps, communityId?: string): Promise<RefreshReport> {
  const ids = communityId !== undefined ? [communityId] : await findDirtyCommunities(deps.db);
  let days = 0;
  for (const id of ids) {
    if (!(await hasDirtyHours(deps.db, id))) continue;
    days += await serialized(id, () => refreshCommunity(deps, id));
  }
  return { communities: ids.length, days };
}

async function refreshCommunity(deps: Deps, communityId: string): Promise<number> {
  return deps.db.transaction().execute(async (trx) => {
    await lockCommunityRollups(trx, communityId);
    const hours = await claimDirtyHours(trx, communityId);
    if (!hours.length) return 0;
    const community = await findCommunityById(trx, communityId);
    if (!community) return 0;
    const zone = community.time_zone;
    let days: string[];
    let flowDays: string[];
    let beforeStays: Awaited<ReturnType<typeof findStaysOf>> | null = null;
    let flowMembers: string[] = [];
    if (hours.includes('*')) {
      await recomputeMemberFlows(trx, communityId, 'all', community.renewal_grace_days);
      days = (await rollupRange(trx, communityId, zone)).days;
      flowDays = days;
      await deleteRollupsOutside(trx, communityId, null, null);
    } else {
      days = localDaysOfHours(hours, zone);
      // The stays and purchases of the members whose joins, leaves or orders are on these days, and
      // the flow days their old and new versions count on.
      const members: string[] = [];
      for (const chunk of chunks(days, ROLLUP_DAYS_PER_CHUNK)) members.push(...(await findFlowMembers(trx, communityId, chunk.map((d) => dayBounds(d, zone)))));
      const unique = [...new Set(members)];
      beforeStays = await findStaysOf(trx, communityId, unique);
      flowMembers = unique;
      const before = await findFlowInstants(trx, communityId, unique);
      await recomputeMemberFlows(trx, communityId, unique, community.renewal_grace_days);
      const after = await findFlowInstants(trx, communityId, unique);
      flowDays = [...new Set([...days, ...[...before, ...after].map((at) => DateTime.fromISO(at, { zone }).toISODate()!)])].sort();
    }
    for (const chunk of chunks(days, ROLLUP_DAYS_PER_CHUNK)) {
      const bounds = chunk.map((day) => dayBounds(day, zone));
      await recomputeDays(trx, communityId, community.currency, bounds);
      await recomputeActivitySets(trx, communityId, bounds);
    }
    for (const chunk of chunks(flowDays, ROLLUP_DAYS_PER_CHUNK)) {
      const bounds = chunk.map((day) => dayBounds(day, zone));
      await recomputeFlowDays(trx, communityId, community.currency, bounds);
      await recomputeStartSets(trx, communityId, bounds);
    }
    const patched =
      beforeStays !== null &&
      (await refreshMembersAt(trx, communityId, { members: flowMembers, before: beforeStays, eventDays: days }, {
        bounds: (d) => dayBounds(d, zone),
        next: nextDay,
        dayOf: (ms) => DateTime.fromMillis(ms, { zone }).toISODate()!,
      }));
    if (!patched) await rebuildMembersAt(trx, communityId, (await rollupRange(trx, communityId, zone)).membersAt.map((d) => dayBounds(d, zone)));
    await bumpGeneration(trx, communityId);
    return days.length;
  });
}

export interface RebuildProgress {
  community_id: string;
  days_done: number;
  days_total: number;
  events_done: number;
  elapsed_ms: number;
}

export interface RebuildReport {
  communities: number;
  days: number;
  events: number;
  elapsed_ms: number;
}

/**
 * Recomputes every local day of one community (or of all communities) from the event log, in
 * chunks of ROLLUP_DAYS_PER_CHUNK consecutive days (one transaction and one INSERT … SELECT …
 * GROUP BY per table each; progress after each chunk), and drops rollup rows outside the days that
 * have events. Safe while events are being written: marks made during the rebuild are left for the
 * next refresh.
 */
export async function rebuildRollups(
  deps: Deps,
  opts: { communityId?: string | undefined; onProgress?: ((p: RebuildProgress) => void) | undefined; daysPerChunk?: number | undefined } = {},
): Promise<RebuildReport> {
  const started = Date.now();
  const ids =
    opts.communityId !== undefined ? [opts.communityId] : (await deps.db.selectFrom('communities').select('id').orderBy('id').execute()).map((r) => r.id);
  let days = 0;
  let events = 0;
  for (const id of ids) {
    await serialized(id, async () => {
      const community = await findCommunityById(deps.db, id);
      if (!community) return;
      const zone = community.time_zone;
      // Marks up to now are covered by this rebuild: every day below reads events committed before it.
      const range = await deps.db.transaction().execute(async (trx) => {
        await lockCommunityRollups(trx, id);
        await claimDirtyHours(trx, id);
        await recomputeMemberFlows(trx, id, 'all', community.renewal_grace_days);
        await bumpGeneration(trx, id);
        const { days: list, membersAt } = await rollupRange(trx, id, zone);
        await deleteRollupsOutside(trx, id, list[0] ?? null, list.at(-1) ?? null);
        await rebuildMembersAt(trx, id, membersAt.map((day) => dayBounds(day, zone)));
        return list;
      });
      let done = 0;
      for (const chunk of chunks(range, opts.daysPerChunk ?? ROLLUP_DAYS_PER_CHUNK)) {
        const bounds = chunk.map((day) => dayBounds(day, zone));
        events += await deps.db.transaction().execute(async (trx) => {
          await lockCommunityRollups(trx, id);
          await recomputeDays(trx, id, community.currency, bounds);
          await recomputeActivitySets(trx, id, bounds);
          await recomputeFlowDays(trx, id, community.currency, bounds);
          await recomputeStartSets(trx, id, bounds);
          await bumpGeneration(trx, id);
          return countEventsBetween(trx, id, bounds[0]!.t0, bounds.at(-1)!.t1);
        });
        done += chunk.length;
        days += chunk.length;
        opts.onProgress?.({ community_id: id, days_done: done, days_total: range.length, events_done: events, elapsed_ms: Date.now() - started });
      }
    });
  }
  return { communities: ids.length, days, events, elapsed_ms: Date.now() - started };
}
