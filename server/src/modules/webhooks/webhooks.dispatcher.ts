import type { Deps } from '../../lib/deps.js';
import { countFailedDelivery, findDueDeliveries, leaseDelivery, recordAttempt, resetFailedInARow, type AttemptOutcome, type DueDelivery } from './webhooks.repo.js';
import { forgetWebhookCache } from './webhooks.repo.js';
import { signWebhook } from './webhooks.signature.js';

/** How long a receiver has to answer. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Retries go on for this long after the event; then the delivery is `failed`. */
export const WEBHOOK_RETRY_WINDOW_MS = 24 * 3600_000;
/** Deliveries given up on in a row (each after a day of retries) that disable a subscription. */
export const DISABLE_AFTER_FAILED_DELIVERIES = 5;
/** A lease outlives the timeout by a margin, so a slow attempt is not sent again by another node meanwhile. */
const LEASE_MS = 60_000;
const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 3600_000;

/**
 * Delay before attempt `n + 1` after `n` failed ones: 30 s doubling up to an hour, with "equal
 * jitter" (half fixed, half random) so that receivers coming back up are not hit by every retry at once.
 */
export function backoffMs(failedAttempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export interface DispatchReport {
  attempted: number;
  succeeded: number;
  retrying: number;
  failed: number;
  disabled: number;
}

export interface DispatchOptions {
  /** Deliveries claimed per run. */
  limit?: number;
  /** For tests: `fetch` to use. */
  fetch?: typeof fetch;
  userAgent?: string;
}

/**
 * One dispatcher run: lease the due deliveries, POST each (signed, with its delivery id), and
 * record the outcome. At-least-once: a delivery is sent again only when its attempt was not
 * recorded (a crash or lost lease between the POST and the record), and carries the same
 * `Yutang-Delivery` id then, so a receiver that dedupes on it sees each delivery once.
 */
export async function dispatchWebhooks(deps: Deps, opts: DispatchOptions = {}): Promise<DispatchReport> {
  const report: DispatchReport = { attempted: 0, succeeded: 0, retrying: 0, failed: 0, disabled: 0 };
  const now = deps.clock.now();
  const at = now.toISOString();
  const lockedUntil = new Date(now.getTime() + LEASE_MS).toISOString();
  const due = await findDueDeliveries(deps.db, at, opts.limit ?? 50);
  const leased: DueDelivery[] = [];
  for (const d of due) if (await leaseDelivery(deps.db, d.id, d.attempts, at, lockedUntil)) leased.push(d);
  await Promise.all(
    leased.map(async (d) => {
      const outcome = await attempt(deps, d, opts);
      report.attempted++;
      const recorded = await deps.db.transaction().execute(async (trx) => {
        if (!(await recordAttempt(trx, d, lockedUntil, outcome))) return false;
        if (outcome.status === 'succeeded') await resetFailedInARow(trx, d.subscription_id);
        if (outcome.status === 'failed' && (await countFailedDelivery(trx, d.subscription_id, DISABLE_AFTER_FAILED_DELIVERIES, outcome.at))) {
          report.disabled++;
          return 'disabled';
        }
        return true;
      });
      if (recorded === 'disabled') forgetWebhookCache(d.community_id);
      if (!recorded) return;
      report[outcome.status === 'succeeded' ? 'succeeded' : outcome.status === 'failed' ? 'failed' : 'retrying']++;
    }),
  );
  return report;
}

async function attempt(deps: Deps, d: DueDelivery, opts: DispatchOptions): Promise<AttemptOutcome> {
  const sentAt = deps.clock.now();
  const headers = {
    'content-type': 'application/json',
    'user-agent': opts.userAgent ?? 'Yutang-Webhooks/1',
    'yutang-delivery': d.id,
    'yutang-signature': signWebhook(d.secret, d.payload, Math.floor(sentAt.getTime() / 1000)),
  };
  const started = performance.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    const res = await (opts.fetch ?? fetch)(d.url, { method: 'POST', headers, body: d.payload, redirect: 'manual', signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
    statusCode = res.status;
    // The answer is not kept: releasing it frees the connection.
    await res.body?.cancel().catch(() => {});
    if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    error = e.name === 'TimeoutError' ? `timed out after ${WEBHOOK_TIMEOUT_MS / 1000} s` : (e.cause?.code ?? e.message).slice(0, 500);
  }
  const durationMs = performance.now() - started;
  const now = deps.clock.now();
  const at = now.toISOString();
  if (!error) return { statusCode, error, durationMs, at, status: 'succeeded', nextAttemptAt: null };
  const deadline = Date.parse(d.created_at) + WEBHOOK_RETRY_WINDOW_MS;
  if (now.getTime() >= deadline) return { statusCode, error, durationMs, at, status: 'failed', nextAttemptAt: null };
  // The last retry lands on the deadline rather than past it.
  const next = Math.min(now.getTime() + backoffMs(d.attempts + 1), deadline);
  return { statusCode, error, durationMs, at, status: 'pending', nextAttemptAt: new Date(next).toISOString() };
}
