import { sql } from 'kysely';
import { isPostgres, type Db, type Trx } from '../../db/kysely.js';
import { encodeJson, json } from '../../db/codecs.js';
import { statementChunks } from '../../db/chunks.js';
import type { EventType } from '../../../../contracts/src/index.js';
import { enqueueDeliveries, wantsDeliveries, type OutboxEvent } from '../webhooks/index.js';

export interface NewEvent {
  community_id: string;
  type: EventType | (string & {});
  occurred_at: string;
  member_id?: string | null;
  group_id?: string | null;
  entry_link_id?: string | null;
  channel?: string | null;
  referrer_member_id?: string | null;
  actor_user_id?: string | null;
  props?: Record<string, unknown>;
}

/** An event's optional references, null when absent: the same in the log row and the webhook payload. */
const references = (e: NewEvent) => ({
  member_id: e.member_id ?? null,
  group_id: e.group_id ?? null,
  entry_link_id: e.entry_link_id ?? null,
  channel: e.channel ?? null,
  referrer_member_id: e.referrer_member_id ?? null,
  actor_user_id: e.actor_user_id ?? null,
});

const eventRow = (e: NewEvent, recordedAt: string) => ({
  community_id: e.community_id,
  type: e.type,
  occurred_at: e.occurred_at,
  ...references(e),
  props: encodeJson(e.props ?? {}),
  recorded_at: recordedAt,
});

/** What webhook receivers get as `data`: the event's own fields besides id, type and time. */
const outboxEvent = (id: number, e: NewEvent): OutboxEvent => ({
  id,
  community_id: e.community_id,
  type: e.type,
  occurred_at: e.occurred_at,
  data: { ...references(e), props: e.props ?? {} },
});

/**
 * Appends a domain event. Call it with the transaction that makes the change it records: the
 * webhook outbox rows of the event are written in it too (none, and no query, for a community
 * without webhooks).
 */
export async function insertEvent(trx: Trx | Db, e: NewEvent, recordedAt: string): Promise<void> {
  if (await wantsDeliveries(trx, e.community_id)) {
    const { id } = await trx.insertInto('events').values(eventRow(e, recordedAt)).returning('id').executeTakeFirstOrThrow();
    await enqueueDeliveries(trx, [outboxEvent(Number(id), e)], recordedAt);
  } else {
    await trx.insertInto('events').values(eventRow(e, recordedAt)).execute();
  }
  await markRollupHours(trx, e.community_id, [e.occurred_at]);
}

/** The UTC hour of an instant, 'YYYY-MM-DDTHH': the grain at which rollups are marked stale. */
export const utcHourOf = (iso: string) => new Date(iso).toISOString().slice(0, 13);

/**
 * Marks the rollups of the UTC hours of these instants stale, in the caller's transaction (call it
 * wherever events are appended). Zone-free, so it needs no lookup; `refreshRollups` maps each hour
 * to the local days it touches. On PostgreSQL the writing transaction's id is part of the key: a
 * mark is never absorbed by an older row that a refresh is claiming concurrently.
 */
