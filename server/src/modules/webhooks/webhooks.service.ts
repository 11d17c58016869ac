import type { CreateWebhook, UpdateWebhook } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { AppError, notFound } from '../../lib/errors.js';
import { newId, secretToken } from '../../lib/ids.js';
import {
  attemptsOf,
  deleteSubscription,
  eventPublicId,
  findDelivery,
  findSubscription,
  forgetWebhookCache,
  insertRedelivery,
  insertSubscription,
  listDeliveries,
  listSubscriptions,
  replaceSubscriptionTypes,
  updateSubscription,
  type AttemptRow,
  type DeliveryRow,
  type WebhookRow,
} from './webhooks.repo.js';

export const presentWebhook = (r: WebhookRow) => ({
  id: r.id,
  url: r.url,
  description: r.description,
  event_types: JSON.parse(r.event_types) as string[],
  status: r.status as 'active' | 'disabled',
  disabled_reason: r.disabled_reason,
  failed_deliveries_in_a_row: Number(r.failed_deliveries_in_a_row),
  created_at: r.created_at,
  updated_at: r.updated_at,
});

const presentDelivery = (d: DeliveryRow, log: AttemptRow[]) => ({
  id: d.id,
  webhook_id: d.subscription_id,
  event_id: eventPublicId(d.event_id),
  event_type: d.event_type,
  status: d.status as 'pending' | 'succeeded' | 'failed',
  attempts: Number(d.attempts),
  next_attempt_at: d.status === 'pending' ? d.next_attempt_at : null,
  last_status_code: d.last_status_code === null ? null : Number(d.last_status_code),
  last_error: d.last_error,
  created_at: d.created_at,
  delivered_at: d.delivered_at,
  log: log.map((a) => ({
    attempt: Number(a.attempt),
    status_code: a.status_code === null ? null : Number(a.status_code),
    error: a.error,
    duration_ms: Number(a.duration_ms),
    attempted_at: a.attempted_at,
    next_attempt_at: a.next_attempt_at,
  })),
});

/** `*` alone means every type; with others it would be ambiguous to read back. */
const normalizeTypes = (types: string[]) => (types.includes('*') ? ['*'] : [...new Set(types)].sort());

/** The signing secret is returned once; the server keeps it to sign (it cannot be hashed). */
export async function createWebhook(deps: Deps, communityId: string, input: CreateWebhook) {
  const at = deps.clock.now().toISOString();
  const secret = `whsec_${secretToken()}`;
  const types = normalizeTypes(input.event_types);
  const row: WebhookRow = {
    id: newId('whk'),
    community_id: communityId,
    url: input.url,
    description: input.description ?? null,
    event_types: JSON.stringify(types),
    secret,
    status: 'active',
    disabled_reason: null,
    failed_deliveries_in_a_row: 0,
    created_at: at,
    updated_at: at,
  };
  await deps.db.transaction().execute((trx) => insertSubscription(trx, row, types));
  forgetWebhookCache(communityId);
  return { webhook: presentWebhook(row), secret };
}

export const listWebhooks = async (deps: Deps, communityId: string) => (await listSubscriptions(deps.db, communityId)).map(presentWebhook);

export async function getWebhook(deps: Deps, communityId: string, id: string) {
  const row = await findSubscription(deps.db, communityId, id);
  if (!row) throw notFound('webhook');
  return presentWebhook(row);
}

export async function updateWebhook(deps: Deps, communityId: string, id: string, input: UpdateWebhook) {
  const at = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    const row = await findSubscription(trx, communityId, id);
    if (!row) throw notFound('webhook');
    const patch: Parameters<typeof updateSubscription>[3] = { updated_at: at };
    if (input.url !== undefined) patch.url = input.url;
    if (input.description !== undefined) patch.description = input.description;
    if (input.event_types) {
      const types = normalizeTypes(input.event_types);
      patch.event_types = JSON.stringify(types);
      await replaceSubscriptionTypes(trx, communityId, id, types);
    }
    if (input.status === 'active' && row.status !== 'active') Object.assign(patch, { status: 'active', disabled_reason: null, failed_deliveries_in_a_row: 0 });
    if (input.status === 'disabled' && row.status !== 'disabled') Object.assign(patch, { status: 'disabled', disabled_reason: 'disabled by staff' });
    await updateSubscription(trx, communityId, id, patch);
  });
  forgetWebhookCache(communityId);
  return getWebhook(deps, communityId, id);
}

export async function removeWebhook(deps: Deps, communityId: string, id: string) {
  const removed = await deps.db.transaction().execute((trx) => deleteSubscription(trx, communityId, id));
  if (!removed) throw notFound('webhook');
  forgetWebhookCache(communityId);
}

export async function webhookDeliveries(deps: Deps, communityId: string, id: string, q: { status?: string | undefined; limit: number }) {
  if (!(await findSubscription(deps.db, communityId, id))) throw notFound('webhook');
  const rows = await listDeliveries(deps.db, communityId, id, q);
  const logs = await attemptsOf(deps.db, rows.map((r) => r.id));
  return rows.map((r) => presentDelivery(r, logs.get(r.id) ?? []));
}

/** Sends a delivery's event again, as a new delivery (a new `Yutang-Delivery` id, the same event id and body). */
export async function redeliver(deps: Deps, communityId: string, webhookId: string, deliveryId: string) {
  const at = deps.clock.now().toISOString();
  const id = await deps.db.transaction().execute(async (trx) => {
    const sub = await findSubscription(trx, communityId, webhookId);
    if (!sub) throw notFound('webhook');
    const d = await findDelivery(trx, communityId, webhookId, deliveryId);
    if (!d) throw notFound('webhook_delivery');
    if (sub.status !== 'active') throw new AppError('invalid_state', 409, 'The webhook is disabled; enable it first');
    return insertRedelivery(trx, d, at);
  });
  return presentDelivery((await findDelivery(deps.db, communityId, webhookId, id))!, []);
}
