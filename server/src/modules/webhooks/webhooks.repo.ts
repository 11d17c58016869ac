import type { Selectable } from 'kysely';
import type { Db, Trx } from '../../db/kysely.js';
import type { WebhookAttemptsTable, WebhookDeliveriesTable, WebhookSubscriptionsTable } from '../../db/types.js';
import { newId } from '../../lib/ids.js';

export type WebhookRow = Selectable<WebhookSubscriptionsTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;
export type AttemptRow = Selectable<WebhookAttemptsTable>;

/** An event as the outbox needs it: its id in the log and the body receivers get. */
export interface OutboxEvent {
  id: number;
  community_id: string;
  type: string;
  occurred_at: string;
  data: Record<string, unknown>;
}

/** Rows per INSERT of deliveries: 10 parameters each, well within both dialects' limits. */
const DELIVERY_ROWS_PER_STATEMENT = 500;

/**
 * Whether a community has an active subscription, cached for CACHE_MS per process. This keeps the
 * event hot path free of any extra query for the (usual) community without webhooks: the
 * alternative, one INSERT…SELECT per written event, costs a statement on every event. The service
 * forgets a community's entry when its subscriptions change, so on this node a change applies to
 * the next event; on other nodes of a multi-node install within CACHE_MS (docs/webhooks.md).
 */
const CACHE_MS = 5_000;
const activeCache = new Map<string, { has: boolean; until: number }>();

export function forgetWebhookCache(communityId: string) {
  activeCache.delete(communityId);
}

async function hasActiveSubscription(trx: Trx | Db, communityId: string): Promise<boolean> {
  const now = Date.now();
  const hit = activeCache.get(communityId);
  if (hit && hit.until > now) return hit.has;
  const row = await trx
    .selectFrom('webhook_subscriptions')
    .select('id')
    .where('community_id', '=', communityId)
    .where('status', '=', 'active')
    .limit(1)
    .executeTakeFirst();
  if (activeCache.size > 10_000) activeCache.clear();
  activeCache.set(communityId, { has: !!row, until: now + CACHE_MS });
  return !!row;
}

/** Whether events of this community need their ids back, for `enqueueDeliveries` (no query when cached). */
export const wantsDeliveries = hasActiveSubscription;

/**
 * The outbox: one pending delivery per (matching active subscription, event), written with the
 * caller's transaction, so a delivery exists exactly when its event was committed.
 */
export async function enqueueDeliveries(trx: Trx | Db, events: readonly OutboxEvent[], at: string): Promise<void> {
  const byCommunity = new Map<string, OutboxEvent[]>();
  for (const e of events) {
    let list = byCommunity.get(e.community_id);
    if (!list) byCommunity.set(e.community_id, (list = []));
    list.push(e);
  }
  for (const [communityId, list] of byCommunity) {
    const types = [...new Set(list.map((e) => e.type)), '*'];
    const subs = await trx
      .selectFrom('webhook_subscription_types as t')
      .innerJoin('webhook_subscriptions as s', 's.id', 't.subscription_id')
      .select(['t.subscription_id', 't.event_type'])
      .where('t.community_id', '=', communityId)
      .where('t.event_type', 'in', types)
      .where('s.status', '=', 'active')
      .execute();
    if (!subs.length) continue;
    const rows = [];
    for (const e of list) {
      const targets = new Set(subs.filter((s) => s.event_type === '*' || s.event_type === e.type).map((s) => s.subscription_id));
      if (!targets.size) continue;
      const payload = JSON.stringify({ id: eventPublicId(e.id), type: e.type, occurred_at: e.occurred_at, community_id: communityId, data: e.data });
      for (const subscriptionId of targets) rows.push(newDelivery(communityId, subscriptionId, e.id, e.type, payload, at));
    }
    for (let i = 0; i < rows.length; i += DELIVERY_ROWS_PER_STATEMENT) {
      await trx.insertInto('webhook_deliveries').values(rows.slice(i, i + DELIVERY_ROWS_PER_STATEMENT)).execute();
    }
  }
}