export async function markRollupHours(trx: Trx | Db, communityId: string, instants: readonly string[]): Promise<void> {
  const hours = [...new Set(instants.map(utcHourOf))];
  if (!hours.length) return;
  const tx = isPostgres(trx) ? sql<number>`txid_current()` : sql<number>`0`;
  for (const chunk of statementChunks(hours, APPEND_ROWS_PER_STATEMENT)) {
    await trx
      .insertInto('analytics_dirty')
      .values(chunk.map((hour) => ({ community_id: communityId, hour, tx })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

/** Asks for a full rebuild of a community's rollups (its time zone or currency changed). */
export async function markRollupsForRebuild(trx: Trx | Db, communityId: string): Promise<void> {
  await trx.insertInto('analytics_dirty').values({ community_id: communityId, hour: '*', tx: 0 }).onConflict((oc) => oc.doNothing()).execute();
}

export async function listEvents(
  db: Db,
  communityId: string,
  q: { after_id: number; limit: number; type?: string | undefined; member_id?: string | undefined },
) {
  let query = db
    .selectFrom('events')
    .selectAll()
    .where('community_id', '=', communityId)
    .where('id', '>', q.after_id)
    .orderBy('id')
    .limit(q.limit);
  if (q.type) query = query.where('type', '=', q.type);
  if (q.member_id) query = query.where('member_id', '=', q.member_id);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    type: r.type,
    occurred_at: r.occurred_at,
    member_id: r.member_id,
    group_id: r.group_id,
    entry_link_id: r.entry_link_id,
    channel: r.channel,
    referrer_member_id: r.referrer_member_id,
    actor_user_id: r.actor_user_id,
    props: json<Record<string, unknown>>(r.props),
  }));
}


/** Rows per INSERT of `appendEvents`: 11 parameters each, within SQLite's 32,766 and pg's 65,535. */
export const APPEND_ROWS_PER_STATEMENT = 1000;

/**
 * Appends many domain events (an import, a batch from a chat platform) with multi-row INSERTs, in
 * the order given, and marks the rollup hours they touch stale, as `insertEvent` does for one.
 * Call it inside the transaction that makes the change they record.
 */
export async function appendEvents(trx: Trx | Db, events: readonly NewEvent[], recordedAt: string): Promise<void> {
  const communities = [...new Set(events.map((e) => e.community_id))];
  const outbox = new Set<string>();
  for (const c of communities) if (await wantsDeliveries(trx, c)) outbox.add(c);
  for (const chunk of statementChunks(events, APPEND_ROWS_PER_STATEMENT)) {
    const rows = chunk.map((e) => eventRow(e, recordedAt));
    if (!chunk.some((e) => outbox.has(e.community_id))) {
      await trx.insertInto('events').values(rows).execute();
      continue;
    }
    // Ids are drawn in VALUES order within one statement (SQLite's rowid, PostgreSQL's sequence),
    // while RETURNING promises no order: sorted, they pair with the chunk's events.
    const ids = (await trx.insertInto('events').values(rows).returning('id').execute()).map((r) => Number(r.id)).sort((a, b) => a - b);
    const due = chunk.flatMap((e, j) => (outbox.has(e.community_id) ? [outboxEvent(ids[j]!, e)] : []));
    await enqueueDeliveries(trx, due, recordedAt);
  }
  const byCommunity = new Map<string, string[]>();
  for (const e of events) {
    let instants = byCommunity.get(e.community_id);
    if (!instants) byCommunity.set(e.community_id, (instants = []));
    instants.push(e.occurred_at);
  }
  for (const [communityId, instants] of byCommunity) await markRollupHours(trx, communityId, instants);
}

/**
 * Claims idempotency keys of outside events (imports, the ingest API) in `source` and returns the
 * ones that were new: only their events should be written, in the same transaction, so that a
 * repeated import or a retried batch adds nothing twice.
 */
export async function claimEventKeys(trx: Trx | Db, communityId: string, source: string, keys: readonly string[], at: string): Promise<Set<string>> {
  const fresh = new Set<string>();
  const unique = [...new Set(keys)];
  for (const chunk of statementChunks(unique, APPEND_ROWS_PER_STATEMENT)) {
    const rows = chunk.map((key) => ({ community_id: communityId, source, key, created_at: at }));
    const claimed = await trx.insertInto('event_keys').values(rows).onConflict((oc) => oc.doNothing()).returning('key').execute();
    for (const r of claimed) fresh.add(r.key);
  }
  return fresh;
}

/** Gives back keys claimed in this transaction for events that were then not written (rejected on checks made after the claim). */
export async function releaseEventKeys(trx: Trx | Db, communityId: string, source: string, keys: readonly string[]): Promise<void> {
  for (const chunk of statementChunks(keys, APPEND_ROWS_PER_STATEMENT)) {
    await trx.deleteFrom('event_keys').where('community_id', '=', communityId).where('source', '=', source).where('key', 'in', chunk).execute();
  }
}