/** The event id receivers see: stable across deliveries and redeliveries of one event. */
export const eventPublicId = (id: number | string) => `evt_${id}`;

const newDelivery = (communityId: string, subscriptionId: string, eventId: number, type: string, payload: string, at: string) => ({
  id: newId('whd'),
  community_id: communityId,
  subscription_id: subscriptionId,
  event_id: eventId,
  event_type: type,
  payload,
  status: 'pending',
  attempts: 0,
  next_attempt_at: at,
  locked_until: null,
  last_status_code: null,
  last_error: null,
  created_at: at,
  delivered_at: null,
  updated_at: at,
});

export async function insertSubscription(trx: Trx, row: WebhookRow, types: readonly string[]) {
  await trx.insertInto('webhook_subscriptions').values(row).execute();
  await replaceSubscriptionTypes(trx, row.community_id, row.id, types);
}

export async function replaceSubscriptionTypes(trx: Trx, communityId: string, subscriptionId: string, types: readonly string[]) {
  await trx.deleteFrom('webhook_subscription_types').where('subscription_id', '=', subscriptionId).execute();
  await trx
    .insertInto('webhook_subscription_types')
    .values([...new Set(types)].map((event_type) => ({ community_id: communityId, event_type, subscription_id: subscriptionId })))
    .execute();
}

export const findSubscription = (db: Db | Trx, communityId: string, id: string) =>
  db.selectFrom('webhook_subscriptions').selectAll().where('community_id', '=', communityId).where('id', '=', id).executeTakeFirst();

export const listSubscriptions = (db: Db, communityId: string) =>
  db.selectFrom('webhook_subscriptions').selectAll().where('community_id', '=', communityId).orderBy('created_at').orderBy('id').execute();

export async function updateSubscription(trx: Trx, communityId: string, id: string, patch: Partial<Omit<WebhookRow, 'id' | 'community_id' | 'created_at'>>) {
  await trx.updateTable('webhook_subscriptions').set(patch).where('community_id', '=', communityId).where('id', '=', id).execute();
}

export async function deleteSubscription(trx: Trx, communityId: string, id: string): Promise<boolean> {
  const owned = await findSubscription(trx, communityId, id);
  if (!owned) return false;
  // Children first: SQLite enforces the foreign keys without ON DELETE CASCADE when they are off.
  const deliveries = trx.selectFrom('webhook_deliveries').select('id').where('subscription_id', '=', id);
  await trx.deleteFrom('webhook_attempts').where('delivery_id', 'in', deliveries).execute();
  await trx.deleteFrom('webhook_deliveries').where('subscription_id', '=', id).execute();
  await trx.deleteFrom('webhook_subscription_types').where('subscription_id', '=', id).execute();
  await trx.deleteFrom('webhook_subscriptions').where('id', '=', id).execute();
  return true;
}

export async function listDeliveries(db: Db, communityId: string, subscriptionId: string, q: { status?: string | undefined; limit: number }) {
  let query = db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('community_id', '=', communityId)
    .where('subscription_id', '=', subscriptionId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(q.limit);
  if (q.status) query = query.where('status', '=', q.status);
  return query.execute();
}

export async function attemptsOf(db: Db, deliveryIds: readonly string[]): Promise<Map<string, AttemptRow[]>> {
  const out = new Map<string, AttemptRow[]>();
  if (!deliveryIds.length) return out;
  const rows = await db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', [...deliveryIds]).orderBy('attempt').execute();
  for (const r of rows) {
    let list = out.get(r.delivery_id);
    if (!list) out.set(r.delivery_id, (list = []));
    list.push(r);
  }
  return out;
}

export const findDelivery = (db: Db | Trx, communityId: string, subscriptionId: string, id: string) =>
  db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('community_id', '=', communityId)
    .where('subscription_id', '=', subscriptionId)
    .where('id', '=', id)
    .executeTakeFirst();

/** A manual redelivery: a new delivery (new id) of the same event and body, due now. */
export async function insertRedelivery(trx: Trx, d: DeliveryRow, at: string): Promise<string> {
  const row = newDelivery(d.community_id, d.subscription_id, Number(d.event_id), d.event_type, d.payload, at);
  await trx.insertInto('webhook_deliveries').values(row).execute();
  return row.id;
}

// ---- dispatcher ----

export interface DueDelivery {
  id: string;
  community_id: string;
  subscription_id: string;
  payload: string;
  attempts: number;
  created_at: string;
  url: string;
  secret: string;
}

/** Pending deliveries of active subscriptions that are due and not leased by a live dispatcher. */
export const findDueDeliveries = (db: Db, now: string, limit: number): Promise<DueDelivery[]> =>
  db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_subscriptions as s', 's.id', 'd.subscription_id')
    .select(['d.id', 'd.community_id', 'd.subscription_id', 'd.payload', 'd.attempts', 'd.created_at', 's.url', 's.secret'])
    .where('d.status', '=', 'pending')
    .where('s.status', '=', 'active')
    .where('d.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('d.locked_until', 'is', null), eb('d.locked_until', '<=', now)]))
    .orderBy('d.next_attempt_at')
    .orderBy('d.id')
    .limit(limit)
    .execute();

/**
 * Leases a due delivery until `lockedUntil` with one conditional UPDATE: of two dispatchers (two
 * nodes, or one that restarted while the other's lease ran), exactly one sees a row updated.
 */
export async function leaseDelivery(db: Db, id: string, attempts: number, now: string, lockedUntil: string): Promise<boolean> {
  const res = await db
    .updateTable('webhook_deliveries')
    .set({ locked_until: lockedUntil })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('attempts', '=', attempts)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export interface AttemptOutcome {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: string;
  /** 'succeeded', 'failed' (gave up), or 'pending' with `nextAttemptAt`. */
  status: 'succeeded' | 'failed' | 'pending';
  nextAttemptAt: string | null;
}

/**
 * Records an attempt made under the lease `(attempts, lockedUntil)`; returns false (and records
 * nothing) when the lease was lost meanwhile, so an attempt is counted once.
 */
export async function recordAttempt(trx: Trx, d: DueDelivery, lockedUntil: string, o: AttemptOutcome): Promise<boolean> {
  const res = await trx
    .updateTable('webhook_deliveries')
    .set({
      status: o.status,
      attempts: d.attempts + 1,
      next_attempt_at: o.nextAttemptAt,
      locked_until: null,
      last_status_code: o.statusCode,
      last_error: o.error,
      delivered_at: o.status === 'succeeded' ? o.at : null,
      updated_at: o.at,
    })
    .where('id', '=', d.id)
    .where('attempts', '=', d.attempts)
    .where('locked_until', '=', lockedUntil)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) return false;
  await trx
    .insertInto('webhook_attempts')
    .values({
      id: newId('wha'),
      community_id: d.community_id,
      delivery_id: d.id,
      attempt: d.attempts + 1,
      status_code: o.statusCode,
      error: o.error,
      duration_ms: Math.round(o.durationMs),
      attempted_at: o.at,
      next_attempt_at: o.nextAttemptAt,
    })
    .execute();
  return true;
}

export async function resetFailedInARow(trx: Trx, subscriptionId: string) {
  await trx.updateTable('webhook_subscriptions').set({ failed_deliveries_in_a_row: 0 }).where('id', '=', subscriptionId).where('failed_deliveries_in_a_row', '>', 0).execute();
}

/** Counts a delivery that was given up on; disables the subscription at `limit` in a row. Returns whether it did. */
export async function countFailedDelivery(trx: Trx, subscriptionId: string, limit: number, at: string): Promise<boolean> {
  await trx
    .updateTable('webhook_subscriptions')
    .set((eb) => ({ failed_deliveries_in_a_row: eb('failed_deliveries_in_a_row', '+', 1), updated_at: at }))
    .where('id', '=', subscriptionId)
    .execute();
  const res = await trx
    .updateTable('webhook_subscriptions')
    .set({ status: 'disabled', disabled_reason: `${limit} deliveries in a row failed`, updated_at: at })
    .where('id', '=', subscriptionId)
    .where('status', '=', 'active')
    .where('failed_deliveries_in_a_row', '>=', limit)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
